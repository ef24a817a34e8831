"""Reading the audit log (admins only), newest first.

Filters combine with AND.  Rows come newest first by ``id`` (ids grow with every row
written).  To page back in time, pass the smallest ``id`` of a page as
``before_id`` for the next (older) page: a cursor, so rows written meanwhile never shift pages.

Audit rows can quote changed personal (and health) fields, so reading them is itself
recorded as an ``audit.read`` row naming the filters used.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlmodel import Session, col, select

from api.deps import CurrentUser, get_session, require_roles
from api.schemas.types import int_query
from dispatch.access import audit
from dispatch.storage.models import AuditLog, UserRole

router = APIRouter(prefix="/audit", tags=["audit"])

MAX_LIMIT = 1000


class AuditEntry(BaseModel):
    """One audit row: who did what to which record, when, and what changed."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    changes: dict[str, Any]


@router.get(
    "",
    operation_id="audit-list",
    response_model=list[AuditEntry],
    responses={401: {"description": "no valid token"}, 403: {"description": "not an admin"}},
)
def list_audit(
    admin: Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN))],
    session: Annotated[Session, Depends(get_session, scope="function")],
    entity: Annotated[str | None, Query(max_length=64, description="e.g. user, senior, roster")] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=100, description="username (or 'carepath demo', ...)")] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. user.update")] = None,
    before_id: Annotated[int | None, int_query("only rows older than this id (paging)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[AuditEntry]:
    """Audit rows matching the filters, newest first, at most ``limit``."""
    filters = {"entity": entity, "entity_id": entity_id, "actor": actor, "action": action, "before_id": before_id}
    statement = select(AuditLog)
    if entity is not None:
        statement = statement.where(col(AuditLog.entity) == entity)
    if entity_id is not None:
        statement = statement.where(col(AuditLog.entity_id) == entity_id)
    if actor is not None:
        statement = statement.where(col(AuditLog.actor) == actor)
    if action is not None:
        statement = statement.where(col(AuditLog.action) == action)
    if before_id is not None:
        statement = statement.where(col(AuditLog.id) < before_id)
    statement = statement.order_by(col(AuditLog.id).desc()).limit(limit)
    rows = [
        AuditEntry(
            id=r.id or 0, at=r.at, actor=r.actor, action=r.action, entity=r.entity, entity_id=r.entity_id,
            changes=r.changes,
        )
        for r in session.exec(statement).all()
    ]
    audit.record(
        session, admin.username, "audit.read", "audit", None,
        {k: v for k, v in filters.items() if v is not None} | {"rows": len(rows)},
    )
    return rows
