"""``carepath decisions``, ``care-plans``, ``intake-rules`` and ``senior-absences`` on the configured
database (both backends): the same use cases as the API, "now" from ``dispatch.clock.cli_clock``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from dispatch.storage import models as m
from dispatch.storage.care_models import IntakeRule
from dispatch.cli.app import app
from dispatch.storage.db import make_engine
from fixtures.seed import load_scenario
from tests.api.conftest import small_scenario

runner = CliRunner()


@pytest.fixture
def db(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """CAREPATH_DATABASE_URL points at a migrated database holding the API tests' small scenario."""
    from dispatch.settings import get_settings

    monkeypatch.delenv("CAREPATH_GEOCODER", raising=False)
    monkeypatch.setenv("CAREPATH_DATABASE_URL", database_url)
    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    with Session(engine) as session:
        load_scenario(session, small_scenario())
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def said(result: Any) -> str:
    """The output with the console's line wrapping undone."""
    return " ".join(result.output.split())


def test_a_plan_is_entered_and_expanded_from_the_command_line(db) -> None:
    """care-plans add with two lines, an absence, then expand: absences skipped, twice creates nothing."""
    added = run("care-plans", "add", "S2", "home_care", "--line", "Mon-Fri 07:30-09:00 hygiene 60 min",
                "--line", "daily 17:00-19:00 evening care 45 min", "--from", "2026-12-01", "--to", "2026-12-31")
    assert added.exit_code == 0, added.output
    plan_id = added.output.split()[3]
    assert run("senior-absences", "add", "S2", "--from", "2026-12-09", "--to", "2026-12-10",
               "--reason", "hospital").exit_code == 0
    first = run("care-plans", "expand", plan_id, "--from", "2026-12-07", "--to", "2026-12-13")
    assert first.exit_code == 0, first.output
    # Mon-Fri minus Wed and Thu: 3 hygiene visits; daily minus 2 days: 5 evening visits.
    assert "created 8 visit request(s)" in said(first) and "skipped: 2 absence" in said(first)
    second = run("care-plans", "expand", plan_id, "--from", "2026-12-07", "--to", "2026-12-13")
    assert "created 0 visit request(s)" in said(second) and "8 already expanded" in said(second)
    with Session(db) as session:
        assert len(session.exec(select(m.VisitRequest).where(m.VisitRequest.senior_id == "S2")).all()) == 1 + 8


def test_decisions_import_prints_problems_by_line_and_budgets_bind(db, tmp_path: Path) -> None:
    """A bad line is printed with its number and exit code 2; a stored weekly budget then refuses an expansion
    over it with the rule's numbers (exit code 2), and --override-reason accepts it."""
    header = "senior_id;service;reference;unit;amount;period;valid_from;valid_to"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(("\ufeff" + header + "\r\nS3;home_care;X;hours;abc;week;2026-01-01;2027-12-31\r\n").encode())
    refused = run("decisions", "import", str(bad))
    assert refused.exit_code == 2 and "line 2, amount" in said(refused)
    good = tmp_path / "good.csv"
    good.write_bytes(("\ufeff" + header + "\r\nS3;home_care;MOPR-OP.8221.9.2026;hours;3;week;2026-01-01;"
                      "2027-12-31\r\n").encode())
    assert run("decisions", "import", str(good)).exit_code == 0
    added = run("care-plans", "add", "S3", "home_care", "--line", "Sat-Sun 10:00-12:00 walk 60 min",
                "--from", "2026-12-01", "--to", "2026-12-31")
    plan_id = added.output.split()[3]
    over = run("care-plans", "expand", plan_id, "--from", "2026-12-07", "--to", "2026-12-13")
    assert over.exit_code == 2
    assert "2.5 of 3 hours used in the week of 2026-12-07" in said(over)
    forced = run("care-plans", "expand", plan_id, "--from", "2026-12-07", "--to", "2026-12-13",
                 "--override-reason", "family away this weekend")
    assert forced.exit_code == 0 and "created 2 visit request(s)" in said(forced)


def test_intake_rules_are_shown_and_set(db) -> None:
    """The taxi's seeded Kielce rules are listed; set replaces a service's rules."""
    shown = run("intake-rules", "show")
    assert shown.exit_code == 0 and "taxi" in shown.output
    assert run("intake-rules", "set", "home_care", "--month-quota", "20", "--days", "Mon-Fri",
               "--hours", "07:00-20:00").exit_code == 0
    with Session(db) as session:
        rule = session.get(IntakeRule, "home_care")
        assert rule is not None and (rule.month_quota, rule.service_days, rule.service_to) == (20, [0, 1, 2, 3, 4],
                                                                                             dt.time(20, 0))
    bad = run("intake-rules", "set", "home_care", "--hours", "20:00-07:00")
    assert bad.exit_code == 2 and "service_to" in said(bad)
