"""A roster version drawn as a day board: one row per worker, blocks over the day's timeline.

Pure presentation of ``dispatch.planning.publish.RosterView``: each visit becomes a block from its start to
its end, preceded by its travel (ending at the arrival) and the waiting between arrival and start;
breaks are blocks of their own.  Positions are minutes from the board's first hour, so the template
draws them as SVG coordinates (no inline styles: the CSP forbids them).  Services get a colour
class and a short label, so the legend does not rely on colour alone.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from dispatch.planning.publish import RosterView

#: Colour classes (``svc-0`` .. ``svc-7`` in console.css), given to services in a fixed order.
PALETTE_SIZE = 8


@dataclass(frozen=True)
class Block:
    kind: str
    """visit, travel, waiting or break."""
    x: int
    width: int
    start: dt.datetime
    end: dt.datetime
    label: str = ""
    service: str = ""
    colour: str = ""
    title: str = ""
    request_id: str = ""
    editable: bool = False
    """A visit a hand edit may move (taxi legs are re-planned, not moved by hand: ``visit_choices``)."""


@dataclass
class Row:
    worker_id: str
    worker_name: str
    worker_kind: str
    blocks: list[Block] = field(default_factory=list)
    visits: int = 0


@dataclass(frozen=True)
class LegendItem:
    service: str
    name_pl: str
    name_en: str
    short: str
    colour: str


@dataclass(frozen=True)
class Board:
    first_hour: int
    last_hour: int
    rows: list[Row]
    legend: list[LegendItem]

    @property
    def width(self) -> int:
        return (self.last_hour - self.first_hour) * 60

    @property
    def hours(self) -> list[int]:
        return list(range(self.first_hour, self.last_hour + 1))


def short_label(code: str) -> str:
    """Two letters that name a service in a block: ``home_care`` -> ``HC``, ``taxi`` -> ``TA``."""
    parts = [p for p in code.replace("-", "_").split("_") if p]
    if len(parts) >= 2:
        return (parts[0][0] + parts[1][0]).upper()
    return code[:2].upper()


def _minutes(value: dt.datetime, origin: dt.datetime) -> int:
    return int((value - origin).total_seconds() // 60)


def build_board(view: RosterView, day: dt.date) -> Board:
    """The board of ``view`` (local times as stored in the view)."""
    services: dict[str, LegendItem] = {}
    times: list[dt.datetime] = []
    for route in view.routes:
        for v in route.visits:
            times += [v.arrival - dt.timedelta(minutes=v.travel_minutes), v.end]
            if v.service not in services:
                services[v.service] = LegendItem(v.service, v.service_name_pl, v.service_name_en,
                                                 short_label(v.service), "")
        for b in route.breaks:
            times += [b.start, b.end]
    legend = [LegendItem(item.service, item.name_pl, item.name_en, item.short, f"svc-{i % PALETTE_SIZE}")
              for i, item in enumerate(sorted(services.values(), key=lambda s: s.service))]
    colour = {item.service: item.colour for item in legend}
    if times:
        tz = times[0].tzinfo
        origin_day = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
        first = max(0, math.floor(min(_minutes(t, origin_day) for t in times) / 60))
        last = min(24, math.ceil(max(_minutes(t, origin_day) for t in times) / 60))
    else:
        first, last = 7, 16
    last = max(last, first + 1)
    rows = []
    for route in view.routes:
        if not route.visits:
            continue
        tz = route.visits[0].start.tzinfo
        origin = dt.datetime.combine(day, dt.time(first), tzinfo=tz)
        row = Row(route.worker_id, route.worker_name, route.worker_kind, visits=len(route.visits))
        for v in route.visits:
            travel_start = v.arrival - dt.timedelta(minutes=v.travel_minutes)
            if v.travel_minutes > 0:
                row.blocks.append(Block("travel", _minutes(travel_start, origin), v.travel_minutes, travel_start,
                                        v.arrival))
            if v.start > v.arrival:
                row.blocks.append(Block("waiting", _minutes(v.arrival, origin), _minutes(v.start, v.arrival),
                                        v.arrival, v.start))
            row.blocks.append(Block("visit", _minutes(v.start, origin), max(1, _minutes(v.end, v.start)), v.start,
                                    v.end, short_label(v.service), v.service, colour.get(v.service, "svc-0"),
                                    v.senior_name, v.visit_request_id, editable=v.leg == "visit"))
        for b in route.breaks:
            row.blocks.append(Block("break", _minutes(b.start, origin), max(1, _minutes(b.end, b.start)), b.start,
                                    b.end))
        rows.append(row)
    return Board(first, last, rows, legend)


@dataclass(frozen=True)
class VisitChoice:
    """A visit the edit form can pick: placed (its workers and start) or unplaced."""

    request_id: str
    senior_name: str
    placed: str
    """e.g. "Anna Nowak 08:10" (both workers of a two-person visit), empty when unplaced."""


def visit_choices(view: RosterView) -> list[VisitChoice]:
    """The visits of ``view`` a hand edit applies to (taxi legs are re-planned, not edited by hand):
    the placed ones by start, then the unplaced ones."""
    placed: dict[str, list[tuple[dt.datetime, str, str]]] = {}
    for route in view.routes:
        for v in route.visits:
            if v.leg == "visit":
                placed.setdefault(v.visit_request_id, []).append((v.start, route.worker_name, v.senior_name))
    out = [VisitChoice(rid, stops[0][2], ", ".join(f"{name} {s:%H:%M}" for s, name, _ in stops))
           for rid, stops in sorted(placed.items(), key=lambda item: (min(s for s, _, _ in item[1]), item[0]))]
    seen = set(placed)
    for u in view.unassigned:
        if u.leg == "visit" and u.visit_request_id not in seen:
            seen.add(u.visit_request_id)
            out.append(VisitChoice(u.visit_request_id, u.senior_name or "", ""))
    return out
