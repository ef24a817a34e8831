"""What Alembic's autogenerate compares: our tables, not the job queue's.

procrastinate keeps its own tables (``procrastinate_*``) in the same PostgreSQL database and
manages them with its own schema tooling, so autogenerate must not propose dropping them.
"""

from __future__ import annotations

from typing import Any


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if reflected and compare_to is None and (name or "").startswith("procrastinate"):
        return False
    return True
