"""Alembic: a fresh database upgrades to head, matches the models exactly, and downgrades cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import dispatch.models  # noqa: F401  (registers tables)
from dispatch.db import make_engine
from dispatch.migrate import current_revision, downgrade, head_revision, upgrade

EXPECTED_TABLES = {
    "places", "seniors", "workers", "worker_shifts", "worker_absences", "cars", "services",
    "visit_requests", "rosters", "roster_assignments", "roster_unassigned", "users", "audit_log",
}


def test_fresh_database_upgrades_to_head(empty_database_url: str) -> None:
    """upgrade() on an empty database creates every table and stamps the head revision."""
    assert current_revision(empty_database_url) is None
    upgrade(empty_database_url)
    assert current_revision(empty_database_url) == head_revision() is not None
    engine = make_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert EXPECTED_TABLES <= tables
    assert "alembic_version" in tables


def test_autogenerate_finds_no_difference(database_url: str) -> None:
    """The migrated schema and SQLModel.metadata agree: types, nullability, indexes, keys."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            from dispatch.migrations.env_filters import include_object

            ctx = MigrationContext.configure(
                conn,
                opts={"compare_type": True, "target_metadata": SQLModel.metadata, "include_object": include_object},
            )
            diff = compare_metadata(ctx, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree; write a new revision: {diff}"


def test_downgrade_to_base_removes_all_tables(empty_database_url: str) -> None:
    """downgrade() to base leaves only Alembic's bookkeeping table behind; upgrade works again."""
    database_url = empty_database_url
    upgrade(database_url)
    downgrade(database_url, "base")
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables <= {"alembic_version"}
    upgrade(database_url)  # and back up again
    assert current_revision(database_url) == head_revision()
