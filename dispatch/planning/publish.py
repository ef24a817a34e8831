"""Roster versions: which one a dispatcher sees, its ETag, the detailed view, and publishing.

Versions of a day (and area, ``None`` = city-wide) are numbered 1, 2, ... in the order they
were planned.  At most one is ``published``; publishing an older one's successor turns it
``superseded`` (kept, never changed again).  Drafts are never shown to workers.

* **Latest** (what ``GET /rosters/{date}`` shows): the highest version that is a draft or
  published, i.e. the newest draft when it is newer than the published one, else the
  published one.
* **ETag**: ``"r<roster id>-v<version>-<status>"``, strong, per version and status: publishing
  changes what ``GET /rosters/{date}`` shows (the status), so it changes the ETag, and a second
  publish with the draft's ETag is a 412 like any other stale ``If-Match`` (issue 20: two publishes
  racing with the same ETag give one success and one 412).  A publish sent with the published
  version's own ETag is a 409: there is nothing to do.
* **Publish** (:func:`publish_latest`) turns the latest draft into the published version in
  place (the dispatcher publishes exactly the version number they reviewed) and supersedes
  the previous published one, in one transaction.  ``If-Match`` is required (428 without),
  must equal the latest ETag (412 otherwise), and the status change is a conditional
  ``UPDATE ... WHERE status = 'draft'``: of two simultaneous publishes only one updates a row
  (PostgreSQL serialises them on the row lock; SQLite on its write lock), the other's ``If-Match``
  no longer holds when its update runs: :class:`PreconditionFailed` (412).
* **Unplaced mandatory visits** are never published silently: a version that leaves
  mandatory visits out is published only when the request acknowledges exactly those
  visits, by request id (:func:`check_acknowledgement`; :class:`UnacknowledgedMandatory`,
  409, otherwise).  Ids rather than a yes: an acknowledgement given for one draft cannot
  publish another that drops different seniors.  The ids acknowledged go into the audit row.
  Views list the unplaced mandatory visits first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from dispatch.domain import as_text
from dispatch.access import audit
from dispatch.storage import models as m
from dispatch.storage.db import is_lock_error
from dispatch.jobs.rows import begin_write
from dispatch.planning.ride_legs import at_destination
from dispatch.timeutil import local_to_utc

VISIBLE = (m.RosterStatus.DRAFT, m.RosterStatus.PUBLISHED)


class RosterNotFound(LookupError):
    pass


class PreconditionRequired(Exception):
    """Publishing without ``If-Match``."""


class PreconditionFailed(Exception):
    """``If-Match`` names a version that is no longer the latest."""

    def __init__(self, current: m.Roster) -> None:
        super().__init__(f"the latest roster is now version {current.version} ({current.status.value})")
        self.current = current


class UnacknowledgedMandatory(Exception):
    """Publishing a version with unplaced mandatory visits without acknowledging exactly those."""

    def __init__(self, unplaced: list[m.RosterUnassigned], missing: list[str], unexpected: list[str]) -> None:
        parts = []
        if missing:
            parts.append(f"mandatory visits not placed and not acknowledged: {', '.join(missing)}")
        if unexpected:
            parts.append(f"acknowledged but not unplaced mandatory visits of this version: {', '.join(unexpected)}")
        super().__init__("; ".join(parts))
        self.unplaced = unplaced
        self.missing = missing
        self.unexpected = unexpected


class PublishConflict(Exception):
    """Nothing to publish (already published), or a simultaneous publish won."""

    def __init__(self, message: str, current: m.Roster | None = None) -> None:
        super().__init__(message)
        self.current = current


def _area(area: str | None) -> Any:
    return col(m.Roster.area).is_(None) if area is None else col(m.Roster.area) == area


def etag(roster: m.Roster) -> str:
    return f'"r{roster.id}-v{roster.version}-{roster.status.value}"'


def latest_roster(session: Session, day: dt.date, area: str | None = None) -> m.Roster | None:
    """The newest draft-or-published version of ``day`` (see module docstring)."""
    return session.scalars(
        select(m.Roster)
        .where(col(m.Roster.date) == day, _area(area), col(m.Roster.status).in_(VISIBLE))
        .order_by(col(m.Roster.version).desc())
        .limit(1)
    ).first()


def roster_version(session: Session, day: dt.date, version: int, area: str | None = None) -> m.Roster | None:
    return session.scalars(
        select(m.Roster).where(col(m.Roster.date) == day, _area(area), col(m.Roster.version) == version)
    ).first()


def published_roster(session: Session, day: dt.date, area: str | None = None) -> m.Roster | None:
    return session.scalars(
        select(m.Roster).where(
            col(m.Roster.date) == day, _area(area), col(m.Roster.status) == m.RosterStatus.PUBLISHED
        )
    ).first()


def versions(session: Session, day: dt.date, area: str | None = None) -> list[m.Roster]:
    return list(
        session.scalars(
            select(m.Roster).where(col(m.Roster.date) == day, _area(area)).order_by(col(m.Roster.version))
        ).all()
    )


def parse_if_match(header: str | None) -> list[str]:
    """The entity tags of an ``If-Match`` header (``*`` is not accepted: name what you reviewed)."""
    if header is None or not header.strip():
        raise PreconditionRequired()
    tags = [t.strip() for t in header.split(",") if t.strip()]
    if any(t == "*" for t in tags):
        raise PreconditionRequired()
    return tags


def unplaced_mandatory(session: Session, roster_id: int) -> list[m.RosterUnassigned]:
    """The roster's unplaced visits that were mandatory when planned, by request id then leg."""
    return list(session.scalars(
        select(m.RosterUnassigned)
        .where(col(m.RosterUnassigned.roster_id) == roster_id, col(m.RosterUnassigned.mandatory).is_(True))
        .order_by(col(m.RosterUnassigned.visit_request_id), col(m.RosterUnassigned.id))
    ).all())


