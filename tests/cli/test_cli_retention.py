"""``carepath retention apply [--dry-run]`` on the configured database (SQLite and PostgreSQL): every record
kind past its period goes, everything newer (and what is never pruned) stays, a dry run changes nothing,
and the run is audited.  On PostgreSQL the audit rows go through the append-only trigger's maintenance door."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from dispatch.cli.app import app
from dispatch.storage import models as m
from dispatch.storage.db import make_engine
from fixtures.seed import load_scenario
from tests.api.conftest import small_scenario
from tests.cli.conftest import CLI_NOW

runner = CliRunner()
NOW = CLI_NOW
TODAY = NOW.date()
KINDS = ("audit_log", "checkins", "plan_jobs", "drafts", "idempotency_keys", "login_throttles", "revoked_tokens",
         "schedule_reads", "calendar_tokens")


@pytest.fixture
def db(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The configured database with the small scenario and one old and one fresh record of every kind."""
    from dispatch.settings import get_settings

    monkeypatch.setenv("CAREPATH_DATABASE_URL", database_url)
    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    with Session(engine) as s:
        load_scenario(s, small_scenario())
    with Session(engine) as s:
        _records(s)
        s.commit()
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _roster(s: Session, day: dt.date, status: m.RosterStatus, tag: str) -> m.Roster:
    roster = m.Roster(date=day, status=status, kpis={"tag": tag})
    s.add(roster)
    s.flush()
    at = dt.datetime.combine(day, dt.time(8), dt.UTC)
    s.add(m.RosterAssignment(roster_id=roster.id, worker_id="W1", visit_request_id="R1", occurrence_date=day,
                             sequence=0, arrival=at, start=at, end=at + dt.timedelta(hours=1)))
    return roster


def _records(s: Session) -> None:
    years, days, hours = (lambda n: dt.timedelta(days=366 * n)), (lambda n: dt.timedelta(days=n)), \
        (lambda n: dt.timedelta(hours=n))
    s.add_all([m.AuditLog(at=NOW - years(6), actor="old", action="senior.update", entity="senior", entity_id="S1"),
               m.AuditLog(at=NOW - days(1), actor="fresh", action="senior.update", entity="senior", entity_id="S1")])
    for day, note in ((TODAY - years(6), "old"), (TODAY, "fresh")):
        at = dt.datetime.combine(day, dt.time(8), dt.UTC)
        s.add(m.VisitCheckin(worker_id="W1", visit_request_id="R1", occurrence_date=day, leg="visit",
                             started_at=at, finished_at=at + hours(1), outcome="delivered", note=note))
    old_draft = _roster(s, TODAY - days(40), m.RosterStatus.DRAFT, "old draft")
    _roster(s, TODAY - days(5), m.RosterStatus.DRAFT, "fresh draft")
    _roster(s, TODAY - days(400), m.RosterStatus.PUBLISHED, "old published")
    s.add_all([
        m.PlanJob(id="job-old", date=old_draft.date, status=m.JobStatus.SUCCEEDED, created_by="d",
                  created_at=NOW - days(100), finished_at=NOW - days(100), roster_id=old_draft.id),
        m.PlanJob(id="job-fresh", date=old_draft.date, status=m.JobStatus.SUCCEEDED, created_by="d",
                  created_at=NOW - days(1), finished_at=NOW - days(1), roster_id=old_draft.id),
        m.PlanJob(id="job-running", date=TODAY, status=m.JobStatus.RUNNING, created_by="d", created_at=NOW - days(200)),
    ])
    for key, at in (("old", NOW - days(8)), ("fresh", NOW - hours(1))):
        s.add(m.IdempotencyKey(username="c", key=key, method="POST", path="/x", request_hash="h", status_code=201,
                               created_at=at))
    for key, expires in (("old", NOW - days(2)), ("fresh", NOW + hours(1))):
        s.add(m.LoginThrottle(key=key, kind=m.ThrottleKind.ACCOUNT, account="a", updated_at=NOW, expires_at=expires))
        s.add(m.RevokedToken(jti=key, username="a", expires_at=expires))
    for day in (TODAY - days(100), TODAY):
        s.add(m.ScheduleRead(worker_id="W1", date=day, roster_version=1))
    s.add_all([m.CalendarToken(worker_id="W1", token_hash="old", revoked_at=NOW - days(100)),
               m.CalendarToken(worker_id="W1", token_hash="active")])


