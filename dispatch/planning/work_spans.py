"""Each roster's working day per worker, stored with the roster and read back when a neighbouring
day is planned, so the labour rules (``dispatch.catalog.labour``) see the days around it.

Which version of another day counts: its published version and, when a draft newer than that
exists, the newest draft as well (a re-plan not yet published will most likely be), merged per
worker to the earliest start, the latest end and the larger minutes.  Over-cautious by design: a
rest computed from the wrong version would break the law on the day the other one is published.
Superseded versions never count.  Area rosters and the city-wide roster of a day are merged too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch.catalog import labour, labour_words
from dispatch.catalog.labour import DayLimit, LabourRules, WorkSpan
from dispatch.storage import models as m
from dispatch.timeutil import from_minutes
from optimizer import Solution


def record(session: Session, roster: m.Roster, day: dt.date, tz: str | None, solution: Solution,
           limits: Mapping[str, Sequence[DayLimit]]) -> None:
    """Store ``roster``'s working day per worker (every contract) and the labour limits applied."""
    spans: dict[str, list[int]] = {}
    for route in solution.routes:
        if not route.stops:
            continue
        s = spans.setdefault(route.worker_id, [route.start, route.end, 0])
        s[0], s[1], s[2] = min(s[0], route.start), max(s[1], route.end), s[2] + route.work_minutes
    for worker_id, (start, end, minutes) in sorted(spans.items()):
        session.add(m.WorkerWorkSpan(roster_id=roster.id, worker_id=worker_id, date=day,
                                     start=from_minutes(start, day, tz), end=from_minutes(end, day, tz),
                                     work_minutes=minutes))
    for worker_id, applied in sorted(limits.items()):
        for limit in applied:
            session.add(m.RosterLabourLimit(roster_id=roster.id, worker_id=worker_id, rule=limit.rule,
                                            details=dict(limit.details)))


def reach(day: dt.date, rules: LabourRules) -> tuple[dt.date, dt.date]:
    """The dates [first, last] whose work can bind ``day``: its week, its settlement period and its
    calendar year so far (the overtime left), and the day after (the next day's rest)."""
    monday, next_monday = labour.week_bounds(day)
    start, end = labour.period_bounds(day, rules.settlement_months)
    first = min(monday, start, dt.date(day.year, 1, 1))
    last = max(next_monday, end) - dt.timedelta(days=1)
    return first, last


def neighbours(session: Session, day: dt.date, worker_ids: Iterable[str],
               rules: LabourRules) -> dict[str, list[WorkSpan]]:
    """Work already planned or published on other days that can bind ``day``, per worker, by date.

    The days of ``day``'s week and settlement period come one span a day; the year's earlier days
    (read only for the overtime used so far) come summed, one span per settlement period dated on its
    first day, with only their minutes meaningful: a December plan reads a year of rows without
    building a year of objects.
    """
    wanted = set(worker_ids)
    if not wanted:
        return {}
    first, last = reach(day, rules)
    counted = _counted_rosters(session, first, last, day)
    near_first = min(labour.week_bounds(day)[0], labour.period_bounds(day, rules.settlement_months)[0])
    ws = m.WorkerWorkSpan
    in_range = [col(m.Roster.id) == col(ws.roster_id), col(ws.date) >= first, col(ws.date) <= last, col(ws.date) != day,
                col(m.Roster.status) != m.RosterStatus.SUPERSEDED]
    if len(wanted) <= 500:  # an area's plan, a small centre: only its workers' rows
        in_range.append(col(ws.worker_id).in_(sorted(wanted)))
    far: dict[tuple[str, dt.date], int] = {}
    for rid, worker_id, date, minutes in session.execute(
            select(ws.roster_id, ws.worker_id, ws.date, ws.work_minutes).where(*in_range, col(ws.date) < near_first)):
        if rid in counted and worker_id in wanted:
            far[(worker_id, date)] = max(far.get((worker_id, date), 0), minutes)
    merged: dict[tuple[str, dt.date], WorkSpan] = {}
    for rid, worker_id, date, start, end, minutes in session.execute(
            select(ws.roster_id, ws.worker_id, ws.date, ws.start, ws.end, ws.work_minutes).where(
                *in_range, col(ws.date) >= near_first)):
        if rid not in counted or worker_id not in wanted:
            continue
        seen = merged.get((worker_id, date))
        merged[(worker_id, date)] = WorkSpan(date, start, end, minutes) if seen is None else WorkSpan(
            date, min(seen.start, start), max(seen.end, end), max(seen.work_minutes, minutes))
    periods: dict[tuple[str, dt.date], int] = defaultdict(int)
    for (worker_id, date), minutes in far.items():
        periods[(worker_id, labour.period_bounds(date, rules.settlement_months)[0])] += minutes
    for (worker_id, period_start), minutes in periods.items():
        midnight = dt.datetime.combine(period_start, dt.time(0), tzinfo=dt.UTC)
        merged[(worker_id, period_start)] = WorkSpan(period_start, midnight, midnight, minutes)
    out: dict[str, list[WorkSpan]] = defaultdict(list)
    for (worker_id, _), span in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        out[worker_id].append(span)
    return dict(out)


def _counted_rosters(session: Session, first: dt.date, last: dt.date, day: dt.date) -> set[int]:
    """The roster versions of the days in [first, last] but ``day`` whose work counts: each (date, area)'s
    published version and the newest draft newer than it."""
    rosters = session.execute(
        select(m.Roster.id, m.Roster.date, m.Roster.area, m.Roster.version, m.Roster.status).where(
            col(m.Roster.date) >= first, col(m.Roster.date) <= last, col(m.Roster.date) != day,
            col(m.Roster.status) != m.RosterStatus.SUPERSEDED)
    ).all()
    by_day: dict[tuple[dt.date, str | None], list[tuple[int, int, object]]] = defaultdict(list)
    for rid, date, area, version, status in rosters:
        by_day[(date, area)].append((version, rid, status))
    counted: set[int] = set()
    for versions in by_day.values():
        published = [v for v in versions if v[2] == m.RosterStatus.PUBLISHED]
        base = max(v[0] for v in published) if published else 0
        counted.update(rid for _, rid, _ in published)
        drafts = [v for v in versions if v[2] == m.RosterStatus.DRAFT and v[0] > base]
        if drafts:
            counted.add(max(drafts, key=lambda v: v[0])[1])
    return counted


def limits_of(session: Session, roster_id: int) -> list[m.RosterLabourLimit]:
    """The labour limits a roster was planned under, by worker."""
    return list(session.scalars(select(m.RosterLabourLimit).where(col(m.RosterLabourLimit.roster_id) == roster_id)
                                .order_by(col(m.RosterLabourLimit.worker_id), col(m.RosterLabourLimit.id))).all())


def limit_views(session: Session, roster: m.Roster, tz: str | None) -> list[dict[str, Any]]:
    """The roster's labour limits as the roster view shows them: worker, rule, its numbers and why, in
    Polish and English with the day's local clock."""
    out = []
    for row in limits_of(session, roster.id or 0):
        words = labour_words.limit_words(row.rule, row.details, roster.date, tz)
        out.append({"worker_id": row.worker_id, "rule": row.rule, "details": dict(row.details),
                    "message_pl": words.pl, "message_en": words.en})
    return out