def mandatory_request_ids(rows: Sequence[m.RosterUnassigned | UnassignedView]) -> list[str]:
    """The distinct request ids of unplaced mandatory visits (a ride's legs are one request), sorted:
    what the count of unplaced mandatory visits counts and an acknowledgement lists."""
    return sorted({r.visit_request_id for r in rows if r.mandatory})


def check_acknowledgement(unplaced: list[m.RosterUnassigned], acknowledged: Sequence[str] | None) -> None:
    """Raise :class:`UnacknowledgedMandatory` unless ``acknowledged`` names exactly the requests of
    ``unplaced`` (the version's unplaced mandatory visits); nothing unplaced needs nothing."""
    expected = set(mandatory_request_ids(unplaced))
    given = set(acknowledged or ())
    if given != expected:
        raise UnacknowledgedMandatory(unplaced, sorted(expected - given), sorted(given - expected))


def publish_latest(
    session: Session, day: dt.date, if_match: str | None, actor: str, area: str | None = None,
    acknowledged: Sequence[str] | None = None,
) -> m.Roster:
    """Publish the latest draft of ``day`` if ``if_match`` is its ETag; audited.  Flushes, does not commit.

    ``acknowledged``: the request ids of the draft's unplaced mandatory visits, which the
    dispatcher has seen and publishes without (required exactly when there are any).

    Raises :class:`PreconditionRequired`, :class:`RosterNotFound`, :class:`PreconditionFailed`,
    :class:`PublishConflict` or :class:`UnacknowledgedMandatory`.  The caller commits and maps a
    failing commit to a conflict too (:func:`is_conflict_error`).
    """
    tags = parse_if_match(if_match)
    begin_write(session)  # SQLite: publishes queue up here; PostgreSQL: the row update below decides
    latest = latest_roster(session, day, area)
    if latest is None:
        raise RosterNotFound(f"no roster for {day.isoformat()}")
    if etag(latest) not in tags:
        raise PreconditionFailed(latest)
    if latest.status == m.RosterStatus.PUBLISHED:
        raise PublishConflict(
            f"version {latest.version} is already published (perhaps by a simultaneous request); nothing to do",
            latest,
        )
    missing = unplaced_mandatory(session, latest.id or 0)
    check_acknowledgement(missing, acknowledged)
    previous = published_roster(session, day, area)
    won = session.execute(
        update(m.Roster)
        .where(col(m.Roster.id) == latest.id, col(m.Roster.status) == m.RosterStatus.DRAFT)
        .values(status=m.RosterStatus.PUBLISHED)
    ).rowcount
    if not won:  # a simultaneous publish changed the row after our If-Match check: it no longer holds
        session.refresh(latest)
        raise PreconditionFailed(latest)
    session.execute(
        update(m.Roster)
        .where(col(m.Roster.date) == day, _area(area), col(m.Roster.status) == m.RosterStatus.PUBLISHED,
               col(m.Roster.id) != latest.id)
        .values(status=m.RosterStatus.SUPERSEDED)
    )
    changes = {"status": {"old": "draft", "new": "published"}, "date": {"old": None, "new": day.isoformat()},
               "version": {"old": previous.version if previous else None, "new": latest.version},
               "area": {"old": None, "new": area}}
    if missing:
        changes["acknowledged_unplaced_mandatory"] = {"old": None, "new": mandatory_request_ids(missing)}
    audit.record(session, actor, "roster.publish", "roster", str(latest.id), changes)
    session.flush()
    session.refresh(latest)
    return latest


