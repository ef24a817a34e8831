"""The audit log: every write (and every read of health data) leaves a row.

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
