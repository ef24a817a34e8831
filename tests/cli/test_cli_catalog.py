"""``carepath places`` and ``carepath services`` on the configured database (both backends): the same
rules and messages as the API, every problem printed with its field, exit code 2, nothing half-written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from dispatch.storage import models as m
from dispatch.cli.app import app
from dispatch.storage.db import make_engine

runner = CliRunner()


@pytest.fixture
def db(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """CAREPATH_DATABASE_URL points at a migrated, empty database; yields an engine on it."""
    from dispatch.settings import get_settings

    for name in ("CAREPATH_GEOCODER", "CAREPATH_NOMINATIM_URL", "CAREPATH_NOMINATIM_USER_AGENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CAREPATH_DATABASE_URL", database_url)
    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def rows(engine: Any, model: Any) -> list[Any]:
    with Session(engine) as s:
        return list(s.exec(select(model)).all())


def test_places_add_list_show_update_delete(db) -> None:
    """A place from an address and coordinates, with a readable id; list and show print it; update changes
    it (a moved address needs new coordinates); delete refuses a place a senior's area refers to... and
    removes one nothing refers to.  Every write is audited as cli:<user>."""
    added = run("places", "add", "Szpital Św. Aleksandra", "--kind", "destination", "--street", "Kościuszki",
                "--number", "25", "--postcode", "25-316", "--city", "Kielce", "--lat", "50.8660", "--lon", "20.6180")
    assert added.exit_code == 0, added.output
    assert "destination-szpital-sw-aleksandra" in added.output
    run("places", "add", "Centrum", "--kind", "area", "--lat", "50.8703", "--lon", "20.6280")
    listed = run("places", "list", "--kind", "destination")
    assert listed.exit_code == 0 and "destination-szpital-sw-aleksandra" in listed.output
    assert "area-centrum" not in listed.output
    shown = run("places", "show", "destination-szpital-sw-aleksandra")
    assert "Kościuszki" in shown.output and "25-316" in shown.output
    moved = run("places", "update", "destination-szpital-sw-aleksandra", "--number", "27")
    assert moved.exit_code == 2 and "lat: the address changed" in moved.output
    ok = run("places", "update", "destination-szpital-sw-aleksandra", "--number", "27", "--lat", "50.8661",
             "--lon", "20.6181")
    assert ok.exit_code == 0, ok.output
    with Session(db) as s:
        s.add(m.Senior(id="s-1", first_name="A", last_name="B", gender="F", birth_year=1940, street="X", number="1",
                       postcode="25-001", city="Kielce", area="area-centrum", lat=50.87, lon=20.63,
                       disability="lekki"))
        s.commit()
    refused = run("places", "delete", "area-centrum")
    assert refused.exit_code == 2 and "1 senior(s) (s-1)" in refused.output
    assert run("places", "delete", "destination-szpital-sw-aleksandra").exit_code == 0
    assert {p.id for p in rows(db, m.Place)} == {"area-centrum"}
    actions = [a.action for a in rows(db, m.AuditLog) if a.entity == "place"]
    assert actions == ["place.create", "place.create", "place.update", "place.delete"]
    assert all(a.actor.startswith("cli") for a in rows(db, m.AuditLog))


def test_places_mistakes_print_every_field_and_store_nothing(db) -> None:
    """No coordinates and no geocoder: the message names lat and how to fix it; a bad postcode and
    latitude are both named; unknown ids are errors; exit code 2 each time, no place stored."""
    missing = run("places", "add", "MOPR", "--kind", "office", "--street", "Studzienna", "--city", "Kielce")
    assert missing.exit_code == 2 and "lat: missing" in missing.output and "CAREPATH_GEOCODER" in missing.output
    bad = run("places", "add", "MOPR", "--kind", "office", "--postcode", "25544", "--lat", "95", "--lon", "20")
    assert bad.exit_code == 2 and "postcode:" in bad.output and "lat: must be a latitude" in bad.output
    assert run("places", "add", "MOPR").exit_code == 2  # no --kind
    assert run("places", "show", "nowhere").exit_code == 2
    assert run("places", "update", "nowhere", "--note", "x").exit_code == 2
    assert rows(db, m.Place) == []


def test_places_add_looks_the_address_up_with_a_configured_geocoder(db, nominatim_stub, monkeypatch) -> None:
    """CAREPATH_GEOCODER=nominatim with a self-hosted URL: the address is looked up once and cached."""
    from dispatch.settings import get_settings

    nominatim_stub.add("2 Studzienna", "Kielce", 50.8736, 20.6326)
    monkeypatch.setenv("CAREPATH_GEOCODER", "nominatim")
    monkeypatch.setenv("CAREPATH_NOMINATIM_URL", nominatim_stub.url)
    monkeypatch.setenv("CAREPATH_NOMINATIM_USER_AGENT", "carepath cli tests (tests@example.org)")
    get_settings.cache_clear()
    added = run("places", "add", "MOPR Kielce", "--kind", "office", "--street", "Studzienna", "--number", "2",
                "--postcode", "25-544", "--city", "Kielce")
    assert added.exit_code == 0, added.output
    assert "50.87360, 20.63260" in added.output
    assert [r["user_agent"] for r in nominatim_stub.requests] == ["carepath cli tests (tests@example.org)"]
    assert [c.query for c in rows(db, m.GeocodeCache)] == ["studzienna 2|25-544|kielce|pl"]
    nominatim_stub.status = 500
    down = run("places", "add", "Filia", "--kind", "office", "--street", "Żytnia", "--city", "Kielce")
    assert down.exit_code == 2 and "could not answer" in down.output
    assert len(rows(db, m.Place)) == 1


def test_services_add_list_show_update(db) -> None:
    """A service with repeated --worker-kind/--skill, flags, kind; list/show print it; update changes the
    duration and the mandatory default; mistakes name every field with exit code 2."""
    added = run("services", "add", "taxi", "--name-pl", "Taksówka dla seniora", "--name-en", "Senior taxi",
                "--duration", "30", "--worker-kind", "driver", "--skill", "driving_licence_b", "--kind", "ride",
                "--working-days-only")
    assert added.exit_code == 0, added.output
    assert "taxi" in run("services", "list").output
    shown = run("services", "show", "taxi").output
    assert "ride" in shown and "driving_licence_b" in shown and "Taksówka dla seniora" in shown
    assert run("services", "update", "taxi", "--duration", "40", "--mandatory").exit_code == 0
    [taxi] = rows(db, m.Service)
    assert (taxi.default_duration, taxi.mandatory, taxi.working_days_only, taxi.kind, taxi.worker_kinds) == \
        (40, True, True, m.ServiceKind.RIDE, ["driver"])
    bad = run("services", "add", "bad code", "--duration", "0", "--worker-kind", "nurse")
    assert bad.exit_code == 2
    for name in ("code:", "name_pl:", "name_en:", "default_duration:", "worker_kinds:"):
        assert name in bad.output
    assert run("services", "add", "taxi", "--name-pl", "a", "--name-en", "b", "--duration", "5",
               "--worker-kind", "driver").exit_code == 2
    assert run("services", "update", "taxi").exit_code == 2  # nothing to change
    assert run("services", "show", "cooking").exit_code == 2
    with Session(db) as s:
        assert s.exec(select(func.count()).select_from(m.Service)).one() == 1
