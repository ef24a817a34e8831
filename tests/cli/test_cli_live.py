"""``carepath rosters diff`` and ``carepath recommend`` on the configured database (both backends)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session
from typer.testing import CliRunner

from dispatch.storage import models as m
from dispatch.cli.app import app
from tests.api.conftest import DAY
from tests.cli.test_cli_rosters import db  # noqa: F401 - the fixture

runner = CliRunner()


def test_diff_and_recommend_from_the_command_line(db) -> None:  # noqa: F811
    assert runner.invoke(app, ["rosters", "plan", DAY.isoformat(), "--time-limit", "1"]).exit_code == 0
    assert runner.invoke(app, ["rosters", "publish", DAY.isoformat()]).exit_code == 0
    assert runner.invoke(app, ["rosters", "plan", DAY.isoformat(), "--time-limit", "1"]).exit_code == 0
    diff = runner.invoke(app, ["rosters", "diff", DAY.isoformat()])
    assert diff.exit_code == 0, diff.output
    assert "version 1 -> version 2" in diff.output and "Tell:" in diff.output
    missing = runner.invoke(app, ["rosters", "diff", DAY.isoformat(), "--from", "9"])
    assert missing.exit_code == 2 and "no version 9" in missing.output
    with Session(db) as s:
        s.add(m.VisitRequest(id="R9", senior_id="S3", service="home_care", first_date=DAY,
                             window_start=dt.time(12, 0), window_end=dt.time(14, 0), duration=30))
        s.commit()
    rec = runner.invoke(app, ["recommend", DAY.isoformat(), "--request", "R9", "--top", "2"])
    assert rec.exit_code == 0, rec.output
    assert "against version 2" in rec.output and "1. W" in rec.output
    ride = runner.invoke(app, ["recommend", DAY.isoformat(), "--request", "R4"])
    assert ride.exit_code == 2 and "rides" in ride.output
