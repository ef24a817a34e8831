"""Alembic: a fresh database upgrades to head, matches the models exactly, and downgrades cleanly."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import dispatch.storage.models  # noqa: F401  (registers tables)
from dispatch.storage.db import make_engine
from dispatch.storage.migrate import current_revision, downgrade, head_revision, upgrade

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
            from dispatch.storage.migrations.env_filters import include_object

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


def test_widening_ids_keeps_every_row_and_fits_long_slugs(empty_database_url: str) -> None:
    """0007 rebuilds tables on SQLite: a worker's shifts (ON DELETE CASCADE) survive, and 46-character ids fit.

    Regression: with foreign keys on, SQLite's DROP of the old ``workers`` table during a batch
    rebuild would cascade to ``worker_shifts``; PostgreSQL refused the demo's long destination ids.
    """
    from sqlalchemy import text

    upgrade(empty_database_url, "0004")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO places (id, kind, name, lat, lon, note) "
                              "VALUES ('area-centrum', 'area', 'Centrum', 50.87, 20.63, '')"))
            conn.execute(text(
                "INSERT INTO workers (id, first_name, last_name, gender, kind, skills, contract, weekly_hours, "
                "home_area, home_lat, home_lon, travel_mode, starts_at_office, max_daily_minutes) VALUES "
                "('w-1', 'Anna', 'Nowak', 'F', 'carer', '[]', 'full_time_basic', 40, 'area-centrum', 50.87, 20.63, "
                "'car', false, 480)"))
            conn.execute(text("INSERT INTO worker_shifts (worker_id, weekday, start, \"end\") "
                              "VALUES ('w-1', 0, '07:00:00', '15:00:00')"))
        upgrade(empty_database_url)
        slug = "destination-swietokrzyskie-centrum-psychiatrii"
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM worker_shifts WHERE worker_id = 'w-1'")).scalar() == 1
            conn.execute(text(f"INSERT INTO places (id, kind, name, lat, lon, note) "
                              f"VALUES ('{slug}', 'destination', 'Centrum Psychiatrii', 50.9, 20.6, '')"))
            assert conn.execute(text(f"SELECT name FROM places WHERE id = '{slug}'")).scalar() == "Centrum Psychiatrii"
    finally:
        engine.dispose()


def test_0010_reads_existing_rows_as_the_planner_did(empty_database_url: str) -> None:
    """0010 on a database with data: a senior's preferred gender stays a wish (``prefer``), one without
    has no rule; the care services are intimate care, the taxi is not; requests get empty windows and lists.
    """
    from sqlalchemy import text

    upgrade(empty_database_url, "0009")
    engine = make_engine(empty_database_url)
    senior = ("INSERT INTO seniors (id, first_name, last_name, gender, birth_year, street, number, postcode, city, "
              "area, lat, lon, phone, disability, lives_alone, wheelchair, mental_disorder, needs, preferred_gender, "
              "regular_workers, forbidden_workers, notes_for_workers, health_notes) VALUES ('{id}', 'A', 'B', 'F', "
              "1940, 'Focha', '1', '25-002', 'Kielce', 'area-centrum', 50.87, 20.63, '', 'lekki', false, false, "
              "false, '[]', {gender}, '[]', '[]', '', '')")
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO places (id, kind, name, lat, lon, note) "
                              "VALUES ('area-centrum', 'area', 'Centrum', 50.87, 20.63, '')"))
            for code in ("home_care", "personal_assistance", "taxi", "handyman"):
                conn.execute(text("INSERT INTO services (code, name_pl, name_en, worker_kinds, required_skills, "
                                  f"default_duration) VALUES ('{code}', 'x', 'x', '[]', '[]', 60)"))
            conn.execute(text(senior.format(id="s-1", gender="'F'")))
            conn.execute(text(senior.format(id="s-2", gender="NULL")))
            conn.execute(text(
                "INSERT INTO visit_requests (id, senior_id, service, first_date, window_start, window_end, duration, "
                "required_skills, workers_needed, priority, mandatory, soft_window, max_lateness, follow_min_delay, "
                "tasks, status) VALUES ('r-1', 's-1', 'home_care', '2026-12-01', '08:00:00', '09:00:00', 60, '[]', "
                "1, 3, false, false, 0, 0, '', 'active')"))
        upgrade(empty_database_url)
        with engine.connect() as conn:
            rules = dict(conn.execute(text("SELECT id, gender_rule FROM seniors")).all())
            intimate = {code: bool(flag) for code, flag in conn.execute(text("SELECT code, intimate_care FROM services"))}
            lists = conn.execute(text("SELECT extra_windows, required_workers, preferred_workers, forbidden_workers "
                                      "FROM visit_requests")).one()
    finally:
        engine.dispose()
    assert rules == {"s-1": "prefer", "s-2": "none"}
    assert intimate == {"home_care": True, "personal_assistance": True, "taxi": False, "handyman": False}
    assert [value if isinstance(value, list) else json.loads(value) for value in lists] == [[]] * 4
