"""``carepath rosters plan|publish`` on the configured database (both backends): a day planned (checked by
the independent checker, stored as a draft), then published; unplaced mandatory visits must be acknowledged
by request id, as over the API, and the acknowledgement is audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from dispatch.storage import models as m
from dispatch.cli.app import app
from dispatch.storage.db import make_engine
from fixtures.seed import load_scenario
from tests.api.conftest import DAY, small_scenario

runner = CliRunner()


@pytest.fixture
def db(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The small API scenario on a migrated database that CAREPATH_DATABASE_URL points at."""
    from dispatch.settings import get_settings

    monkeypatch.setenv("CAREPATH_DATABASE_URL", database_url)
    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    with Session(engine) as s:
        load_scenario(s, small_scenario())
        s.commit()
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def rosters(engine: Any) -> list[tuple[int, str]]:
    with Session(engine) as s:
        return [(r.version, r.status.value) for r in s.exec(select(m.Roster).order_by(m.Roster.version)).all()]


def test_plan_then_publish_from_the_command_line(db) -> None:
    """plan stores draft version 1 and prints the summary; publish makes it the published version (audited)."""
    planned = runner.invoke(app, ["rosters", "plan", DAY.isoformat(), "--time-limit", "1"])
    assert planned.exit_code == 0, planned.output
    assert "draft version 1" in planned.output
    assert rosters(db) == [(1, "draft")]
    published = runner.invoke(app, ["rosters", "publish", DAY.isoformat()])
    assert published.exit_code == 0, published.output
    assert rosters(db) == [(1, "published")]
    with Session(db) as s:
        actors = s.exec(select(m.AuditLog.actor).where(m.AuditLog.action == "roster.publish")).all()
    assert len(actors) == 1 and actors[0].startswith("cli")


def test_unplaced_mandatory_visits_must_be_acknowledged_by_id(db) -> None:
    """A mandatory visit nobody can do (its window is after every shift): publish refuses with the list and
    exit 2; a wrong id is refused too; the right id publishes and is in the audit row."""
    with Session(db) as s:
        s.add(m.VisitRequest(id="R9", senior_id="S2", service="home_care", first_date=DAY,
                             window_start=dt.time(21, 0), window_end=dt.time(22, 0), duration=30, mandatory=True))
        s.commit()
    assert runner.invoke(app, ["rosters", "plan", DAY.isoformat(), "--time-limit", "1"]).exit_code == 0
    refused = runner.invoke(app, ["rosters", "publish", DAY.isoformat()])
    assert refused.exit_code == 2, refused.output
    assert "R9" in refused.output and "--acknowledge R9" in refused.output
    wrong = runner.invoke(app, ["rosters", "publish", DAY.isoformat(), "--acknowledge", "R1"])
    assert wrong.exit_code == 2 and rosters(db) == [(1, "draft")]
    ok = runner.invoke(app, ["rosters", "publish", DAY.isoformat(), "--acknowledge", "R9"])
    assert ok.exit_code == 0, ok.output
    assert rosters(db) == [(1, "published")]
    with Session(db) as s:
        change = s.exec(select(m.AuditLog.changes).where(m.AuditLog.action == "roster.publish")).one()
    assert "R9" in str(change)


def test_bad_dates_and_missing_rosters_are_clear_errors(db) -> None:
    """A malformed date and a day with no roster end with a message and exit code 2."""
    bad = runner.invoke(app, ["rosters", "plan", "2026-13-01"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    none = runner.invoke(app, ["rosters", "publish", "2026-12-02"])
    assert none.exit_code == 2 and "no roster" in none.output


def test_replan_from_the_command_line(db) -> None:
    """``rosters replan DATE --from --unavailable worker:ID@HH:MM``: a new draft from the published version,
    its counts printed, the re-plan audited with the reason; a bad --unavailable or an unknown worker exits 2
    naming it, and a day with nothing published says so."""
    day = DAY.isoformat()
    nothing = runner.invoke(app, ["rosters", "replan", day, "--from", "09:00"])
    assert nothing.exit_code == 2 and "no published roster" in nothing.output
    assert runner.invoke(app, ["rosters", "plan", day, "--time-limit", "1"]).exit_code == 0
    assert runner.invoke(app, ["rosters", "publish", day]).exit_code == 0
    bad = runner.invoke(app, ["rosters", "replan", day, "--unavailable", "worker:W1@8am"])
    assert bad.exit_code == 2 and "unavailable.0.from" in bad.output
    unknown = runner.invoke(app, ["rosters", "replan", day, "--unavailable", "worker:W9@08:00"])
    assert unknown.exit_code == 2 and "unavailable.0.worker_id" in unknown.output and "W9" in unknown.output
    done = runner.invoke(app, ["rosters", "replan", day, "--from", "08:30", "--unavailable", "worker:W1@08:30",
                               "--reason", "sick", "--time-limit", "1"])
    assert done.exit_code == 0, done.output
    assert "published stops" in done.output and "draft version 2" in done.output
    assert rosters(db) == [(1, "published"), (2, "draft")]
    with Session(db) as s:
        row = s.exec(select(m.AuditLog).where(m.AuditLog.action == "roster.replan")).one()
    assert row.actor.startswith("cli") and row.changes["reason"]["new"] == "sick"


def test_plan_week_stores_seven_drafts_and_prints_the_week(db) -> None:
    """plan-week plans Monday to Sunday (seven draft versions, checked before storing) and prints the week's
    report; `rosters week` prints it again; a day that is not a Monday is refused naming the argument."""
    from tests.api.conftest import MON

    planned = runner.invoke(app, ["rosters", "plan-week", MON.isoformat(), "--time-limit", "0.5"])
    assert planned.exit_code == 0, planned.output
    text = " ".join(planned.output.split())  # rich wraps lines at the terminal's width
    assert "19 of 19 visits placed" in text and "0 rest breaches" in text
    assert "Sun 2026-12-06: version 1 (draft), 0 of 0 visits placed" in text
    with Session(db) as s:
        assert sorted(r.date for r in s.exec(select(m.Roster)).all()) == [MON + dt.timedelta(days=i) for i in range(7)]
    shown = runner.invoke(app, ["rosters", "week", MON.isoformat()])
    assert shown.exit_code == 0 and "19 of 19 visits placed" in " ".join(shown.output.split())
    refused = runner.invoke(app, ["rosters", "plan-week", DAY.isoformat()])
    assert refused.exit_code != 0
    assert "MONDAY: 2026-12-01 is a Tuesday, not a Monday" in " ".join(refused.output.split())
    assert len(rosters(db)) == 7


@pytest.mark.parametrize("args", [["plan", DAY.isoformat()], ["plan-week", "2026-11-30"]])
def test_an_unreadable_weights_file_is_named_and_nothing_is_planned(db, tmp_path: Path, monkeypatch, args) -> None:
    """Every planning command reads the weights file the same way: a broken one is a message naming the
    file, exit code 2 (bad input), and no roster stored."""
    from dispatch.settings import get_settings

    bad = tmp_path / "weights.toml"
    bad.write_text("[weights]\ntravel_minute = 'many'\n")
    monkeypatch.setenv("CAREPATH_WEIGHTS_FILE", str(bad))
    get_settings.cache_clear()
    r = runner.invoke(app, ["rosters", *args])
    assert r.exit_code == 2, r.output
    assert "weights file" in r.output and str(bad) in "".join(r.output.split())  # rich wraps long lines
    with Session(db) as s:
        assert s.exec(select(m.Roster)).all() == []
