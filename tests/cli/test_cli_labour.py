"""``carepath import workers``: the labour rules at entry from the command line (both backends): a row
breaking the 11 h daily rest is refused by line and weekday column with the rule, exit code 2, nothing
stored; a row over the contract's weekly hours goes in with a printed warning."""

from __future__ import annotations

from pathlib import Path

from dispatch.cli.app import app
from dispatch.storage import models as m
from tests.cli.test_cli_imports import PLACES, count, db, runner, write  # noqa: F401 - db is a fixture

HEADER = ("id;first_name;last_name;gender;kind;skills;contract;weekly_hours;home_area;home_lat;home_lon;travel_mode;"
          "shift_mon;shift_tue")


def test_cli_import_refuses_a_rest_breach_and_prints_hour_warnings(db, tmp_path: Path) -> None:
    """Monday 12:00-20:01 then Tuesday 07:00 (10 h 59 min of rest) is refused under shift_mon; 16 h a
    week on a 10 h part-time contract is stored, with the warning printed."""
    assert runner.invoke(app, ["import", "places", str(write(tmp_path / "p.csv", *PLACES))]).exit_code == 0
    bad = write(tmp_path / "w.csv", HEADER, "w-1;Anna;Nowak;F;carer;;etat_podstawowy;40;area-centrum;50,871;20,629;"
                                            "walk;12:00-20:01;07:00-15:00")
    result = runner.invoke(app, ["import", "workers", str(bad)])
    assert result.exit_code == 2, result.output
    assert "line 2, shift_mon: daily rest (art. 132 KP)" in result.output and "10 h 59 min" in result.output
    assert count(db, m.Worker) == 0
    good = write(tmp_path / "w2.csv", HEADER, "w-1;Anna;Nowak;F;carer;;etat_czesc;10;area-centrum;50,871;20,629;"
                                              "walk;07:00-15:00;07:00-15:00")
    result = runner.invoke(app, ["import", "workers", str(good)])
    assert result.exit_code == 0, result.output
    assert "warning: line 2: weekly_hours: weekly hours: the shifts add up to 16 h a week" in result.output
    assert count(db, m.Worker) == 1
