"""Regression tests for the defects the OpenAPI fuzzing found (``test_fuzz_openapi.py``, issue 20).

1. Local times were documented as JSON Schema ``format: time`` (RFC 3339, which needs an
   offset), so every time the API sent violated its own document: now a pattern without offset.
2. A U+0000 (NUL) character in any text (a JSON string, a form field, a query or path
   parameter, an import cell) was a 500 on PostgreSQL, which cannot store it: now a 422 naming
   the field, on both backends, and nothing is stored.

Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlmodel import Session, select

from dispatch.fields import LOCAL_TIME_PATTERN
from dispatch.storage import models as m

PROBLEM = "application/problem+json"


def _assert_422_naming(response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    fields = [e["field"] for e in response.json().get("errors", [])]
    assert field in fields, fields


def test_local_times_are_documented_as_the_api_sends_them(api) -> None:
    """No ``format: time`` in the OpenAPI document; a car's times (as sent) match the documented pattern."""
    document = api.client.get("/api/v1/openapi.json").json()
    assert '"format": "time"' not in str(document).replace("'", '"')
    car = document["components"]["schemas"]["CarPublic"]["properties"]["available_from"]
    assert car["pattern"] == LOCAL_TIME_PATTERN and "format" not in car
    sent = api.client.get("/api/v1/cars/C1", headers=api.auth("dispatcher")).json()
    assert re.match(LOCAL_TIME_PATTERN, sent["available_from"]) and re.match(LOCAL_TIME_PATTERN, sent["available_to"])
    for text in ("09:00", "09:00:00", "23:59:59.5"):
        assert re.match(LOCAL_TIME_PATTERN, text)
    for text in ("09:00+01:00", "09:00Z", "24:00", "9:00"):
        assert not re.match(LOCAL_TIME_PATTERN, text)


def test_a_nul_character_in_a_json_body_is_a_422_naming_the_field(api) -> None:
    """The fuzzer's POST /places and POST /seniors with ``\\x00`` in a string: 422, nothing stored."""
    with Session(api.engine) as s:
        places = s.exec(select(func.count()).select_from(m.Place)).one()
    r = api.client.post("/api/v1/places", headers=api.auth("admin"),
                        json={"kind": "area", "name": "Os\x00iedle", "street": "Sienkiewicza", "city": "Kielce",
                              "lat": 50.87, "lon": 20.63})
    _assert_422_naming(r, "name")
    r = api.client.post("/api/v1/seniors", headers=api.auth("coordinator"),
                        json={"first_name": "Ala", "last_name": "Nowak", "forbidden_workers": ["W1", "W\x002"]})
    _assert_422_naming(r, "forbidden_workers.1")
    with Session(api.engine) as s:
        assert s.exec(select(func.count()).select_from(m.Place)).one() == places


def test_a_nul_character_in_the_url_or_a_form_is_a_422(api) -> None:
    """Path and query parameters and the login form are text too."""
    h = api.auth("dispatcher")
    _assert_422_naming(api.client.get("/api/v1/seniors/S%001", headers=h), "path")
    _assert_422_naming(api.client.get("/api/v1/seniors", params={"cursor": "a\x00b"}, headers=h), "query.cursor")
    _assert_422_naming(api.client.post("/api/v1/auth/token", data={"username": "disp\x00atcher", "password": "x"}),
                       "username")


def test_a_nul_character_in_an_import_cell_is_refused_and_nothing_is_imported(api) -> None:
    """A spreadsheet cell with NUL: 422 naming the line and column, no row stored."""
    content = ("\ufeffid;kind;name;street;number;postcode;city;lat;lon\r\n"
               "area-nowa;area;Nowa\x00;Sienkiewicza;1;25-001;Kielce;50.87;20.63\r\n").encode()
    r = api.client.post("/api/v1/imports/places", files={"file": ("p.csv", content, "text/csv")},
                        headers=api.auth("admin"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM) and "NUL" in r.text
    with Session(api.engine) as s:
        assert s.get(m.Place, "area-nowa") is None