def is_conflict_error(exc: BaseException) -> bool:
    """A database error meaning "someone else wrote this at the same moment" (lock or unique clash)."""
    return isinstance(exc, IntegrityError) or is_lock_error(exc)


# --------------------------------------------------------------------------- the detailed view


def visit_leg(
    request: m.VisitRequest | None, start_utc: dt.datetime, day: dt.date, tz: str | ZoneInfo,
    stored: str | None = None,
) -> str:
    """The leg of a stop: the stored one (``RosterAssignment.leg``), else for rows planned
    before legs were stored ``visit``, or for a ride ``outbound`` before the appointment and
    ``return`` after it (one driver visit per trip then)."""
    if request is None:
        return stored or "visit"
    return leg_of(stored, request.destination_place_id, request.appointment, start_utc, day, tz)


def leg_of(stored: str | None, destination_place_id: str | None, appointment: dt.time | None,
           start_utc: dt.datetime, day: dt.date, tz: str | ZoneInfo) -> str:
    """:func:`visit_leg` from the request's two columns it needs (for reads that select columns, not rows)."""
    if stored:
        return stored
    if destination_place_id is None or appointment is None:
        return "visit"
    return "outbound" if start_utc < local_to_utc(day, appointment, tz) else "return"


def senior_address(s: m.Senior) -> str:
    return s.address.line()


@dataclass(frozen=True)
class AssignmentView:
    sequence: int
    worker_id: str
    shift_index: int
    visit_request_id: str
    occurrence_date: dt.date
    leg: str
    senior_id: str
    senior_name: str
    address: str
    service: str
    service_name_pl: str
    service_name_en: str
    tasks: str
    arrival: dt.datetime
    start: dt.datetime
    end: dt.datetime
    travel_minutes: int
    waiting_minutes: int


@dataclass(frozen=True)
class BreakView:
    """A planned break: local times of the roster zone, with the offset."""

    shift_index: int
    start: dt.datetime
    end: dt.datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True)
class RouteView:
    worker_id: str
    worker_name: str
    worker_kind: str
    visits: list[AssignmentView]
    breaks: list[BreakView] = field(default_factory=list)


@dataclass(frozen=True)
class UnassignedView:
    visit_request_id: str
    leg: str
    senior_id: str | None
    senior_name: str | None
    service: str | None
    reason: str
    message_pl: str
    message_en: str
    details: dict[str, Any]
    mandatory: bool = False


@dataclass(frozen=True)
class RosterView:
    roster: m.Roster
    etag: str
    routes: list[RouteView]
    unassigned: list[UnassignedView]
    """Unplaced visits, the mandatory ones first."""
    versions: list[m.Roster] = field(default_factory=list)

    @property
    def unplaced_mandatory_ids(self) -> list[str]:
        """Request ids of the unplaced mandatory visits: what publishing must acknowledge."""
        return mandatory_request_ids(self.unassigned)