def _counts(engine) -> dict[str, int]:
    tables = {"audit_log": m.AuditLog, "checkins": m.VisitCheckin, "plan_jobs": m.PlanJob, "drafts": m.Roster,
              "idempotency_keys": m.IdempotencyKey, "login_throttles": m.LoginThrottle,
              "revoked_tokens": m.RevokedToken, "schedule_reads": m.ScheduleRead, "calendar_tokens": m.CalendarToken}
    with Session(engine) as s:
        return {name: len(s.exec(select(table)).all()) for name, table in tables.items()}


def _out(result) -> str:
    return " ".join(result.output.split())


def test_dry_run_counts_one_old_record_of_each_kind_and_changes_nothing(db) -> None:
    before = _counts(db)
    result = runner.invoke(app, ["retention", "apply", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would delete 9 record(s)" in _out(result)
    for kind in KINDS:
        assert kind in result.output
    assert _counts(db) == before
    with Session(db) as s:
        assert not s.exec(select(m.AuditLog).where(col(m.AuditLog.action) == "retention.apply")).all()


def test_apply_deletes_exactly_what_is_past_its_period_and_is_audited(db) -> None:
    """Old rows go; fresh ones, a running job, the published roster and an active feed token stay; a fresh
    job that made an old draft forgets it; the draft's stops go with it; one audit row with the counts."""
    before = _counts(db)
    result = runner.invoke(app, ["retention", "apply"])
    assert result.exit_code == 0, result.output
    assert "deleted 9 record(s)" in _out(result)
    after = _counts(db)
    assert after == {k: v - 1 for k, v in before.items()} | {"audit_log": before["audit_log"]}  # -1 old, +1 own
    with Session(db) as s:
        actors = [a.actor for a in s.exec(select(m.AuditLog).order_by(m.AuditLog.id))]
        assert "old" not in actors and actors[-2:] == ["fresh", "carepath retention"]
        [own] = s.exec(select(m.AuditLog).where(col(m.AuditLog.action) == "retention.apply")).all()
        assert own.changes["deleted"] == {k: 1 for k in KINDS}
        assert own.changes["periods_days"]["audit_log"] == 5 * 366
        assert [c.note for c in s.exec(select(m.VisitCheckin))] == ["fresh"]
        assert sorted(r.kpis["tag"] for r in s.exec(select(m.Roster))) == ["fresh draft", "old published"]
        assert len(s.exec(select(m.RosterAssignment)).all()) == 2
        jobs = {j.id: j for j in s.exec(select(m.PlanJob))}
        assert set(jobs) == {"job-fresh", "job-running"} and jobs["job-fresh"].roster_id is None
        assert [t.token_hash for t in s.exec(select(m.CalendarToken))] == ["active"]
        assert [k.key for k in s.exec(select(m.IdempotencyKey))] == ["fresh"]
    again = runner.invoke(app, ["retention", "apply"])
    assert again.exit_code == 0 and "deleted 0 record(s)" in _out(again)


def test_a_period_of_zero_keeps_that_kind_for_ever(db, monkeypatch: pytest.MonkeyPatch) -> None:
    from dispatch.settings import get_settings

    monkeypatch.setenv("CAREPATH_RETENTION_AUDIT_LOG_DAYS", "0")
    monkeypatch.setenv("CAREPATH_RETENTION_CHECKINS_DAYS", "0")
    get_settings.cache_clear()
    result = runner.invoke(app, ["retention", "apply"])
    assert result.exit_code == 0 and "deleted 7 record(s)" in _out(result)
    assert "for ever" in result.output
    with Session(db) as s:
        assert len(s.exec(select(m.VisitCheckin)).all()) == 2
        assert "old" in [a.actor for a in s.exec(select(m.AuditLog))]
