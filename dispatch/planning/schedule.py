"""A worker's own schedule: published rosters only, and only what each visit needs.

Data minimisation (RODO art. 5(1)(c); seniors' health data is art. 9 data):

* Per visit a worker gets the senior's name and address, the time (local, with offset), the
  service, the tasks and ``notes_for_workers`` (the coordinator's notes meant for the door:
  entry code, dog, key box).  **Never** ``health_notes``, disability, birth year, regular or
  forbidden workers, nor other workers' visits.
* The senior's phone is given only on ride legs (senior taxi): the driver waits at the kerb
  and has to be able to call up ("I am downstairs").  Carers at the door do not need it and
  call the centre if nobody opens.
* A ride stop (pickup, drop-off, and the same for the return; an escort for the assistant
  riding along) also says where to (the destination's name), the appointment time, and the
  needs the car and the driver must meet: wheelchair, a companion, the centre's assistant.
  Nothing about why (no diagnosis, no disability grade).  A stop at the destination shows
  the destination as its address and no door notes (they are about the senior's home).

Only ``published`` rosters count (drafts are the dispatcher's work in progress).  The
worker is always the caller's own ``worker_id``: there is no parameter to ask for another.

Each visit occurrence has a stable ``uid`` (request, date, leg, worker) that survives
re-planning, so a calendar client updates an event instead of duplicating it; a visit that
was in an earlier published version of a day and is not in the current one is reported by
:func:`cancelled_visits` (the calendar feed shows it as ``STATUS:CANCELLED``).

The worker's planned breaks (:func:`worker_plan`) follow the same rules: published only,
the worker's own only, a stable ``uid`` per worker, day and n-th break of the day (a break
moved by a re-plan is the same event, moved), and :func:`cancelled_breaks` for breaks a
newer published version no longer has.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Callable, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from dispatch.domain import Address, as_text
from dispatch.storage import models as m
from dispatch.planning import ride_legs
from dispatch.planning.publish import leg_of
from dispatch.timeutil import local_to_utc

MAX_RANGE_DAYS = 92
UID_DOMAIN = "carepath"


@dataclass(frozen=True)
class RideInfo:
    leg: str  # pickup | dropoff | return_pickup | return_dropoff | escort | return_escort (| outbound | return)
    stop: str  # home | destination | trip
    destination: str
    appointment: dt.datetime | None
    wheelchair: bool = False
    companion: bool = False
    assistant: bool = False


def _stop(leg: str) -> str:
    if leg in (ride_legs.PICKUP, ride_legs.RETURN_DROPOFF):
        return "home"
    return "destination" if ride_legs.at_destination(leg) else "trip"


@dataclass(frozen=True)
class ScheduledVisit:
    uid: str
    date: dt.date
    roster_version: int
    sequence: int
    start: dt.datetime
    end: dt.datetime
    service: str
    service_name_pl: str
    service_name_en: str
    senior_name: str
    address: str
    tasks: str
    notes_for_workers: str
    phone: str | None = None
    ride: RideInfo | None = None

    @property
    def is_ride(self) -> bool:
        return self.ride is not None


@dataclass(frozen=True)
class ScheduledBreak:
    uid: str
    date: dt.date
    roster_version: int
    start: dt.datetime
    end: dt.datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


def break_uid(day: dt.date, ordinal: int, worker_id: str) -> str:
    """Stable per worker, day and n-th break of the day (1-based), whatever time a re-plan moves it to."""
    return f"break{ordinal}-{day:%Y%m%d}-{worker_id}@{UID_DOMAIN}"


def visit_uid(request_id: str, day: dt.date, leg: str, worker_id: str) -> str:
    """Stable per visit occurrence and worker (a two-person visit has one per worker)."""
    return f"{request_id}-{day:%Y%m%d}-{leg}-{worker_id}@{UID_DOMAIN}"


@dataclass(frozen=True)
class RosterRef:
    """The few columns of a roster version that a schedule needs (not its KPIs or solver statistics,
    which are large JSON: phones poll the schedule, and each byte decoded costs every one of them)."""

    id: int
    date: dt.date
    area: str | None
    version: int
    status: m.RosterStatus


# The statements are built once: building and cache-keying a select costs more than running it
# on the small rows a phone needs (issue 21's load benchmark, profiled with py-spy).
_ROSTERS = (
    select(m.Roster.id, m.Roster.date, m.Roster.area, m.Roster.version, m.Roster.status)  # type: ignore[call-overload]
    .where(col(m.Roster.date) >= bindparam("start"), col(m.Roster.date) <= bindparam("end"),
           col(m.Roster.status).in_(bindparam("statuses", expanding=True)))
    .order_by(col(m.Roster.date), col(m.Roster.version))
)

_VISITS = (
    select(  # type: ignore[call-overload]
        m.RosterAssignment.roster_id, m.RosterAssignment.start, m.RosterAssignment.end,
        m.RosterAssignment.occurrence_date, m.RosterAssignment.leg, m.RosterAssignment.sequence,
        col(m.VisitRequest.id).label("request_id"), m.VisitRequest.service, m.VisitRequest.tasks,
        m.VisitRequest.destination_place_id, m.VisitRequest.appointment, m.VisitRequest.wheelchair,
        m.VisitRequest.escort, m.VisitRequest.assistant,
        m.Senior.first_name, m.Senior.last_name, m.Senior.street, m.Senior.number, m.Senior.postcode,
        m.Senior.city, m.Senior.flat, m.Senior.phone, m.Senior.notes_for_workers,
        col(m.Place.name).label("destination_name"), m.Service.name_pl, m.Service.name_en,
    )
    .join(m.VisitRequest, col(m.VisitRequest.id) == col(m.RosterAssignment.visit_request_id))
    .join(m.Senior, col(m.Senior.id) == col(m.VisitRequest.senior_id))
    .outerjoin(m.Place, col(m.Place.id) == col(m.VisitRequest.destination_place_id))
    .outerjoin(m.Service, col(m.Service.code) == col(m.VisitRequest.service))
    .where(col(m.RosterAssignment.roster_id).in_(bindparam("roster_ids", expanding=True)),
           col(m.RosterAssignment.worker_id) == bindparam("worker_id"))
    .order_by(col(m.RosterAssignment.start))
)

_BREAKS = (
    select(m.RosterBreak.roster_id, m.RosterBreak.start, m.RosterBreak.end)  # type: ignore[call-overload]
    .where(col(m.RosterBreak.roster_id).in_(bindparam("roster_ids", expanding=True)),
           col(m.RosterBreak.worker_id) == bindparam("worker_id"))
    .order_by(col(m.RosterBreak.roster_id), col(m.RosterBreak.start))
)


def _rosters(session: Session, start: dt.date, end: dt.date, statuses: tuple[m.RosterStatus, ...]) -> list[RosterRef]:
    rows = session.execute(_ROSTERS, {"start": start, "end": end, "statuses": list(statuses)}).all()
    return [RosterRef(*row) for row in rows]


def _visits(session: Session, worker_id: str, rosters: list[RosterRef], zone: ZoneInfo) -> list[tuple[RosterRef, ScheduledVisit]]:
    """The worker's visits in ``rosters``, minimal fields (see module docstring).

    One joined statement reading only the columns shown (never the senior's health columns,
    not even into memory): phones poll this, and each extra round trip or decoded JSON column
    costs every one of them (issue 21's load benchmark).
    """
    if not rosters:
        return []
    by_id = {r.id: r for r in rosters}
    rows = session.execute(_VISITS, {"roster_ids": list(by_id), "worker_id": worker_id}).all()
    out = []
    for row in rows:
        roster = by_id[row.roster_id]
        leg = leg_of(row.leg, row.destination_place_id, row.appointment, row.start, row.occurrence_date, zone)
        ride = None
        address = Address(street=row.street, number=row.number, postcode=row.postcode, city=row.city,
                          flat=row.flat).line()
        notes = row.notes_for_workers
        if ride_legs.is_ride_leg(leg):
            appointment = None
            if row.appointment is not None:
                appointment = local_to_utc(row.occurrence_date, row.appointment, zone).astimezone(zone)
            ride = RideInfo(leg, _stop(leg), row.destination_name or "", appointment,
                            wheelchair=bool(row.wheelchair), companion=bool(row.escort),
                            assistant=bool(row.assistant))
            if ride.stop == "destination":
                address, notes = ride.destination, ""
        out.append((roster, ScheduledVisit(
            uid=visit_uid(row.request_id, row.occurrence_date, leg, worker_id), date=roster.date,
            roster_version=roster.version, sequence=row.sequence,
            start=row.start.astimezone(zone), end=row.end.astimezone(zone),
            service=as_text(row.service), service_name_pl=row.name_pl or "", service_name_en=row.name_en or "",
            senior_name=f"{row.first_name} {row.last_name}", address=address,
            tasks=row.tasks, notes_for_workers=notes,
            phone=(row.phone or None) if ride is not None else None, ride=ride,
        )))
    return out


def _breaks(session: Session, worker_id: str, rosters: list[RosterRef], zone: ZoneInfo) -> list[tuple[RosterRef, ScheduledBreak]]:
    """The worker's planned breaks in ``rosters``, numbered per roster in time order."""
    if not rosters:
        return []
    by_id = {r.id: r for r in rosters}
    rows = session.execute(_BREAKS, {"roster_ids": list(by_id), "worker_id": worker_id}).all()
    out = []
    ordinal: dict[int, int] = {}
    for roster_id, start, end in rows:
        roster = by_id[roster_id]
        ordinal[roster_id] = ordinal.get(roster_id, 0) + 1
        out.append((roster, ScheduledBreak(
            uid=break_uid(roster.date, ordinal[roster_id], worker_id), date=roster.date,
            roster_version=roster.version, start=start.astimezone(zone), end=end.astimezone(zone),
        )))
    return out


def check_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ValueError("'to' is before 'from'")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValueError(f"at most {MAX_RANGE_DAYS} days at a time")


Item = TypeVar("Item", ScheduledVisit, ScheduledBreak)
#: Reads one kind of schedule item (visits or breaks) of a worker from some roster versions.
Fetch = Callable[[Session, str, list[RosterRef], ZoneInfo], list[tuple[RosterRef, Item]]]


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _in_order(items: list[tuple[RosterRef, Item]]) -> list[Item]:
    return [v for _, v in sorted(items, key=lambda rv: rv[1].start)]


def _dropped(session: Session, worker_id: str, start: dt.date, end: dt.date, zone: ZoneInfo,
             fetch: Fetch[Item]) -> list[Item]:
    """Items of earlier published (now superseded) versions that the current published one dropped.

    Each comes back once, with its last superseded times and ``roster_version`` set to the
    current published version of its day (the calendar's ``SEQUENCE`` must go up).
    """
    superseded = _rosters(session, start, end, (m.RosterStatus.SUPERSEDED,))
    if not superseded:
        return []
    published = _rosters(session, start, end, (m.RosterStatus.PUBLISHED,))
    current_version: dict[tuple[dt.date, str | None], int] = {(r.date, r.area): r.version for r in published}
    current_uids = {v.uid for _, v in fetch(session, worker_id, published, zone)}
    latest_old: dict[str, tuple[RosterRef, Item]] = {}
    for roster, item in fetch(session, worker_id, superseded, zone):
        if item.uid in current_uids:
            continue
        seen = latest_old.get(item.uid)
        if seen is None or roster.version > seen[0].version:
            latest_old[item.uid] = (roster, item)
    out = []
    for roster, item in latest_old.values():
        version = current_version.get((roster.date, roster.area), roster.version + 1)
        out.append(replace(item, roster_version=version))
    return sorted(out, key=lambda v: v.start)


def published_rosters(session: Session, start: dt.date, end: dt.date) -> list[RosterRef]:
    """The published version of each day (and area) on ``start``..``end``."""
    return _rosters(session, start, end, (m.RosterStatus.PUBLISHED,))


def worker_plan(
    session: Session, worker_id: str, start: dt.date, end: dt.date, tz: str | ZoneInfo,
    published: list[RosterRef] | None = None,
) -> tuple[list[ScheduledVisit], list[ScheduledBreak]]:
    """The worker's visits and planned breaks on ``start``..``end`` (inclusive) from published rosters,
    each by start time.  ``published``: :func:`published_rosters` if the caller has read them already
    (the schedule endpoint reads them once for the plan and for what changed: phones poll it)."""
    zone = _zone(tz)
    rosters = published if published is not None else published_rosters(session, start, end)
    return _in_order(_visits(session, worker_id, rosters, zone)), _in_order(_breaks(session, worker_id, rosters, zone))


def cancelled_visits(
    session: Session, worker_id: str, start: dt.date, end: dt.date, tz: str | ZoneInfo
) -> list[ScheduledVisit]:
    """Visits of earlier published (now superseded) versions that the current published one dropped."""
    return _dropped(session, worker_id, start, end, _zone(tz), _visits)


def cancelled_breaks(
    session: Session, worker_id: str, start: dt.date, end: dt.date, tz: str | ZoneInfo
) -> list[ScheduledBreak]:
    """Breaks of earlier published (now superseded) versions that the current published one no longer has."""
    return _dropped(session, worker_id, start, end, _zone(tz), _breaks)
