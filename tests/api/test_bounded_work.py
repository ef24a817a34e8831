"""Bounded work per request (issue 21, item 4): the reproducers of inputs that stalled the server.

* ``"rrule": "FREQ=SECONDLY"`` took 119 s and 1.98 GB to store, then ``GET /requests?active_on=``
  took 27 s (``MINUTELY`` 3.6 s): rules below daily are refused wherever a rule comes in, and a
  rule stored before the fix is left out of lists and plans instead of being expanded.
* A 95 KB XLSX of 100,000 rows took 61.5 s and 333 MB before its 422: refused at the row limit.
* A 50 MB JSON body was parsed in full before validation: 413 before it is read, also when it
  comes chunked (tested against a real uvicorn server).

Every refusal is problem+json naming the field or limit, and nothing is stored.  Every test runs on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import logging
import select
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select as sql_select

from api.app import create_app
from dispatch.exchange import imports
from dispatch.storage import models as m
from fixtures.seed import ScenarioError, load_scenario
from dispatch.planning.day_inputs import requests_active_on
from tests.api.conftest import DAY, small_scenario

CARE = {"senior_id": "S2", "service": "home_care", "first_date": "2026-12-02", "window_start": "14:00",
        "window_end": "15:30", "tasks": "spacer"}
PROBLEM = "application/problem+json"
MiB = 1024 * 1024


def count(api: Any, model: type) -> int:
    with Session(api.engine) as session:
        return int(session.exec(sql_select(func.count()).select_from(model)).one())


def upload(api: Any, path: str, content: bytes, name: str, headers: dict[str, str]) -> httpx.Response:
    return api.client.post(f"/api/v1/imports/{path}", files={"file": (name, content, "application/octet-stream")},
                           headers=headers)


# --------------------------------------------------------------------------- RRULE


@pytest.mark.parametrize("rule", ["FREQ=SECONDLY", "FREQ=MINUTELY", "FREQ=HOURLY"])
def test_rules_below_daily_are_refused_by_create_update_and_import(api, rule: str) -> None:
    """The reproducer's rule (and MINUTELY, HOURLY) is a 422 problem naming the field ``rrule`` on POST, on
    PATCH (the request keeps its rule) and on a spreadsheet import (with its row); nothing is stored."""
    h = api.auth("coordinator")
    before = count(api, m.VisitRequest)
    created = api.client.post("/api/v1/requests", json=CARE | {"rrule": rule}, headers=h)
    assert created.status_code == 422 and created.headers["content-type"] == PROBLEM
    assert [e["field"] for e in created.json()["errors"]] == ["rrule"]
    assert "repeats within a day" in created.json()["errors"][0]["message"]

    patched = api.client.patch("/api/v1/requests/R1", json={"rrule": rule}, headers=h)
    assert patched.status_code == 422 and [e["field"] for e in patched.json()["errors"]] == ["rrule"]
    assert api.client.get("/api/v1/requests/R1", headers=h).json()["rrule"] == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"

    csv = f'\ufeffsenior_id;service;first_date;window_start;window_end;rrule\r\nS2;home_care;02.12.2026;14:00;15:30;"{rule}"\r\n'
    imported = upload(api, "requests", csv.encode(), "zlecenia.csv", h)
    assert imported.status_code == 422 and imported.headers["content-type"] == PROBLEM
    assert [(e["row"], e["field"]) for e in imported.json()["errors"]] == [(2, "rrule")]
    assert count(api, m.VisitRequest) == before


def test_a_scenario_with_a_rule_below_daily_is_refused_before_writing(database_url: str) -> None:
    """Loading fixtures validates rules with the same validator: the scenario is refused, naming the request."""
    from dispatch.storage.db import make_engine

    scenario = small_scenario()
    bad = dataclasses.replace(scenario.requests[1], rrule="FREQ=MINUTELY")
    scenario = dataclasses.replace(scenario, requests=(scenario.requests[0], bad, *scenario.requests[2:]))
    engine = make_engine(database_url)
    try:
        with Session(engine) as session, pytest.raises(ScenarioError, match=r"request R2: rrule 'FREQ=MINUTELY'"):
            load_scenario(session, scenario)
        with Session(engine) as session:
            assert session.exec(sql_select(func.count()).select_from(m.VisitRequest)).one() == 0
    finally:
        engine.dispose()


def test_a_stored_secondly_rule_is_left_out_of_lists_and_plans_with_a_warning(api, caplog) -> None:
    """A FREQ=SECONDLY rule already in the database (stored before the validator) no longer stalls
    ``GET /requests?active_on=`` or the day's planning input: the request is left out of both, with a
    warning naming it, while the others are listed; it stays readable and must be corrected to change."""
    with Session(api.engine) as session:
        row = m.VisitRequest(id="R-OLD", **{**CARE, "first_date": dt.date(2026, 11, 30),
                                             "window_start": dt.time(14), "window_end": dt.time(15, 30)},
                             duration=30, rrule="FREQ=SECONDLY")
        session.add(row)
        session.commit()
    h = api.auth("dispatcher")
    with caplog.at_level(logging.WARNING, logger="dispatch.catalog.recurrence"):
        listed = api.client.get("/api/v1/requests", params={"active_on": DAY.isoformat()}, headers=h)
        with Session(api.engine) as session:
            planned = [r.id for r in requests_active_on(session, DAY)]
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["items"]] == ["R1", "R2", "R3", "R4"]
    assert planned == ["R1", "R2", "R3", "R4"]
    assert any("R-OLD" in r.getMessage() and "FREQ=SECONDLY" in r.getMessage() for r in caplog.records)
    assert api.client.get("/api/v1/requests/R-OLD", headers=h).json()["rrule"] == "FREQ=SECONDLY"
    coordinator = api.auth("coordinator")
    still_bad = api.client.patch("/api/v1/requests/R-OLD", json={"priority": 4}, headers=coordinator)
    assert still_bad.status_code == 422 and [e["field"] for e in still_bad.json()["errors"]] == ["rrule"]
    fixed = api.client.patch("/api/v1/requests/R-OLD", json={"rrule": "FREQ=DAILY"}, headers=coordinator)
    assert fixed.status_code == 200, fixed.text
    relisted = api.client.get("/api/v1/requests", params={"active_on": DAY.isoformat()}, headers=h)
    assert "R-OLD" in [r["id"] for r in relisted.json()["items"]]


# --------------------------------------------------------------------------- imports


def test_the_100000_row_xlsx_is_refused_over_http_with_the_row_limit(api) -> None:
    """The reproducer's XLSX of 100,000 rows (built here, a few KB) is a 422 ``import-invalid`` naming the
    row limit and the line where reading stopped; nothing is stored.  (That reading stops there is shown in
    tests/dispatch/test_import_limits.py.)"""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["senior_id", "service", "first_date", "window_start", "window_end"])
    for _ in range(100_000):
        sheet.append(["S1"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert len(buffer.getvalue()) < imports.MAX_FILE_BYTES
    before = count(api, m.VisitRequest), count(api, m.AuditLog)
    response = upload(api, "requests", buffer.getvalue(), "zlecenia.xlsx", api.auth("coordinator"))
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("/import-invalid")
    assert body["errors"] == [{"row": imports.MAX_ROWS + 2, "field": "file", "message": (
        f"the file has more than {imports.MAX_ROWS} rows below the header (MAX_ROWS; empty rows count too): "
        "split it into several files")}]
    assert (count(api, m.VisitRequest), count(api, m.AuditLog)) == before


# --------------------------------------------------------------------------- request bodies


def test_a_50_mb_json_body_is_refused_with_413_before_it_is_read(api) -> None:
    """The reproducer: 50 MB declared by Content-Length get a 413 problem naming the body and the setting,
    without being parsed (the body is not even valid JSON; parsing it would have given a 422)."""
    before = count(api, m.VisitRequest)
    body = b'{"senior_id": "S2", "tasks": "' + b"x" * (50 * MiB)
    response = api.client.post("/api/v1/requests", content=body, headers=api.auth("coordinator") | {
        "Content-Type": "application/json"})
    assert response.status_code == 413 and response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith("/payload-too-large") and problem["status"] == 413
    assert problem["errors"] == [{"field": "body", "message": f"at most {MiB} bytes (CAREPATH_MAX_JSON_BODY_BYTES)"}]
    assert "CAREPATH_MAX_JSON_BODY_BYTES" in problem["detail"] and problem["instance"] == "/api/v1/requests"
    assert count(api, m.VisitRequest) == before


def test_a_chunked_body_is_counted_as_it_arrives(api) -> None:
    """Without Content-Length (chunked), the bytes are counted as the application reads them: past the
    limit the answer is the same 413 problem, and nothing is stored."""
    before = count(api, m.VisitRequest)

    def chunks() -> Iterator[bytes]:
        yield b'{"senior_id": "S2", "tasks": "'
        for _ in range(3):
            yield b"x" * (MiB // 2)

    response = api.client.post("/api/v1/requests", content=chunks(), headers=api.auth("coordinator") | {
        "Content-Type": "application/json"})
    assert response.status_code == 413 and response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "body"
    assert count(api, m.VisitRequest) == before


def test_bodies_within_the_limits_work_and_imports_have_their_own(api) -> None:
    """A JSON body just under 1 MiB (padded with whitespace) is read as usual (201); an import upload larger
    than the JSON limit reaches the import, which answers for itself (here 422: too many rows); an upload
    past the upload limit gets 413 naming CAREPATH_MAX_UPLOAD_BODY_BYTES; and a multipart body sent
    anywhere else gets the JSON limit."""
    h = api.auth("coordinator")
    padded = json.dumps(CARE).encode() + b" " * (MiB - 1024)
    created = api.client.post("/api/v1/requests", content=padded, headers=h | {"Content-Type": "application/json"})
    assert created.status_code == 201, created.text

    rows = b"senior_id;service;tasks\r\n" + b"S1;home_care;" + b"t" * 400 + b"\r\n" * 1
    big_csv = rows + (b"S1;home_care;" + b"t" * 400 + b"\r\n") * (imports.MAX_ROWS + 10)
    assert MiB < len(big_csv) < imports.MAX_FILE_BYTES
    reached = upload(api, "requests", big_csv, "duzy.csv", h)
    assert reached.status_code == 422 and "MAX_ROWS" in reached.json()["detail"]

    too_big = upload(api, "requests", b"x" * (imports.MAX_FILE_BYTES + 128 * 1024), "za_duzy.csv", h)
    assert too_big.status_code == 413 and too_big.headers["content-type"] == PROBLEM
    assert "CAREPATH_MAX_UPLOAD_BODY_BYTES" in too_big.json()["errors"][0]["message"]

    elsewhere = api.client.post("/api/v1/requests", files={"file": ("a.csv", b"x" * (2 * MiB), "text/csv")}, headers=h)
    assert elsewhere.status_code == 413 and "CAREPATH_MAX_JSON_BODY_BYTES" in elsewhere.json()["detail"]


def test_the_limits_are_settings(api) -> None:
    """CAREPATH_MAX_JSON_BODY_BYTES sets the JSON limit (here 4 KiB: a 5 KiB body is refused, a small one
    is not) and CAREPATH_MAX_UPLOAD_BODY_BYTES the upload limit."""
    settings = api.settings.model_copy(update={"max_json_body_bytes": 4096, "max_upload_body_bytes": 8192})
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings, api.engine, clock=api.client.app.state.clock)) as client:
        h = api.auth("coordinator")
        small = client.post("/api/v1/requests", json=CARE, headers=h)
        assert small.status_code == 201, small.text
        large = client.post("/api/v1/requests", json=CARE | {"tasks": "x" * 5000}, headers=h)
        assert large.status_code == 413 and "4096" in large.json()["detail"]
        upload_ = client.post("/api/v1/imports/requests", files={"file": ("a.csv", b"x" * 9000, "text/csv")}, headers=h)
        assert upload_.status_code == 413 and "8192" in upload_.json()["detail"]


# --------------------------------------------------------------------------- a real server for chunked bodies
# A raw socket, because an HTTP client sends the whole body before it reads the answer.


def test_a_50_mb_chunked_body_to_a_real_server_is_cut_off_with_413(live_api) -> None:
    """A client streaming 50 MB of JSON without Content-Length to uvicorn gets the 413 problem while it is
    still sending, after far less than 50 MB went out (the limit plus what the sockets buffer); nothing is
    stored and the server answers the next request."""
    host, port = httpx.URL(live_api.base_url).host, httpx.URL(live_api.base_url).port
    before = count(live_api, m.VisitRequest)
    token = live_api.auth("coordinator")["Authorization"]
    head = (f"POST /api/v1/requests HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"x" * (64 * 1024)
    total, sent = 50 * MiB, 0
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(head + b'1e\r\n{"senior_id": "S2", "tasks": "\r\n')
        while sent < total and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        answer = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"content-type: application/problem+json" in headers.lower()
    assert json.loads(body)["errors"] == [{"field": "body", "message": f"at most {MiB} bytes (CAREPATH_MAX_JSON_BODY_BYTES)"}]
    assert sent < 20 * MiB, f"{sent} bytes went out before the answer"
    assert count(live_api, m.VisitRequest) == before
    with live_api.client() as client:
        assert client.get("/api/v1/health").status_code == 200
