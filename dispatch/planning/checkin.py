"""Check-in and check-out of visits (issue 17 item 3): what happened to a published stop.

A worker marks a stop of their **published** roster started, then finished, with the time, an
optional note and the outcome: ``delivered``, or not delivered because the senior was ``absent``
(nobody opened) or ``refused`` the visit.  The stop is named by the ``uid`` the worker's schedule
gives it (``dispatch.planning.schedule.visit_uid``: request, date, leg, worker), so a phone never
has to build an id.  One row per stop and worker (``VisitCheckin``), kept across roster versions.

Rules (each in one place, here):

* only the caller's own stops of the current published version of the day: anything else is
  :class:`~dispatch.catalog.records.NotFound` (404, whether it is someone else's or no stop at all:
  a worker learns nothing about other workers' visits);
* times: ``"HH:MM"`` (local, on the stop's day; a DST-ambiguous time is the first one, as everywhere,
  ``dispatch.timeutil.local_to_utc``) or an ISO local date-time ``"2026-12-01T08:05"``; an offset or
  ``Z`` is refused (422) like everywhere in the API: local time outside, UTC inside.  No time: now.
  A time more than :data:`FUTURE_SLACK` after now is refused (a phone's clock may run a little fast);
* started twice or finished twice: :class:`~dispatch.catalog.records.Conflict` (409) saying when;
  finishing a stop never started: allowed only when it was not delivered (the worker rang and
  nobody opened: started = finished); a delivered stop must have been started (409 otherwise);
  a finish before the start: 422;
* every change is audited (``visit.checkin_start``, ``visit.checkin_finish``).

What the dispatcher sees (:func:`stop_states`): each assignment of a **published** version gets its
check-in state and two flags at the app's clock: ``late`` -- not started and now is at least
:data:`LATE_AFTER` after the planned start, but before the planned end; ``missed`` -- not started
and the planned end has passed.  A stop that started (late or not) is neither; drafts have no flags
(workers have not been told about them).  The re-plan freezes every started stop
(:func:`started_stops`, ``dispatch.planning.replan.checked_in``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch.access import audit
from dispatch.catalog.records import Conflict, InvalidInput, NotFound, err
from dispatch.planning.publish import visit_leg
from dispatch.planning.schedule import UID_DOMAIN, visit_uid
from dispatch.storage import models as m
from dispatch.timeutil import local_to_utc

DELIVERED, ABSENT, REFUSED = "delivered", "absent", "refused"
OUTCOMES = (DELIVERED, ABSENT, REFUSED)
NOT_DELIVERED = (ABSENT, REFUSED)
LATE_AFTER = dt.timedelta(minutes=15)
"""Not started this long after the planned start: late (issue 17 item 3)."""
FUTURE_SLACK = dt.timedelta(minutes=5)
"""How far after now a check-in time may be (phone clocks run a little fast); later is a mistake."""
NOTE_MAX = 500

Key = tuple[str, dt.date, str, str]
"""(request id, occurrence date, leg, worker id): one stop of one worker."""


@dataclass(frozen=True)
class Stop:
    """A worker's stop of the current published version of its day."""

    uid: str
    roster: m.Roster
    assignment: m.RosterAssignment
    leg: str

    @property
    def key(self) -> Key:
        a = self.assignment
        return (a.visit_request_id, a.occurrence_date, self.leg, a.worker_id)


@dataclass(frozen=True)
class StopState:
    """What the dispatcher sees of one stop: the check-in (if any) and the flags at ``now``."""

    status: str  # planned | started | finished
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    outcome: str | None = None
    note: str = ""
    late: bool = False
    missed: bool = False


# --------------------------------------------------------------------------- finding a stop


def _uid_date(uid: str, worker_id: str) -> dt.date | None:
    """The date inside a visit uid of ``worker_id`` (``{request}-{YYYYMMDD}-{leg}-{worker}@carepath``)."""
    suffix = f"-{worker_id}@{UID_DOMAIN}"
    if not uid.endswith(suffix):
        return None
    parts = uid[: -len(suffix)].rsplit("-", 2)
    if len(parts) != 3:
        return None
    try:
        return dt.datetime.strptime(parts[1], "%Y%m%d").date()
    except ValueError:
        return None


