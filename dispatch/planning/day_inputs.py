"""The two questions a day's plan starts from, asked of the stored rows: who can work on this
day (``workers_on``) and what has to happen on it (``requests_active_on``).

Every planner (``dispatch.planning.rosters``, the jobs through it) and the worker's own views
(``dispatch.access.users``) ask these, so "available" and "active" mean one thing everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select
from sqlmodel import Session, col

from dispatch.catalog.recurrence import occurs_on
from dispatch.storage import models as m
from dispatch.storage.plain_rows import columns_of, records

@dataclass(frozen=True)
class WorkerDay:
    """A worker available on a given day, with that weekday's shifts in start order (ORM rows, or
    plain records: ``workers_on(plain=True)``)."""

    worker: m.Worker
    shifts: tuple[m.WorkerShift, ...]





def _available(day: dt.date) -> list[Any]:
    """Who can work on ``day``: a shift on its weekday and no absence covering it."""
    absent = exists().where(
        col(m.WorkerAbsence.worker_id) == col(m.Worker.id),
        col(m.WorkerAbsence.from_date) <= day,
        col(m.WorkerAbsence.to_date) >= day,
    )
    has_shift = exists().where(
        col(m.WorkerShift.worker_id) == col(m.Worker.id), col(m.WorkerShift.weekday) == day.weekday()
    )
    return [has_shift, ~absent]


def workers_on(session: Session, day: dt.date, *, plain: bool = False) -> list[WorkerDay]:
    """Workers with a shift on ``day``'s weekday and no absence covering ``day``, by worker id.

    ``plain``: the workers and shifts as plain records (``dispatch.storage.plain_rows``: no ORM
    objects, a worker's ``shifts`` relationship not there), for building a problem."""
    weekday = day.weekday()
    if plain:
        workers = records(session, m.Worker, columns_of(m.Worker).where(*_available(day)).order_by(col(m.Worker.id)))
        shifts: dict[str, list[Any]] = {}
        stmt = columns_of(m.WorkerShift).where(col(m.WorkerShift.weekday) == weekday).order_by(
            col(m.WorkerShift.worker_id), col(m.WorkerShift.start), col(m.WorkerShift.id))
        for s in records(session, m.WorkerShift, stmt):
            shifts.setdefault(s.worker_id, []).append(s)
        return [WorkerDay(worker=w, shifts=tuple(shifts.get(w.id, ()))) for w in workers]
    workers = session.scalars(select(m.Worker).where(*_available(day)).order_by(col(m.Worker.id))).all()
    return [WorkerDay(worker=w, shifts=tuple(s for s in w.shifts if s.weekday == weekday)) for w in workers]


def _active(day: dt.date) -> list[Any]:
    """Active requests whose dates can hold ``day`` (their rule decides: ``occurs_on``)."""
    return [
        col(m.VisitRequest.status) == m.RequestStatus.ACTIVE,
        col(m.VisitRequest.first_date) <= day,
        or_(col(m.VisitRequest.until).is_(None), col(m.VisitRequest.until) >= day),
    ]


def requests_active_on(session: Session, day: dt.date, *, plain: bool = False,
                       services: Mapping[str, Any] | None = None) -> list[m.VisitRequest]:
    """Active requests with an occurrence on ``day`` (RRULE expanded, holidays skipped), by id.

    ``plain``: as plain records (``dispatch.storage.plain_rows``) with ``service_info`` filled from
    ``services`` (by code; default: the services table read the same way), for building a problem."""
    if plain:
        if services is None:
            services = {s.code: s for s in records(session, m.Service)}
        stmt = columns_of(m.VisitRequest).where(*_active(day)).order_by(col(m.VisitRequest.id))
        candidates = records(session, m.VisitRequest, stmt, ("service_info",), lambda row: (services.get(row.service),))
    else:
        candidates = session.scalars(
            select(m.VisitRequest).where(*_active(day)).order_by(col(m.VisitRequest.id))).all()
    return [r for r in candidates if occurs_on(r, day)]
