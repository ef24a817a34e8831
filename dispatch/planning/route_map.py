"""Where each stop of a roster version is, for drawing routes on a map.

The roster itself stores times, not coordinates; this joins a ``publish.RosterView`` with the
seniors', destinations' and workers' coordinates.  A taxi leg at the destination (drop-off,
escort at the clinic) is drawn at the destination place, every other stop at the senior's home;
each route starts at the worker's home.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from dispatch.storage import models as m
from dispatch.planning.publish import RosterView
from dispatch.planning.ride_legs import at_destination


@dataclass(frozen=True)
class MapStop:
    lat: float
    lon: float
    start: str
    """Local start time, HH:MM."""
    label: str
    service: str


@dataclass(frozen=True)
class MapRoute:
    worker_id: str
    worker_name: str
    home: tuple[float, float] | None
    stops: list[MapStop]


def route_stops(session: Session, view: RosterView) -> list[MapRoute]:
    """Every route of ``view`` as map points, in route order (stops without coordinates are left out)."""
    request_ids = {v.visit_request_id for r in view.routes for v in r.visits}
    requests = {r.id: r for r in session.scalars(
        select(m.VisitRequest).where(col(m.VisitRequest.id).in_(request_ids or {""}))).all()}
    seniors = {s.id: s for s in session.scalars(
        select(m.Senior).where(col(m.Senior.id).in_({r.senior_id for r in requests.values()} or {""}))).all()}
    places = {p.id: p for p in session.scalars(select(m.Place).where(col(m.Place.id).in_(
        {r.destination_place_id for r in requests.values() if r.destination_place_id} or {""}))).all()}
    workers = {w.id: w for w in session.scalars(
        select(m.Worker).where(col(m.Worker.id).in_({r.worker_id for r in view.routes} or {""}))).all()}
    out = []
    for route in view.routes:
        stops = []
        for v in route.visits:
            req = requests.get(v.visit_request_id)
            point: tuple[float, float] | None = None
            if req is not None and at_destination(v.leg) and req.destination_place_id in places:
                place = places[req.destination_place_id or ""]
                point = (place.lat, place.lon)
            elif v.senior_id in seniors:
                senior = seniors[v.senior_id]
                point = (senior.lat, senior.lon)
            if point is not None:
                stops.append(MapStop(point[0], point[1], v.start.strftime("%H:%M"),
                                     f"{v.senior_name}, {v.address}", v.service))
        worker = workers.get(route.worker_id)
        home = (worker.home_lat, worker.home_lon) if worker else None
        out.append(MapRoute(route.worker_id, route.worker_name, home, stops))
    return out
