"""The two questions a day's plan starts from, asked of the stored rows: who can work on this
day (``workers_on``) and what has to happen on it (``requests_active_on``).

Every planner (``dispatch.planning.rosters``, the jobs through it) and the worker's own views
(``dispatch.access.users``) ask these, so "available" and "active" mean one thing everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlmodel import Session, col

from dispatch.catalog.recurrence import occurs_on
from dispatch.storage import models as m

@dataclass(frozen=True)
class WorkerDay:
    """A worker available on a given day, with that weekday's shifts in start order."""

    worker: m.Worker
    shifts: tuple[m.WorkerShift, ...]





def workers_on(session: Session, day: dt.date) -> list[WorkerDay]:
    """Workers with a shift on ``day``'s weekday and no absence covering ``day``, by worker id."""
    absent = exists().where(
        col(m.WorkerAbsence.worker_id) == col(m.Worker.id),
        col(m.WorkerAbsence.from_date) <= day,
        col(m.WorkerAbsence.to_date) >= day,
    )
    has_shift = exists().where(
        col(m.WorkerShift.worker_id) == col(m.Worker.id), col(m.WorkerShift.weekday) == day.weekday()
    )
    workers = session.scalars(select(m.Worker).where(has_shift, ~absent).order_by(col(m.Worker.id))).all()
    weekday = day.weekday()
    return [WorkerDay(worker=w, shifts=tuple(s for s in w.shifts if s.weekday == weekday)) for w in workers]


def requests_active_on(session: Session, day: dt.date) -> list[m.VisitRequest]:
    """Active requests with an occurrence on ``day`` (RRULE expanded, holidays skipped), by id."""
    candidates = session.scalars(
        select(m.VisitRequest)
        .where(
            col(m.VisitRequest.status) == m.RequestStatus.ACTIVE,
            col(m.VisitRequest.first_date) <= day,
            or_(col(m.VisitRequest.until).is_(None), col(m.VisitRequest.until) >= day),
        )
        .order_by(col(m.VisitRequest.id))
    ).all()
    return [r for r in candidates if occurs_on(r, day)]
