"""The audit log: every write (and every read of health data) leaves a row.

Append-only: no API route changes or deletes a row (``GET /audit`` is its only route), and on
PostgreSQL a trigger refuses UPDATE and DELETE outside ``allow_maintenance`` (retention, erasure).

Called inside the same transaction as the change it records, so a change and its audit
row are committed (or rolled back) together.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from dispatch.storage.models import AuditLog


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """Add an audit row (who, what, which record, what changed) to the current transaction.

    ``action`` is ``<entity>.<verb>`` (e.g. ``senior.update``, ``roster.publish``,
    ``senior.read_health``); ``changes`` maps field -> {"old": ..., "new": ...} for updates.
    """
    row = AuditLog(actor=actor, action=action, entity=entity, entity_id=entity_id, changes=changes or {})
    session.add(row)
    return row


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Field-by-field changes between two plain-data snapshots, for ``record(changes=...)``."""
    return {k: {"old": old.get(k), "new": v} for k, v in new.items() if old.get(k) != v}


#: The PostgreSQL setting that lets one transaction change or delete audit rows (migration 0018's trigger).
MAINTENANCE_SETTING = "carepath.audit_maintenance"


def allow_maintenance(session: Session) -> None:
    """Let this transaction update or delete audit rows: retention (old rows) and erasure (a senior's
    personal values in old rows).  Nothing else calls it, and no API route alters the log.

    PostgreSQL: ``SET LOCAL`` lasts until the transaction ends, so the permission cannot leak
    into another request's transaction on the same pooled connection.  SQLite has no trigger.
    """
    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL {MAINTENANCE_SETTING} = 'on'"))
