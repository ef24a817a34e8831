"""Run the database migrations from code, wherever the package is installed.

``carepath db upgrade`` and the tests call ``upgrade()``; nobody needs to know where
``alembic.ini`` or the ``migrations/`` folder live, because both ship inside the ``dispatch``
package and are located from this file.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from dispatch.storage.db import make_engine, normalise_database_url
from dispatch.settings import get_settings

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
ALEMBIC_INI = PACKAGE_DIR / "alembic.ini"


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic ``Config`` for our migrations and ``database_url`` (default: the settings' URL).

    Alembic's own logging setup is skipped: the host (CLI, server, pytest) owns logging.
    """
    url = normalise_database_url(database_url or get_settings().database_url)
    cfg = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.exists() else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser interpolation
    cfg.attributes["configure_logging"] = False
    return cfg


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: the newest), creating tables on a fresh one."""
    cfg = alembic_config(database_url)
    log.info("upgrading database schema to %s", revision)
    command.upgrade(cfg, revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    """Downgrade the database to ``revision`` (default: drop everything the migrations created)."""
    cfg = alembic_config(database_url)
    log.info("downgrading database schema to %s", revision)
    command.downgrade(cfg, revision)


def current_revision(database_url: str | None = None) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
