"""A worker's schedule as an iCalendar feed behind a secret, revocable URL.

The URL ``/api/v1/calendar/<token>.ics`` is the credential (calendar apps cannot send an
``Authorization`` header), so:

* the token is 256 random bits (``secrets.token_urlsafe(32)``); only its SHA-256 is stored;
* issuing a new token revokes the worker's previous one, and a worker can revoke it outright;
* the feed answers only while the token is unrevoked **and** an active user account with the
  worker role is linked to the worker (a worker who leaves loses the feed with the account);
* an unknown, revoked or orphaned token is a plain 404: nothing tells them apart.

Content follows :mod:`dispatch.planning.schedule` (published rosters only, minimal fields), and is
minimised further because a feed ends up in whatever calendar service the worker uses (Google,
Microsoft, Apple...: a processor the centre has no contract with).  By default an event carries
only what such a service may hold: the time, the place (the address; for a ride also its
destination and appointment time) and the service ("Wizyta: Usługi opiekuńcze", "Przejazd
(odbiór)"); never the senior's name, the tasks (e.g. "podanie leków"), the notes for workers, the
phone or a ride's needs (a wheelchair).  A centre that accepts the calendar provider holding them
turns the details on with ``CAREPATH_CALENDAR_FEED_DETAILS=true`` (``details=True`` here): the
summary then names the senior and the description has the tasks, notes, needs and phone.  A centre
whose service names say something about health should name its services neutrally.

iCalendar details: ``VTIMEZONE`` for the roster zone is always included; times are local
with ``TZID``, except a wall time that occurs twice (the autumn DST night), which RFC 5545
would read as its first occurrence, so it is written in UTC; ``UID`` is stable per visit
occurrence (:func:`dispatch.planning.schedule.visit_uid`); ``SEQUENCE`` is the published version from
which the event has stayed unchanged (``dispatch.planning.schedule_changes``: a re-publish raises it only
for the events it changed); visits dropped by a newer published version stay in the feed as
``STATUS:CANCELLED`` (until they fall out of the window).  The worker's planned breaks are
events too ("Przerwa", :func:`dispatch.planning.schedule.break_uid`), updated and cancelled the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select, update
from sqlmodel import Session, col

from dispatch.access import audit
from dispatch.storage import models as m
from dispatch.jobs.rows import begin_write
from dispatch.planning.ride_legs import LEGS_PL
from dispatch.planning.schedule import ScheduledBreak, ScheduledVisit, cancelled_breaks, cancelled_visits, worker_plan
from dispatch.planning.schedule_changes import event_sequences

FEED_PAST_DAYS = 31
FEED_FUTURE_DAYS = 92
PRODID = "-//carepath//worker schedule//PL"


def _clock() -> dt.datetime:
    """Now, in UTC (a seam for tests of the feed window)."""
    return dt.datetime.now(dt.UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def feed_path(token: str, prefix: str = "/api/v1") -> str:
    return f"{prefix}/calendar/{token}.ics"


def active_token(session: Session, worker_id: str) -> m.CalendarToken | None:
    return session.scalars(
        select(m.CalendarToken).where(col(m.CalendarToken.worker_id) == worker_id,
                                      col(m.CalendarToken.revoked_at).is_(None))
        .order_by(col(m.CalendarToken.created_at).desc())
    ).first()


def revoke_tokens(session: Session, worker_id: str, actor: str) -> int:
    """Revoke every active feed token of ``worker_id`` (audited if any); returns how many."""
    begin_write(session)
    count = session.execute(
        update(m.CalendarToken)
        .where(col(m.CalendarToken.worker_id) == worker_id, col(m.CalendarToken.revoked_at).is_(None))
        .values(revoked_at=dt.datetime.now(dt.UTC))
    ).rowcount or 0
    if count:
        audit.record(session, actor, "calendar_token.revoke", "worker", worker_id, {"revoked": {"old": None, "new": count}})
    return int(count)


def issue_token(session: Session, worker_id: str, actor: str) -> tuple[str, m.CalendarToken]:
    """A new feed token for ``worker_id`` (the old one stops working); returns (secret, row).

    The secret is shown once; the database keeps only its hash.
    """
    revoke_tokens(session, worker_id, actor)
    secret = secrets.token_urlsafe(32)
    account = _worker_account(session, worker_id)
    row = m.CalendarToken(worker_id=worker_id, token_hash=hash_token(secret),
                          user_token_version=account.token_version if account is not None else 0)
    session.add(row)
    session.flush()
    audit.record(session, actor, "calendar_token.issue", "worker", worker_id, {"token_id": {"old": None, "new": row.id}})
    return secret, row


def worker_for_token(session: Session, token: str) -> str | None:
    """The worker behind an active token whose account is still an active worker, unchanged since the
    token was issued, else None."""
    row = session.scalars(
        select(m.CalendarToken).where(col(m.CalendarToken.token_hash) == hash_token(token),
                                      col(m.CalendarToken.revoked_at).is_(None))
    ).first()
    if row is None:
        return None
    user = _worker_account(session, row.worker_id)
    if user is None or user.token_version != row.user_token_version:
        return None  # the account was changed (password, deactivation, ...) after the feed was issued
    return row.worker_id


def _worker_account(session: Session, worker_id: str) -> m.User | None:
    """The active worker account linked to ``worker_id``, if any."""
    return session.scalars(
        select(m.User).where(col(m.User.worker_id) == worker_id, col(m.User.active).is_(True),
                             col(m.User.role) == m.UserRole.WORKER)
    ).first()


# --------------------------------------------------------------------------- the feed


def _ical_time(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Local time with the zone, or UTC when the local wall time is ambiguous (DST fall-back)."""
    local = value.astimezone(zone)
    first = local.replace(fold=0).astimezone(dt.UTC)
    second = local.replace(fold=1).astimezone(dt.UTC)
    if first != second:
        return value.astimezone(dt.UTC)
    return local


