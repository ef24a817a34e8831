"""Imports of places, services, cars and seniors over HTTP (with the roles of every kind), templates,
and addresses looked up before the import's transaction.  Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from api.app import create_app
from dispatch.storage import models as m
from dispatch.providers.geocoding import RateLimit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv(*lines: str) -> bytes:
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def upload(client: TestClient, api: Any, kind: str, content: bytes, user: str, **params: Any) -> Any:
    return client.post(f"/api/v1/imports/{kind}", files={"file": ("plik.csv", content, "text/csv")}, params=params,
                       headers=api.auth(user))


def count(api: Any, model: Any) -> int:
    with Session(api.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


FILES = {
    "places": csv("kind;name;street;number;postcode;city;lat;lon", "destination;Apteka;Sienkiewicza;3;25-001;Kielce;"
                  "50,8710;20,6290"),
    "services": csv("code;name_pl;name_en;default_duration;worker_kinds;working_days_only",
                    "handyman;Złota rączka;Handyman;60;handyman;tak"),
    "cars": csv("plate;seats;base_place;available_from;available_to", "TK 55555;4;office-mopr;07:00;19:00"),
    "workers": csv("first_name;last_name;gender;kind;contract;weekly_hours;home_area;home_lat;home_lon;travel_mode",
                   "Ola;Lis;F;carer;zlecenie;20;area-centrum;50,87;20,63;walk"),
    "seniors": csv("first_name;last_name;gender;birth_year;street;number;postcode;city;area;lat;lon;disability",
                   "Irena;Wójcik;F;1944;Paderewskiego;7;25-004;Kielce;area-centrum;50,868;20,625;lekki"),
    "requests": csv("senior_id;service;first_date;window_start;window_end", "S1;home_care;07.12.2026;10:00;11:00"),
}
WRITERS = {"places": {"admin", "coordinator"}, "services": {"admin"}, "cars": {"admin"}, "workers": {"admin"},
           "seniors": {"admin", "coordinator"}, "requests": {"admin", "coordinator"}}


@pytest.mark.parametrize("kind", sorted(FILES))
def test_each_kind_is_imported_by_the_roles_that_write_it(api, kind: str) -> None:
    """Every role is tried on every kind: the writers of that kind over the API get 200 (dry run) and 201,
    the others 403; a worker may not import anything."""
    for user in ("admin", "coordinator", "dispatcher", "worker"):
        answer = upload(api.client, api, kind, FILES[kind], user, dry_run="true")
        expected = 200 if user in WRITERS[kind] else 403
        assert answer.status_code == expected, (kind, user, answer.text)
    created = upload(api.client, api, kind, FILES[kind], sorted(WRITERS[kind])[0])
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == kind and sum(created.json()["created"].values()) >= 1


def test_a_bad_row_in_the_middle_stores_nothing_and_every_problem_is_named(api) -> None:
    """Places, services, cars and seniors: each file has a good row, a bad one and a good one; the answer
    is one 422 import-invalid listing every problem by line and column, and no row is stored."""
    c = api.client
    places = upload(c, api, "places", csv("id;kind;name;postcode;lat;lon", "p-1;area;Herby;;50,84;20,62",
                                          "office-mopr;hospital;;25001;95;", "p-1;area;Bocianek;;50,89;20,61"), "admin")
    assert places.status_code == 422 and places.json()["type"].endswith("/import-invalid")
    assert {(e["row"], e["field"]) for e in places.json()["errors"]} == {
        (3, "id"), (3, "kind"), (3, "name"), (3, "postcode"), (3, "lat"), (3, "lon"), (4, "id")}
    services = upload(c, api, "services", csv("code;name_pl;name_en;default_duration;worker_kinds",
                                              "rehab;Rehabilitacja;Rehab;45;specialist_carer",
                                              "taxi;Taksówka;Taxi;30;pilot", "rehab;R;R;45;carer"), "admin")
    assert {(e["row"], e["field"]) for e in services.json()["errors"]} == {(3, "code"), (3, "worker_kinds"),
                                                                            (4, "code")}
    cars = upload(c, api, "cars", csv("plate;seats;base_place", "TK 1;3;office-mopr", "tk 12345;-1;nowhere",
                                      "tk  1;2;office-mopr"), "admin")
    assert {(e["row"], e["field"]) for e in cars.json()["errors"]} == {(3, "plate"), (3, "seats"), (3, "base_place"),
                                                                        (4, "plate")}
    seniors = upload(c, api, "seniors", csv(
        "first_name;last_name;gender;birth_year;street;number;postcode;city;area;lat;lon;disability;needs",
        "Irena;Wójcik;F;1944;Paderewskiego;7;25-004;Kielce;area-centrum;50,868;20,625;lekki;home_care",
        "Jan;Nowak;X;1890;Wesoła;1;25001;Kielce;area-centrum;;;brak;cooking",
        "Ewa;Lis;F;1950;Wesoła;2;25-001;Kielce;area-centrum;50,869;20,633;brak;"), "coordinator")
    assert {(e["row"], e["field"]) for e in seniors.json()["errors"]} == {
        (3, "gender"), (3, "birth_year"), (3, "postcode"), (3, "lat"), (3, "needs")}
    assert [count(api, t) for t in (m.Place, m.Service, m.Car, m.Senior)] == [3, 2, 1, 3]


def test_templates_give_the_columns_of_every_kind(api) -> None:
    """GET /imports/{kind}/template: the CSV header row as Polish Excel reads it, or an XLSX with a sheet
    describing the columns; coordinators and admins only; unknown kinds are 422."""
    c = api.client
    places = c.get("/api/v1/imports/places/template", headers=api.auth("coordinator"))
    assert places.status_code == 200 and places.headers["content-type"].startswith("text/csv")
    assert places.content == "\ufeffid;kind;name;street;number;postcode;city;lat;lon;note\r\n".encode()
    assert 'filename="carepath-places.csv"' in places.headers["content-disposition"]
    workbook = c.get("/api/v1/imports/seniors/template", params={"format": "xlsx"}, headers=api.auth("admin"))
    assert workbook.headers["content-type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert [c.value for c in book["seniors"][1]][:3] == ["id", "first_name", "last_name"]
    assert ["health_notes", "", "text"] == [c.value or "" for c in book["columns"][26]][:3]
    assert c.get("/api/v1/imports/places/template", headers=api.auth("dispatcher")).status_code == 403
    assert c.get("/api/v1/imports/pets/template", headers=api.auth("admin")).status_code == 422


@pytest.fixture
def geo(api: Any, nominatim_stub: Any) -> Iterator[TestClient]:
    """The app of ``api`` with a geocoder pointing at the stub (rate limit on the stub's clock)."""
    settings = api.settings.model_copy(update={"geocoder": "nominatim", "nominatim_url": nominatim_stub.url,
                                               "nominatim_user_agent": "carepath tests (tests@example.org)"})
    app = create_app(settings, api.engine)
    app.state.geocoder.provider.rate_limit = RateLimit(clock=nominatim_stub.clock.now, sleep=nominatim_stub.clock.sleep)
    with TestClient(app) as client:
        yield client


SENIORS_WITHOUT_COORDINATES = csv(
    "first_name;last_name;gender;birth_year;street;number;postcode;city;area;disability",
    "Irena;Wójcik;F;1944;Paderewskiego;7;25-004;Kielce;area-centrum;lekki",
    "Jan;Wójcik;M;1942;ul. Paderewskiego;7;25-004;Kielce;area-centrum;lekki",
    "Ewa;Lis;F;1950;Wesoła;3;25-001;Kielce;area-centrum;brak")


def test_addresses_are_looked_up_once_each_before_the_import(api, geo, nominatim_stub) -> None:
    """Rows without coordinates are located from the cache after one request per distinct address, a
    second apart; a dry run looks up too (a re-run asks nothing); an unknown address is a 422 naming its
    line and street, and nothing is stored."""
    nominatim_stub.add("7 Paderewskiego", "Kielce", 50.8680, 20.6250)
    dry = upload(geo, api, "seniors", SENIORS_WITHOUT_COORDINATES, "coordinator", dry_run="true")
    assert dry.status_code == 422, dry.text
    assert [(e["row"], e["field"]) for e in dry.json()["errors"]] == [(4, "street")]
    assert len(nominatim_stub.requests) == 2
    times = [r["at"] for r in nominatim_stub.requests]
    assert times[1] - times[0] >= 1.0
    nominatim_stub.add("3 Wesoła", "Kielce", 50.8690, 20.6330)
    still = upload(geo, api, "seniors", SENIORS_WITHOUT_COORDINATES, "coordinator")
    assert still.status_code == 422 and len(nominatim_stub.requests) == 2, "the miss is remembered"
    assert count(api, m.Senior) == 3
    with Session(api.engine) as s:
        s.delete(s.get(m.GeocodeCache, "wesoła 3|25-001|kielce|pl"))
        s.commit()
    done = upload(geo, api, "seniors", SENIORS_WITHOUT_COORDINATES, "coordinator")
    assert done.status_code == 201, done.text
    assert len(nominatim_stub.requests) == 3
    with Session(api.engine) as s:
        located = {(x.first_name, x.lat, x.lon) for x in s.exec(select(m.Senior)).all() if x.last_name in ("Wójcik", "Lis")}
    assert located == {("Irena", 50.868, 20.625), ("Jan", 50.868, 20.625), ("Ewa", 50.869, 20.633)}


def test_a_failing_geocoder_is_a_503_and_the_import_stores_nothing(api, geo, nominatim_stub) -> None:
    """The geocoder answers 503 while an import looks addresses up: 503 problem+json, no row stored."""
    nominatim_stub.status = 503
    answer = upload(geo, api, "seniors", SENIORS_WITHOUT_COORDINATES, "coordinator")
    assert answer.status_code == 503 and answer.json()["type"].endswith("/geocoder-unavailable")
    assert count(api, m.Senior) == 3 and count(api, m.GeocodeCache) == 0
