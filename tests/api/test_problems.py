"""Every error is problem+json (issue 21, item 5): unhandled exceptions (500 with an error id that is
also in the log line with the traceback, and nothing internal in the body), unknown routes, wrong
methods, Starlette's own errors, both through the test client and through a real uvicorn server.

The unhandled exception is a real one: a route added to the real app runs SQL against a table that
does not exist, through the request's real database session, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import pytest
import uvicorn
from fastapi import Depends
from sqlalchemy import text
from sqlmodel import Session

from api.deps import get_session

PROBLEM = "application/problem+json"
SECRET_SQL = "SELECT pesel_secret FROM no_such_table_c2 WHERE pesel = '44051401458'"


def add_failing_route(app: Any) -> None:
    """A route whose SQL fails in the database (a bug the API does not expect), as any route's could."""

    def failing(session: Annotated[Session, Depends(get_session, scope="function")]) -> dict[str, str]:
        session.execute(text(SECRET_SQL))
        return {"never": "reached"}

    app.add_api_route("/api/v1/_test/failing", failing, methods=["GET"])


def assert_internal_error(response: httpx.Response) -> str:
    """A 500 problem+json with an error id and nothing of the failure in it; returns the id."""
    assert response.status_code == 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"].endswith("/internal-error") and body["status"] == 500 and body["title"]
    error_id = body["error_id"]
    assert str(uuid.UUID(error_id)) == error_id
    assert error_id in body["detail"]
    for leak in ("no_such_table", "pesel", "SELECT", "OperationalError", "ProgrammingError", "Traceback", "sqlalchemy"):
        assert leak.lower() not in response.text.lower(), f"{leak!r} leaked into the body: {response.text}"
    return error_id


def error_records(caplog: pytest.LogCaptureFixture, error_id: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "api.errors" and error_id in r.getMessage()]


def test_unhandled_exception_is_a_problem_json_500_with_an_id_found_in_the_log(api, caplog) -> None:
    """A database error nobody handled answers 500 problem+json with ``error_id``; the ERROR line of
    ``api.errors`` carrying the traceback has that id; the body has no SQL and no exception text."""
    add_failing_route(api.client.app)
    caplog.set_level(logging.ERROR)
    first = api.client.get("/api/v1/_test/failing")
    error_id = assert_internal_error(first)
    records = error_records(caplog, error_id)
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "GET /api/v1/_test/failing" in record.getMessage()
    assert "no_such_table_c2" in caplog.text  # the traceback (with the SQL) is in the log, not the answer
    second = api.client.get("/api/v1/_test/failing")
    assert assert_internal_error(second) != error_id  # one id per failure
    # the server is fine afterwards: the failed transaction did not poison the next request
    assert api.client.get("/api/v1/seniors", headers=api.auth("coordinator")).status_code == 200


def test_routing_errors_are_problem_json(api) -> None:
    """An unknown path is 404 and a wrong method 405 (with ``Allow``), both problem+json with their type."""
    missing = api.client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    assert missing.json()["type"].endswith("/not-found")
    outside = api.client.get("/not-the-api")
    assert outside.status_code == 404 and outside.headers["content-type"].startswith(PROBLEM)
    wrong = api.client.put("/api/v1/health")
    assert wrong.status_code == 405 and wrong.headers["content-type"].startswith(PROBLEM)
    assert wrong.json()["type"].endswith("/method-not-allowed") and "GET" in wrong.headers["allow"]


def test_malformed_bodies_are_problem_json(api) -> None:
    """Broken JSON, a JSON body that is no object, and a login form that is no form are 4xx problem+json
    naming what is wrong, never a plain-text error from the framework."""
    h = api.auth("coordinator") | {"content-type": "application/json"}
    broken = api.client.post("/api/v1/requests", content=b'{"senior_id": "S1", ', headers=h)
    assert broken.status_code == 422 and broken.headers["content-type"].startswith(PROBLEM)
    assert broken.json()["errors"]
    not_object = api.client.post("/api/v1/requests", content=b"[1, 2, 3]", headers=h)
    assert not_object.status_code == 422 and not_object.headers["content-type"].startswith(PROBLEM)
    bad_form = api.client.post("/api/v1/auth/token", content=b"--x\r\nbroken", headers={
        "content-type": "multipart/form-data; boundary=x"})
    assert 400 <= bad_form.status_code < 500 and bad_form.headers["content-type"].startswith(PROBLEM)


@pytest.fixture
def live_server(api) -> Iterator[str]:
    """The same app served by a real uvicorn server on a free port, in a thread; yields its base URL."""
    add_failing_route(api.client.app)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(api.client.app, host="127.0.0.1", port=port, log_level="info",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_a_real_uvicorn_server_answers_problem_json_and_logs_one_traceback_with_the_id(live_server, caplog) -> None:
    """Through uvicorn: the unhandled exception is a problem+json 500 whose id is in our log line, and
    uvicorn logs no second, id-less "Exception in ASGI application" traceback; 404 and 405 are
    problem+json too."""
    caplog.set_level(logging.INFO)
    with httpx.Client(base_url=live_server, timeout=30) as client:
        error_id = assert_internal_error(client.get("/api/v1/_test/failing"))
        missing = client.get("/api/v1/no-such-thing")
        wrong = client.delete("/api/v1/health")
    assert len(error_records(caplog, error_id)) == 1
    assert "Exception in ASGI application" not in caplog.text
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    assert wrong.status_code == 405 and wrong.headers["content-type"].startswith(PROBLEM)