def roster_detail(session: Session, roster: m.Roster, tz: str | ZoneInfo) -> RosterView:
    """Everything a dispatcher or coordinator sees of one version (no health data), local times."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    assignments = session.scalars(
        select(m.RosterAssignment)
        .where(col(m.RosterAssignment.roster_id) == roster.id)
        .order_by(col(m.RosterAssignment.worker_id), col(m.RosterAssignment.shift_index),
                  col(m.RosterAssignment.sequence))
    ).all()
    unassigned = session.scalars(
        select(m.RosterUnassigned).where(col(m.RosterUnassigned.roster_id) == roster.id)
        .order_by(col(m.RosterUnassigned.mandatory).desc(), col(m.RosterUnassigned.id))
    ).all()
    breaks: dict[str, list[BreakView]] = {}
    for b in session.scalars(select(m.RosterBreak).where(col(m.RosterBreak.roster_id) == roster.id)
                             .order_by(col(m.RosterBreak.worker_id), col(m.RosterBreak.start))).all():
        breaks.setdefault(b.worker_id, []).append(
            BreakView(b.shift_index, b.start.astimezone(zone), b.end.astimezone(zone)))
    request_ids = {a.visit_request_id for a in assignments} | {u.visit_request_id for u in unassigned}
    requests = {r.id: r for r in session.scalars(
        select(m.VisitRequest).where(col(m.VisitRequest.id).in_(request_ids or {""}))).all()}
    seniors = {s.id: s for s in session.scalars(
        select(m.Senior).where(col(m.Senior.id).in_({r.senior_id for r in requests.values()} or {""}))).all()}
    workers = {w.id: w for w in session.scalars(
        select(m.Worker).where(col(m.Worker.id).in_({a.worker_id for a in assignments} or {""}))).all()}
    services = {s.code: s for s in session.scalars(select(m.Service)).all()}
    destinations = {p.id: p.name for p in session.scalars(select(m.Place).where(col(m.Place.id).in_(
        {r.destination_place_id for r in requests.values() if r.destination_place_id} or {""}))).all()}

    routes: dict[str, list[AssignmentView]] = {}
    for a in assignments:
        req = requests.get(a.visit_request_id)
        senior = seniors.get(req.senior_id) if req else None
        service = services.get(as_text(req.service)) if req else None
        leg = visit_leg(req, a.start, a.occurrence_date, zone, a.leg)
        address = senior_address(senior) if senior else ""
        if at_destination(leg) and req is not None:  # a taxi stop at the clinic, not at the senior's door
            address = destinations.get(req.destination_place_id or "", address)
        routes.setdefault(a.worker_id, []).append(AssignmentView(
            sequence=a.sequence, worker_id=a.worker_id, shift_index=a.shift_index,
            visit_request_id=a.visit_request_id, occurrence_date=a.occurrence_date,
            leg=leg,
            senior_id=senior.id if senior else "", senior_name=f"{senior.first_name} {senior.last_name}" if senior else "",
            address=address,
            service=as_text(req.service) if req else "", service_name_pl=service.name_pl if service else "",
            service_name_en=service.name_en if service else "", tasks=req.tasks if req else "",
            arrival=a.arrival.astimezone(zone), start=a.start.astimezone(zone), end=a.end.astimezone(zone),
            travel_minutes=a.travel_minutes, waiting_minutes=a.waiting_minutes,
        ))
    route_views = []
    for wid, visits in sorted(routes.items()):
        w = workers.get(wid)
        route_views.append(RouteView(
            worker_id=wid, worker_name=f"{w.first_name} {w.last_name}" if w else wid,
            worker_kind=as_text(w.kind) if w else "", visits=visits, breaks=breaks.get(wid, []),
        ))
    unassigned_views = []
    for u in unassigned:
        req = requests.get(u.visit_request_id)
        senior = seniors.get(req.senior_id) if req else None
        details = dict(u.details or {})
        unassigned_views.append(UnassignedView(
            visit_request_id=u.visit_request_id, leg=str(details.get("leg", "visit")),
            senior_id=senior.id if senior else None,
            senior_name=f"{senior.first_name} {senior.last_name}" if senior else None,
            service=as_text(req.service) if req else None, reason=u.reason, message_pl=u.message_pl,
            message_en=u.message_en, details=details, mandatory=bool(u.mandatory),
        ))
    return RosterView(roster, etag(roster), route_views, unassigned_views,
                      versions(session, roster.date, roster.area))


__all__ = [
    "AssignmentView",
    "BreakView",
    "PreconditionFailed",
    "PreconditionRequired",
    "PublishConflict",
    "RosterNotFound",
    "RosterView",
    "RouteView",
    "UnacknowledgedMandatory",
    "UnassignedView",
    "check_acknowledgement",
    "etag",
    "is_conflict_error",
    "latest_roster",
    "mandatory_request_ids",
    "publish_latest",
    "published_roster",
    "roster_detail",
    "roster_version",
    "unplaced_mandatory",
    "versions",
    "visit_leg",
]
