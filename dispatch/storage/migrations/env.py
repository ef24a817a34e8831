"""Alembic environment for carepath: SQLModel metadata, settings URL, batch mode on SQLite.

The URL comes from the Alembic config (``sqlalchemy.url``, set by ``dispatch.storage.migrate``) when
given, else from ``dispatch.settings``.  Custom column types are rendered as their plain
SQLAlchemy equivalents so that revision files never import application code that may change.
"""

from __future__ import annotations

import logging
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

import dispatch.storage.models  # noqa: F401  (registers every table on SQLModel.metadata)
from dispatch.storage.db import make_engine
from dispatch.settings import get_settings
from dispatch.storage.migrations.env_filters import include_object

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

log = logging.getLogger("alembic.env")
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render our TypeDecorators (UTCDateTime, ValueEnum, sqlmodel's AutoString) as their impl."""
    if type_ == "type" and isinstance(obj, TypeDecorator) and not type(obj).__module__.startswith("sqlalchemy"):
        return f"sa.{obj.impl_instance!r}"
    return False


def _database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_item=render_item,
        include_object=include_object,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade --sql``) without a database connection."""
    url = _database_url()
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # a caller (tests, dispatch.storage.migrate) lent us a connection
        _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_database_url())
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                _sqlite_foreign_keys(conn, on=False)
            try:
                # make_engine lets SQLAlchemy emit BEGIN on SQLite, so DDL there is transactional too:
                # a failing migration leaves the file as it was instead of half-migrated.
                _configure(connection=conn, render_as_batch=sqlite, **({"transactional_ddl": True} if sqlite else {}))
                with context.begin_transaction():
                    context.run_migrations()
                    if sqlite:
                        _check_sqlite_foreign_keys(conn)
            finally:
                if sqlite:
                    _sqlite_foreign_keys(conn, on=True)
    finally:
        engine.dispose()


def _sqlite_foreign_keys(conn: Any, *, on: bool) -> None:
    """Switch SQLite's foreign keys for this connection, outside any transaction (only there it works).

    Why off: a batch migration rebuilds a table (copy, DROP, rename), and with foreign keys on
    the DROP deletes every row first, which cascades (``worker_shifts`` of ``workers``) or fails.
    Alembic's documentation on batch mode gives the same advice.
    """
    conn.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _check_sqlite_foreign_keys(conn: Any) -> None:
    """Refuse to commit a migration that left a dangling reference (checked while keys are off)."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left {len(broken)} broken foreign keys, e.g. {broken[:3]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
