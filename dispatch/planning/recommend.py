"""Recommendations for one visit request on a day: who can take it, when, at what cost.

Against the latest version of the day's roster (draft or published; none: an empty plan)
read back into today's problem (``dispatch.planning.roster_plan``), the optimizer's
``recommend`` gives the cheapest feasible (worker, start) options, each checked by the
independent checker, with what it displaces, and why the next best workers cannot take it.
Here the minutes become local times and the reasons words (``dispatch.planning.explanations``).

The request is a stored one active that day (just submitted, or left unplaced; a placed one
gets the other places it could go), or one given inline and not stored (then it is planned as
a one-off visit on the day).  Taxi rides are not recommended: their legs and the car are
planned together.  Nothing is written.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from dispatch.storage import models as m
from dispatch.planning import publish
from dispatch.catalog.records import InvalidInput, NotFound, err
from dispatch.gc_pause import paused_gc
from dispatch.planning.explanations import worker_refusal
from dispatch.planning.roster_plan import LoadedRoster, build, load_roster, timer_of
from dispatch.settings import Settings
from dispatch.timeutil import from_minutes, utc_to_local
from dispatch.providers.travel_cache import shared_travel
from optimizer import load_weights
from optimizer import NotRecommendable, Recommendation, recommend

DEFAULT_TOP = 5
MAX_TOP = 20


@dataclass(frozen=True)
class InlineRequest:
    """A visit not stored, described as a request of the day would be (one-off, one window)."""

    senior_id: str
    service: str
    window_start: dt.time
    window_end: dt.time
    duration: int | None = None
    workers_needed: int = 1
    priority: int = 3
    mandatory: bool = False
    required_skills: tuple[str, ...] = ()
    soft_window: bool = False
    max_lateness: int = 0


@dataclass(frozen=True)
class WorkerRef:
    worker_id: str
    worker_name: str
    shift_index: int


@dataclass(frozen=True)
class OptionView:
    workers: list[WorkerRef]
    start: dt.datetime
    end: dt.datetime
    cost_increase: int
    terms: dict[str, int]
    displaces: dict[str, Any] | None


@dataclass(frozen=True)
class RefusalView:
    worker_id: str
    worker_name: str
    reason: str
    message_pl: str
    message_en: str
    details: dict[str, Any]


@dataclass(frozen=True)
class RecommendationView:
    date: dt.date
    area: str | None
    roster_version: int | None
    visit_request_id: str | None
    options: list[OptionView]
    others: list[RefusalView] = field(default_factory=list)
    elapsed_s: float = 0.0


def _inline_request(session: Session, day: dt.date, body: InlineRequest) -> m.VisitRequest:
    """``body`` as a transient request of ``day`` (checked like a stored one would be)."""
    errors = []
    if session.get(m.Senior, body.senior_id) is None:
        errors.append(err("senior_id", f"no senior with id '{body.senior_id}'"))
    service = session.get(m.Service, body.service)
    if service is None:
        errors.append(err("service", f"no service with code '{body.service}'"))
    elif service.kind == m.ServiceKind.RIDE:
        errors.append(err("service", "taxi rides are not recommended: their legs and the car are planned together"))
    if body.window_end < body.window_start:
        errors.append(err("window_end", "the window ends before it starts"))
    if errors:
        raise InvalidInput(errors)
    assert service is not None
    return m.VisitRequest(
        id=f"inline-{uuid.uuid4().hex[:12]}", senior_id=body.senior_id, service=body.service, first_date=day,
        window_start=body.window_start, window_end=body.window_end, duration=body.duration or service.default_duration,
        required_skills=list(body.required_skills or service.required_skills or []),
        workers_needed=body.workers_needed, priority=body.priority, mandatory=body.mandatory,
        soft_window=body.soft_window, max_lateness=body.max_lateness,
    )


def _stored_request(session: Session, request_id: str) -> m.VisitRequest:
    request = session.get(m.VisitRequest, request_id)
    if request is None:
        raise NotFound("visit request", request_id)
    if request.is_ride:
        raise InvalidInput([err("request_id", "taxi rides are not recommended: their legs and the car are planned "
                                              "together; re-plan the day instead")])
    return request


def load_latest(session: Session, day: dt.date, area: str | None, settings: Settings,
                extra: list[m.VisitRequest] | None = None) -> tuple[m.Roster | None, LoadedRoster]:
    """The latest version of ``day`` read back into today's problem (an empty plan if none)."""
    weights = load_weights(settings.weights_file)
    built = build(session, day, area, shared_travel(settings), settings.timezone, weights, extra or [])
    latest = publish.latest_roster(session, day, area)
    if latest is None:
        return None, LoadedRoster(m.Roster(date=day, area=area, version=0), built, {})
    return latest, load_roster(session, latest, built, settings.timezone)


