"""A senior's absences (hospital, holiday): days on which a care plan creates no visits.

Domain.md 1.3: home care is paused while the client is in hospital (Końskie: "not ... while the
client is in hospital"; engine default "pause visits while the client is hospitalised").  An
absence does not cancel requests already entered: it is read when a care plan is expanded
(``dispatch.catalog.care_plans``).  Overlapping absences of one senior are refused, as a worker's are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch import limits
from dispatch.access import audit
from dispatch.storage import models as m
from dispatch.storage.care_models import SeniorAbsence
from dispatch.catalog.records import Conflict, InvalidInput, NotFound, created_changes, err, flush, length_errors, snapshot


def _senior(session: Session, senior_id: str) -> m.Senior:
    row = session.get(m.Senior, senior_id)
    if row is None:
        raise NotFound("senior", senior_id)
    return row


def list_absences(session: Session, senior_id: str) -> list[SeniorAbsence]:
    _senior(session, senior_id)
    stmt = (select(SeniorAbsence).where(col(SeniorAbsence.senior_id) == senior_id)
            .order_by(col(SeniorAbsence.from_date), col(SeniorAbsence.id)))
    return list(session.scalars(stmt).all())


def absences_between(session: Session, senior_id: str, start: dt.date, end: dt.date) -> list[SeniorAbsence]:
    """The senior's absences touching ``[start, end]``."""
    stmt = select(SeniorAbsence).where(col(SeniorAbsence.senior_id) == senior_id,
                                       col(SeniorAbsence.from_date) <= end, col(SeniorAbsence.to_date) >= start)
    return list(session.scalars(stmt).all())


def create_absence(session: Session, actor: str, senior_id: str, data: Mapping[str, Any]) -> SeniorAbsence:
    """Record that the senior is away on ``[from_date, to_date]``; overlapping absences are refused (409)."""
    _senior(session, senior_id)
    start, end = data.get("from_date"), data.get("to_date")
    errors = [err(name, "is required (a date)") for name, day in (("from_date", start), ("to_date", end))
              if not isinstance(day, dt.date)]
    errors += [err(name, p) for name, day in (("from_date", start), ("to_date", end))
               if isinstance(day, dt.date) and (p := limits.date_problem(day)) is not None]
    if not errors and end < start:  # type: ignore[operator]
        errors.append(err("to_date", f"to_date {end} is before from_date {start}"))
    if not errors and (problem := limits.absence_problem(start, end)) is not None:  # type: ignore[arg-type]
        errors.append(err("to_date", problem))
    reason = data.get("reason") or ""
    errors += length_errors(SeniorAbsence, {"reason": reason})
    if errors:
        raise InvalidInput(errors)
    overlap = absences_between(session, senior_id, start, end)  # type: ignore[arg-type]
    if overlap:
        o = overlap[0]
        raise Conflict(f"overlaps absence {o.id} ({o.from_date} to {o.to_date}); change that one instead", "from_date")
    row = SeniorAbsence(senior_id=senior_id, from_date=start, to_date=end, reason=reason)
    session.add(row)
    flush(session, "absence")
    audit.record(session, actor, "senior_absence.create", "senior_absence", str(row.id), created_changes(row))
    return row


def delete_absence(session: Session, actor: str, senior_id: str, absence_id: int) -> None:
    row = session.get(SeniorAbsence, absence_id)
    if row is None or row.senior_id != senior_id:
        raise NotFound("absence", absence_id)
    before = snapshot(row)
    session.delete(row)
    flush(session, "absence")
    audit.record(session, actor, "senior_absence.delete", "senior_absence", str(absence_id),
                 {k: {"old": v, "new": None} for k, v in before.items()})