def _summary(v: ScheduledVisit, details: bool) -> str:
    if v.ride is None:
        return f"Wizyta: {v.senior_name if details else v.service_name_pl}"
    leg = f"Przejazd ({LEGS_PL.get(v.ride.leg, v.ride.leg)})"
    return f"{leg}: {v.senior_name}" if details else leg


def _description(v: ScheduledVisit, details: bool) -> str:
    if not details:
        return _place_and_time(v)
    lines = []
    if v.tasks:
        lines.append(f"Zadania: {v.tasks}")
    if v.notes_for_workers:
        lines.append(f"Uwagi: {v.notes_for_workers}")
    if v.ride is not None:
        where = v.ride.destination or "?"
        if v.ride.appointment is not None:
            where += f", termin {v.ride.appointment:%H:%M}"
        lines.append(f"Cel: {where}")
        needs = [text for flag, text in ((v.ride.wheelchair, "wózek inwalidzki"),
                                         (v.ride.companion, "osoba towarzysząca"),
                                         (v.ride.assistant, "asystent MOPR")) if flag]
        if needs:
            lines.append("Potrzeby: " + ", ".join(needs))
        if v.phone:
            lines.append(f"Telefon: {v.phone}")
    return "\n".join(lines)


def _place_and_time(v: ScheduledVisit) -> str:
    """A ride's destination and appointment time: the place and time of the trip, nothing about why."""
    if v.ride is None:
        return ""
    where = v.ride.destination or "?"
    if v.ride.appointment is not None:
        where += f", termin {v.ride.appointment:%H:%M}"
    return f"Cel: {where}"


def _event(v: ScheduledVisit, zone: ZoneInfo, now: dt.datetime, cancelled: bool, sequence: int | None = None,
           details: bool = False) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", v.uid)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", _ical_time(v.start, zone))
    event.add("dtend", _ical_time(v.end, zone))
    event.add("sequence", v.roster_version if sequence is None else sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("summary", ("Odwołane: " if cancelled else "") + _summary(v, details))
    event.add("location", v.address)
    description = _description(v, details)
    if description:
        event.add("description", description)
    event.add("class", "PRIVATE")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event


def _break_event(b: ScheduledBreak, zone: ZoneInfo, now: dt.datetime, cancelled: bool,
                 sequence: int | None = None) -> icalendar.Event:
    """A planned break: busy time with nothing about anyone else in it."""
    event = icalendar.Event()
    event.add("uid", b.uid)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", _ical_time(b.start, zone))
    event.add("dtend", _ical_time(b.end, zone))
    event.add("sequence", b.roster_version if sequence is None else sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("summary", ("Odwołane: " if cancelled else "") + f"Przerwa ({b.minutes} min)")
    event.add("class", "PRIVATE")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event


def build_calendar(
    visits: list[ScheduledVisit], cancelled: list[ScheduledVisit], tz: str, now: dt.datetime,
    first: dt.date, last: dt.date, breaks: list[ScheduledBreak] | None = None,
    cancelled_breaks: list[ScheduledBreak] | None = None, sequences: Mapping[str, int] | None = None,
    details: bool = False,
) -> bytes:
    """The VCALENDAR text for a worker's visits and breaks (and cancelled ones) between ``first`` and ``last``.

    ``details``: also the senior's name, tasks, notes, needs and phone (see the module docstring).

    ``sequences``: each event's SEQUENCE by UID (``dispatch.planning.schedule_changes.event_sequences``);
    without one, the roster version."""
    seq = sequences or {}
    zone = ZoneInfo(tz)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "carepath: grafik")
    cal.add("x-wr-timezone", tz)
    cal.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    cal.add_component(icalendar.Timezone.from_tzid(tz, first_date=first - dt.timedelta(days=1),
                                                   last_date=last + dt.timedelta(days=1)))
    for v in visits:
        cal.add_component(_event(v, zone, now, False, seq.get(v.uid), details))
    for v in cancelled:
        cal.add_component(_event(v, zone, now, True, seq.get(v.uid), details))
    for b in breaks or ():
        cal.add_component(_break_event(b, zone, now, False, seq.get(b.uid)))
    for b in cancelled_breaks or ():
        cal.add_component(_break_event(b, zone, now, True, seq.get(b.uid)))
    return cal.to_ical()


def worker_feed(session: Session, worker_id: str, tz: str, now: dt.datetime | None = None,
                details: bool = False) -> bytes:
    """The feed of ``worker_id``: published visits and breaks from a month back to three months ahead
    (``details``: ``CAREPATH_CALENDAR_FEED_DETAILS``)."""
    now = now or _clock()
    today = now.astimezone(ZoneInfo(tz)).date()
    first, last = today - dt.timedelta(days=FEED_PAST_DAYS), today + dt.timedelta(days=FEED_FUTURE_DAYS)
    visits, breaks = worker_plan(session, worker_id, first, last, tz)
    cancelled = cancelled_visits(session, worker_id, first, last, tz)
    return build_calendar(visits, cancelled, tz, now, first, last, breaks,
                          cancelled_breaks(session, worker_id, first, last, tz),
                          event_sequences(session, worker_id, first, last, tz), details=details)