def recommend_for(session: Session, day: dt.date, settings: Settings, *, request_id: str | None = None,
                  inline: InlineRequest | None = None, top: int = DEFAULT_TOP, others: int = DEFAULT_TOP,
                  area: str | None = None) -> RecommendationView:
    """Options for a stored request (``request_id``) or an ``inline`` one on ``day`` (module docstring)."""
    started = time.monotonic()
    if (request_id is None) == (inline is None):
        raise InvalidInput([err("request_id", "give either request_id or an inline request, not both")])
    request = _stored_request(session, request_id) if request_id else _inline_request(session, day, inline)  # type: ignore[arg-type]
    if inline is not None and area is not None:
        raise InvalidInput([err("area", "a request given inline is recommended against the city-wide roster only")])
    with paused_gc():  # the day's problem and plan are built in bulk (dispatch.gc_pause)
        latest, loaded = load_latest(session, day, area, settings, [] if request_id else [request])
        timer = timer_of(loaded)
    visit_ids = loaded.visit_ids(request.id)
    if not visit_ids:
        skipped = next((s for s in loaded.built.skipped if s.request_id == request.id), None)
        why = skipped.message_en if skipped else f"it does not happen on {day.isoformat()}" + (
            f" or its senior is not in area {area}" if area else "")
        raise InvalidInput([err("request_id", f"request {request.id!r} cannot be planned on {day.isoformat()}: {why}")])
    try:
        rec = recommend(loaded.problem, loaded.routes, visit_ids[0], top, others, timer)
    except NotRecommendable as exc:
        raise InvalidInput([err("request_id", str(exc))]) from None
    view = _view(session, day, loaded, rec, settings.timezone)
    return RecommendationView(day, area, latest.version if latest else None, request_id, view[0], view[1],
                              round(time.monotonic() - started, 3))


def _view(session: Session, day: dt.date, loaded: LoadedRoster, rec: Recommendation,
          tz: str) -> tuple[list[OptionView], list[RefusalView]]:
    zone = loaded.built.tz or tz
    # The three columns, not ORM workers (their shifts come along): at 10x that was half a second.
    names = {wid: f"{first} {last}" for wid, first, last in
             session.execute(select(m.Worker.id, m.Worker.first_name, m.Worker.last_name))}
    sources = loaded.built.sources
    visit = loaded.problem.visit_by_id()[rec.visit_id]
    workers = loaded.problem.worker_by_id()

    def local(minute: int) -> dt.datetime:
        return utc_to_local(from_minutes(minute, day, zone), zone)

    options = []
    for o in rec.options:
        duration = max(visit.duration_for(workers[w].kind) for w in o.workers)
        displaced = None
        if o.displaces is not None:
            src = sources[o.displaces]
            was = next(((r.worker_id, s) for r in rec.base.values() for s in r.stops if s.visit_id == o.displaces),
                       None)
            displaced = {"visit_request_id": src.request_id, "leg": src.leg,
                         "worker_id": was[0] if was else None,
                         "start": local(was[1].start) if was else None}
        options.append(OptionView([WorkerRef(w, names.get(w, w), si) for w, si in zip(o.workers, o.shifts)],
                                  local(o.start), local(o.start + duration), o.cost_increase, o.terms, displaced))
    others = []
    for r in rec.others:
        words = worker_refusal(names.get(r.worker_id, r.worker_id), r.reason, day, zone)
        others.append(RefusalView(r.worker_id, names.get(r.worker_id, r.worker_id), r.reason.reason.value,
                                  words.pl, words.en, dict(r.reason.details)))
    return options, others

