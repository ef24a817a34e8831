"""Retention: each kind of record is deleted once it is older than its period in the settings.

RODO art. 5(1)(e) (storage limitation): personal data are kept no longer than needed.  One
period per record kind, in days (``CAREPATH_RETENTION_<KIND>_DAYS``, ``dispatch.settings``; 0
keeps the kind for ever); ``carepath retention apply [--dry-run]`` runs ``apply`` (a cron job or a
systemd timer, e.g. nightly).  The run is one transaction and is audited (``retention.apply``, with
the counts) unless it deleted nothing.

What is *not* here, on purpose: seniors, workers and visit requests (ended by a person's
decision: erasure, ``dispatch.catalog.senior_privacy``), and published or superseded roster versions
(the record of the hours delivered and of what was announced to workers).

Audit rows are deleted through ``audit.allow_maintenance`` (the PostgreSQL trigger of migration
0018 refuses it otherwise).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col

from dispatch.access import audit
from dispatch.settings import Settings
from dispatch.storage import models as m

ACTOR = "carepath retention"


@dataclass(frozen=True)
class Cutoffs:
    """The instant and the local date before which a kind's records go."""

    instant: dt.datetime
    day: dt.date


@dataclass(frozen=True)
class RecordKind:
    """One kind of record: its setting, its table and which of its rows are past the period."""

    name: str
    setting: str
    table: type[Any]
    expired: Callable[[Cutoffs], ColumnElement[bool]]
    doc: str


def _draft_rosters(c: Cutoffs) -> ColumnElement[bool]:
    return (col(m.Roster.status) == m.RosterStatus.DRAFT) & (col(m.Roster.date) < c.day)


def _finished_jobs(c: Cutoffs) -> ColumnElement[bool]:
    finished = (m.JobStatus.SUCCEEDED, m.JobStatus.FAILED, m.JobStatus.CANCELLED)
    return col(m.PlanJob.status).in_(finished) & (func.coalesce(col(m.PlanJob.finished_at),
                                                                col(m.PlanJob.created_at)) < c.instant)


#: In the order they are applied: jobs before the drafts they point at.
KINDS: tuple[RecordKind, ...] = (
    RecordKind("audit_log", "retention_audit_log_days", m.AuditLog,
               lambda c: col(m.AuditLog.at) < c.instant, "audit rows (who did or read what)"),
    RecordKind("checkins", "retention_checkins_days", m.VisitCheckin,
               lambda c: col(m.VisitCheckin.occurrence_date) < c.day, "check-ins of visits (delivered hours, notes)"),
    RecordKind("plan_jobs", "retention_plan_jobs_days", m.PlanJob, _finished_jobs, "finished planning jobs"),
    RecordKind("drafts", "retention_drafts_days", m.Roster, _draft_rosters, "unpublished draft rosters of past days"),
    RecordKind("idempotency_keys", "retention_idempotency_keys_days", m.IdempotencyKey,
               lambda c: col(m.IdempotencyKey.created_at) < c.instant, "stored answers of Idempotency-Key requests"),
    RecordKind("login_throttles", "retention_login_throttles_days", m.LoginThrottle,
               lambda c: col(m.LoginThrottle.expires_at) < c.instant, "failed-login counters past their expiry"),
    RecordKind("revoked_tokens", "retention_revoked_tokens_days", m.RevokedToken,
               lambda c: col(m.RevokedToken.expires_at) < c.instant, "logged-out tokens past their expiry"),
    RecordKind("schedule_reads", "retention_schedule_reads_days", m.ScheduleRead,
               lambda c: col(m.ScheduleRead.date) < c.day, "which roster version a worker last saw"),
    RecordKind("calendar_tokens", "retention_calendar_tokens_days", m.CalendarToken,
               lambda c: col(m.CalendarToken.revoked_at) < c.instant, "revoked calendar-feed tokens"),
)


def period_days(settings: Settings, kind: RecordKind) -> int:
    return int(getattr(settings, kind.setting))


def cutoffs(days: int, now: dt.datetime, settings: Settings) -> Cutoffs:
    instant = now.astimezone(dt.UTC) - dt.timedelta(days=days)
    return Cutoffs(instant, now.astimezone(settings.zone).date() - dt.timedelta(days=days))


@dataclass(frozen=True)
class KindResult:
    name: str
    days: int
    """0: kept for ever (nothing counted)."""
    rows: int


def apply(session: Session, settings: Settings, now: dt.datetime, *, dry_run: bool = False) -> list[KindResult]:
    """Delete (or with ``dry_run`` only count) every record past its kind's period; one result per kind.

    The caller owns the transaction; a dry run writes nothing, not even an audit row.
    """
    results: list[KindResult] = []
    if not dry_run:
        audit.allow_maintenance(session)
    for kind in KINDS:
        days = period_days(settings, kind)
        if days == 0:
            results.append(KindResult(kind.name, 0, 0))
            continue
        where = kind.expired(cutoffs(days, now, settings))
        count = int(session.scalar(select(func.count()).select_from(kind.table).where(where)) or 0)
        if count and not dry_run:
            if kind.table is m.Roster:
                _delete_rosters(session, where)
            else:
                session.execute(delete(kind.table).where(where))
        results.append(KindResult(kind.name, days, count))
    deleted = {r.name: r.rows for r in results if r.rows}
    if deleted and not dry_run:
        audit.record(session, ACTOR, "retention.apply", "retention", None,
                     {"deleted": deleted, "periods_days": {r.name: r.days for r in results}})
    return results


def _delete_rosters(session: Session, where: ColumnElement[bool]) -> None:
    """Draft versions with their stops, breaks and unplaced lists; jobs that made them forget them."""
    ids = select(col(m.Roster.id)).where(where).scalar_subquery()
    for child in (m.RosterAssignment, m.RosterBreak, m.RosterUnassigned):
        session.execute(delete(child).where(col(child.roster_id).in_(ids)))

    session.execute(update(m.PlanJob).where(col(m.PlanJob.roster_id).in_(ids)).values(roster_id=None))
    session.execute(delete(m.Roster).where(where))