def find_stop(session: Session, worker_id: str, uid: str, tz: str | ZoneInfo) -> Stop:
    """The caller's stop ``uid`` in the current published version of its day, or :class:`NotFound`."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    day = _uid_date(uid, worker_id)
    if day is not None:
        rows = session.execute(
            select(m.RosterAssignment, m.Roster, m.VisitRequest)
            .join(m.Roster, col(m.Roster.id) == col(m.RosterAssignment.roster_id))
            .join(m.VisitRequest, col(m.VisitRequest.id) == col(m.RosterAssignment.visit_request_id))
            .where(col(m.Roster.date) == day, col(m.Roster.status) == m.RosterStatus.PUBLISHED,
                   col(m.RosterAssignment.worker_id) == worker_id)
        ).all()
        for a, roster, req in rows:
            leg = visit_leg(req, a.start, a.occurrence_date, zone, a.leg)
            if visit_uid(req.id, a.occurrence_date, leg, worker_id) == uid:
                return Stop(uid, roster, a, leg)
    raise NotFound("visit", uid)


def _row(session: Session, key: Key) -> m.VisitCheckin | None:
    request_id, day, leg, worker_id = key
    return session.scalars(select(m.VisitCheckin).where(
        col(m.VisitCheckin.visit_request_id) == request_id, col(m.VisitCheckin.occurrence_date) == day,
        col(m.VisitCheckin.leg) == leg, col(m.VisitCheckin.worker_id) == worker_id)).first()


# --------------------------------------------------------------------------- input


def parse_at(value: str | None, day: dt.date, tz: str | ZoneInfo, now: dt.datetime, field: str = "at") -> dt.datetime:
    """The instant (UTC) a worker's ``at`` means on ``day``: ``HH:MM`` or ISO local date-time; None: now."""
    if value is None or not value.strip():
        return now.astimezone(dt.UTC)
    text = value.strip()
    try:
        if len(text) <= 5 and ":" in text:
            when = local_to_utc(day, dt.datetime.strptime(text, "%H:%M").time(), tz)
        else:
            parsed = dt.datetime.fromisoformat(text)
            if parsed.tzinfo is not None:
                raise InvalidInput([err(field, f"'{value}' has a UTC offset; send local time without one "
                                               "(HH:MM or YYYY-MM-DDTHH:MM, Europe/Warsaw)")])
            when = local_to_utc(parsed.date(), parsed.time(), tz)
    except ValueError:
        raise InvalidInput([err(field, f"'{value}' is not a local time HH:MM or YYYY-MM-DDTHH:MM")]) from None
    if when > now + FUTURE_SLACK:
        raise InvalidInput([err(field, f"'{value}' is in the future; check in when it happens")])
    return when


def _note(note: str | None) -> str:
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise InvalidInput([err("note", f"at most {NOTE_MAX} characters")])
    return text


# --------------------------------------------------------------------------- writes


def _local(value: dt.datetime, tz: str | ZoneInfo) -> str:
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return value.astimezone(zone).isoformat(timespec="minutes")


def start(session: Session, worker_id: str, actor: str, uid: str, at: str | None, note: str | None,
          now: dt.datetime, tz: str | ZoneInfo) -> m.VisitCheckin:
    """Mark the caller's stop ``uid`` started (409 if it already was); audited."""
    stop = find_stop(session, worker_id, uid, tz)
    when = parse_at(at, stop.assignment.occurrence_date, tz, now)
    text = _note(note)
    row = _row(session, stop.key)
    if row is not None:
        raise Conflict(f"visit {uid} was already started at {_local(row.started_at, tz)}", "at")
    request_id, day, leg, _ = stop.key
    row = m.VisitCheckin(worker_id=worker_id, visit_request_id=request_id, occurrence_date=day, leg=leg,
                         started_at=when, note=text)
    session.add(row)
    session.flush()
    audit.record(session, actor, "visit.checkin_start", "visit_checkin", str(row.id), {
        "visit": {"old": None, "new": uid}, "started_at": {"old": None, "new": when.isoformat()},
        **({"note": {"old": None, "new": text}} if text else {})})
    return row


def finish(session: Session, worker_id: str, actor: str, uid: str, at: str | None, outcome: str | None,
           note: str | None, now: dt.datetime, tz: str | ZoneInfo) -> m.VisitCheckin:
    """Mark the caller's stop ``uid`` finished with ``outcome`` (default delivered); audited.

    A stop not started may be finished only as not delivered (absent, refused): started = finished.
    """
    stop = find_stop(session, worker_id, uid, tz)
    result = outcome or DELIVERED
    if result not in OUTCOMES:
        raise InvalidInput([err("outcome", f"'{outcome}' is not one of {', '.join(OUTCOMES)}")])
    when = parse_at(at, stop.assignment.occurrence_date, tz, now)
    text = _note(note)
    row = _row(session, stop.key)
    if row is not None and row.finished_at is not None:
        raise Conflict(f"visit {uid} was already finished at {_local(row.finished_at, tz)} ({row.outcome})", "at")
    if row is None:
        if result == DELIVERED:
            raise Conflict(f"visit {uid} was not started: start it first (POST .../start), or finish it as "
                           f"not delivered (outcome {' or '.join(NOT_DELIVERED)})", "outcome")
        request_id, day, leg, _ = stop.key
        row = m.VisitCheckin(worker_id=worker_id, visit_request_id=request_id, occurrence_date=day, leg=leg,
                             started_at=when)
        session.add(row)
    elif when < row.started_at:
        raise InvalidInput([err("at", f"{_local(when, tz)} is before the start {_local(row.started_at, tz)}")])
    old_note = row.note
    joined = f"{old_note}\n{text}" if old_note and text else (text or old_note)
    if len(joined) > NOTE_MAX:
        raise InvalidInput([err("note", f"with the start's note at most {NOTE_MAX} characters")])
    row.finished_at, row.outcome, row.note = when, result, joined
    session.flush()
    audit.record(session, actor, "visit.checkin_finish", "visit_checkin", str(row.id), {
        "visit": {"old": None, "new": uid}, "finished_at": {"old": None, "new": when.isoformat()},
        "outcome": {"old": None, "new": result},
        **({"note": {"old": old_note, "new": row.note}} if text else {})})
    return row


# --------------------------------------------------------------------------- reads


def started_stops(session: Session, day: dt.date) -> set[tuple[str, dt.date, str]]:
    """(request id, date, leg) of every stop of ``day`` some worker started: the re-plan freezes them."""
    rows = session.execute(select(m.VisitCheckin.visit_request_id, m.VisitCheckin.occurrence_date,
                                  m.VisitCheckin.leg).where(col(m.VisitCheckin.occurrence_date) == day)).all()
    return {(r, d, leg) for r, d, leg in rows}


def checkins_between(session: Session, start_day: dt.date, end_day: dt.date) -> list[m.VisitCheckin]:
    """Every check-in of stops dated ``start_day``..``end_day`` (inclusive)."""
    return list(session.scalars(select(m.VisitCheckin).where(
        col(m.VisitCheckin.occurrence_date) >= start_day, col(m.VisitCheckin.occurrence_date) <= end_day)).all())


def worker_checkins(session: Session, worker_id: str, start_day: dt.date, end_day: dt.date) -> dict[str, m.VisitCheckin]:
    """The worker's own check-ins of stops dated ``start_day``..``end_day``, by the stop's ``uid`` (what
    the worker's schedule names each stop by): the phone page shows each visit's state from it."""
    rows = session.scalars(select(m.VisitCheckin).where(
        col(m.VisitCheckin.worker_id) == worker_id, col(m.VisitCheckin.occurrence_date) >= start_day,
        col(m.VisitCheckin.occurrence_date) <= end_day)).all()
    return {visit_uid(r.visit_request_id, r.occurrence_date, r.leg, r.worker_id): r for r in rows}


def state_of(row: m.VisitCheckin | None, planned_start: dt.datetime, planned_end: dt.datetime,
             now: dt.datetime | None) -> StopState:
    """A stop's check-in state and, at ``now`` (None: no flags, e.g. a draft), ``late`` / ``missed``."""
    if row is not None:
        return StopState("finished" if row.finished_at is not None else "started", row.started_at,
                         row.finished_at, row.outcome, row.note)
    if now is None:
        return StopState("planned")
    missed = now >= planned_end
    return StopState("planned", late=not missed and now >= planned_start + LATE_AFTER, missed=missed)


def stop_states(session: Session, roster: m.Roster, stops: Iterable[tuple[Key, dt.datetime, dt.datetime]],
                now: dt.datetime) -> dict[Key, StopState]:
    """The state of each ``(key, planned start, planned end)`` of ``roster``; flags only when it is published."""
    keys = list(stops)
    rows = {(c.visit_request_id, c.occurrence_date, c.leg, c.worker_id): c
            for c in checkins_between(session, roster.date - dt.timedelta(days=1), roster.date + dt.timedelta(days=1))}
    flags_at = now if roster.status == m.RosterStatus.PUBLISHED else None
    return {key: state_of(rows.get(key), s, e, flags_at) for key, s, e in keys}
