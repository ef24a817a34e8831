"""RODO duties and records (issue 20 items 5 and 6) over HTTP, on SQLite and PostgreSQL:

security headers on every answer, an audit log no route alters (and, on PostgreSQL, a trigger that
refuses UPDATE and DELETE), idempotency keys that expire, secrets kept out of the log, a calendar
feed that carries details only when the centre turns them on, dispatchers recording absences and
changing a request's time (audited), and a senior's export and erasure.  (Health fields read with
a purpose: ``tests/api/test_seniors.py``.)
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import icalendar
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from api.log_redaction import RedactSecrets, install_redaction
from dispatch.access import audit
from dispatch.exchange import calendar_feed
from dispatch.storage import models as m
from tests.api.test_checkins import utc
from tests.api.test_hours_report import new_year_week, report
from tests.api.test_seniors import audit_actions, senior_body

ROLES = ("admin", "coordinator", "dispatcher", "worker")


def audit_rows(api, action: str) -> list[m.AuditLog]:
    with Session(api.engine) as s:
        return list(s.exec(select(m.AuditLog).where(m.AuditLog.action == action).order_by(m.AuditLog.id)))


# --------------------------------------------------------------------------- security headers


def test_every_api_answer_carries_security_headers_and_no_store(api) -> None:
    """JSON answers (200, 401, 403, 404, 413, 422) get a nothing-allowed CSP, nosniff, DENY, no referrer and
    no-store; the docs page gets a policy allowing its CDN; the calendar keeps its own cache rule."""
    c = api.client
    answers = [
        c.get("/api/v1/health"),
        c.get("/api/v1/seniors"),
        c.get("/api/v1/seniors", headers=api.auth("worker")),
        c.get("/api/v1/seniors/NOPE", headers=api.auth("coordinator")),
        c.get("/api/v1/seniors", params={"limit": 0}, headers=api.auth("coordinator")),
        c.get("/api/v1/seniors", headers=api.auth("coordinator")),
        c.get("/api/v1/openapi.json"),
        c.get("/api/v1/no-such-route"),
        c.post("/api/v1/seniors", content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
               headers=api.auth("coordinator", **{"Content-Type": "application/json"})),
    ]
    assert [r.status_code for r in answers] == [200, 401, 403, 404, 422, 200, 200, 404, 413]
    for r in answers:
        assert r.headers["content-security-policy"].startswith("default-src 'none'"), r.url
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cache-control"] == "no-store"
    from tests.api.test_problems import add_failing_route

    add_failing_route(c.app)
    failed = api.client.get("/api/v1/_test/failing")  # an unhandled error: the 500 has them too
    assert failed.status_code == 500 and failed.headers["content-security-policy"].startswith("default-src 'none'")
    assert failed.headers["cache-control"] == "no-store"
    docs = c.get("/api/v1/docs")
    assert docs.status_code == 200 and "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    assert docs.headers["x-frame-options"] == "DENY"
    path = c.post("/api/v1/me/calendar-token", headers=api.auth("worker")).json()["path"]
    feed = c.get(path)
    assert feed.headers["cache-control"] == "private, max-age=300" and feed.headers["x-content-type-options"] == "nosniff"


# --------------------------------------------------------------------------- the audit log


def test_no_route_alters_the_audit_log(api) -> None:
    """Of every operation the API has, the only one on the audit log is GET /audit (reading it)."""
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]
    operations = [(path, method.upper(), op.get("operationId", "")) for path, item in paths.items()
                  for method, op in item.items() if method in {"get", "post", "put", "patch", "delete"}]
    assert len(operations) > 50
    touching = [(p, meth) for p, meth, op_id in operations if "audit" in p or op_id.startswith("audit")]
    assert touching == [("/api/v1/audit", "GET")]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = api.client.request(method, "/api/v1/audit", headers=api.auth("admin"))
        assert r.status_code == 405, method


def test_postgresql_refuses_to_change_or_delete_audit_rows_outside_maintenance(api) -> None:
    """Migration 0018's trigger: UPDATE and DELETE on audit_log fail, unless the transaction allowed maintenance."""
    if api.engine.dialect.name != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    with Session(api.engine) as s:
        audit.record(s, "someone", "senior.update", "senior", "S1", {"phone": {"old": "1", "new": "2"}})
        s.commit()
    for statement in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
        with Session(api.engine) as s, pytest.raises(DBAPIError, match="append-only"):
            s.execute(text(statement))
    with Session(api.engine) as s:
        assert s.scalar(text("SELECT count(*) FROM audit_log WHERE actor = 'someone'")) == 1
        audit.allow_maintenance(s)
        s.execute(text("DELETE FROM audit_log WHERE actor = 'someone'"))
        s.commit()
    with Session(api.engine) as s:  # the permission ended with that transaction
        audit.record(s, "again", "senior.update", "senior", "S1")
        s.commit()
        with pytest.raises(DBAPIError, match="append-only"):
            s.execute(text("DELETE FROM audit_log"))


# --------------------------------------------------------------------------- idempotency keys expire


def test_an_idempotency_key_is_replayed_within_its_lifetime_and_free_again_after_it(api) -> None:
    """Same key and body: replayed for 24 h (the default); after that the request is executed as new."""
    c = api.client
    start = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
    api.set_now(start)
    h = api.auth("coordinator", **{"Idempotency-Key": "k-1"})
    first = c.post("/api/v1/seniors", json=senior_body(), headers=h)
    assert first.status_code == 201, first.text
    api.set_now(start + dt.timedelta(hours=23, minutes=59))
    again = c.post("/api/v1/seniors", json=senior_body(), headers=h)
    assert again.headers.get("idempotent-replayed") == "true" and again.json()["id"] == first.json()["id"]
    api.set_now(start + dt.timedelta(hours=24))
    later = c.post("/api/v1/seniors", json=senior_body(), headers=h)
    assert later.status_code == 201 and "idempotent-replayed" not in later.headers
    assert later.json()["id"] != first.json()["id"]
    with Session(api.engine) as s:
        keys = s.exec(select(m.IdempotencyKey).where(m.IdempotencyKey.key == "k-1")).all()
    assert [k.response_body["id"] for k in keys] == [later.json()["id"]]


def test_the_idempotency_lifetime_is_a_setting(api) -> None:
    api.client.app.state.settings = api.settings.model_copy(update={"idempotency_key_ttl_hours": 1})
    start = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
    api.set_now(start)
    h = api.auth("coordinator", **{"Idempotency-Key": "k-2"})
    first = api.client.post("/api/v1/seniors", json=senior_body(), headers=h).json()["id"]
    api.set_now(start + dt.timedelta(minutes=61))
    assert api.client.post("/api/v1/seniors", json=senior_body(), headers=h).json()["id"] != first


# --------------------------------------------------------------------------- secrets in logs


def test_calendar_tokens_and_bearer_tokens_are_redacted_from_access_and_error_logs(api) -> None:
    """uvicorn's access line for a feed request, and any line quoting a bearer token or a password, lose the secret."""
    install_redaction()
    path = api.client.post("/api/v1/me/calendar-token", headers=api.auth("worker")).json()["path"]
    secret = path.removeprefix("/api/v1/calendar/").removesuffix(".ics")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    access, errors = logging.getLogger("uvicorn.access"), logging.getLogger("uvicorn.error")
    old_levels = access.level, errors.level
    access.addHandler(handler)
    errors.addHandler(handler)
    access.setLevel(logging.INFO)
    errors.setLevel(logging.INFO)
    try:
        # the very call uvicorn's access logger makes (uvicorn/protocols/http/h11_impl.py)
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
        errors.info("GET %s?token=%s Authorization: Bearer %s", path, secret, "eyJhbGciOi.abc.def")
        errors.info(f"login failed for anna password=hunter22 at {path}")
        errors.info("database %s unreachable", "postgresql+psycopg://carepath:s3cr3t-db@db.local:5432/carepath")
    finally:
        access.removeHandler(handler)
        errors.removeHandler(handler)
        access.setLevel(old_levels[0])
        errors.setLevel(old_levels[1])
    logged = stream.getvalue()
    assert secret not in logged and "eyJhbGciOi" not in logged and "hunter22" not in logged and "s3cr3t" not in logged
    assert "postgresql+psycopg://carepath:[redacted]@db.local:5432/carepath" in logged
    assert '"GET /api/v1/calendar/[redacted].ics HTTP/1.1" 200' in logged
    assert logged.count("[redacted]") >= 5
    assert isinstance(RedactSecrets(), logging.Filter)


# --------------------------------------------------------------------------- the calendar feed


def _published_day(api) -> None:
    from tests.api.test_checkins import roster

    roster(api, dt.date(2026, 12, 1), [("W1", "R1", utc(2026, 12, 1, 7), 60, "visit")])


def test_calendar_feed_carries_details_only_when_the_centre_turns_them_on(api, monkeypatch) -> None:
    """Default: time, place, service; with CAREPATH_CALENDAR_FEED_DETAILS the name, tasks and notes too."""
    monkeypatch.setattr(calendar_feed, "_clock", lambda: dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC))
    _published_day(api)
    path = api.client.post("/api/v1/me/calendar-token", headers=api.auth("worker")).json()["path"]
    [minimal] = icalendar.Calendar.from_ical(api.client.get(path).content).walk("VEVENT")
    assert str(minimal["summary"]) == "Wizyta: Usługi opiekuńcze" and "Sienkiewicza 10" in str(minimal["location"])
    assert "description" not in minimal

    api.client.app.state.settings = api.settings.model_copy(update={"calendar_feed_details": True})
    [full] = icalendar.Calendar.from_ical(api.client.get(path).content).walk("VEVENT")
    assert str(full["summary"]) == "Wizyta: Halina Zając"
    assert "toaleta poranna" in str(full["description"]) and "domofon 12" in str(full["description"])
    assert "cukrzyca" not in str(full.to_ical().decode())  # health notes never, details or not


# --------------------------------------------------------------------------- roles fit the work


def test_a_dispatcher_records_and_removes_a_sick_workers_absence_audited(api) -> None:
    c, h = api.client, api.auth("dispatcher")
    created = c.post("/api/v1/workers/W2/absences", json={"from_date": "2026-12-01", "to_date": "2026-12-02",
                                                          "reason": "chory (telefon 7:10)"}, headers=h)
    assert created.status_code == 201, created.text
    assert c.delete(created.headers["location"], headers=h).status_code == 204
    assert [(r.action, r.actor) for r in audit_rows(api, "worker_absence.create") + audit_rows(api, "worker_absence.delete")] \
        == [("worker_absence.create", "dispatcher"), ("worker_absence.delete", "dispatcher")]
    for role, status in (("coordinator", 403), ("worker", 403)):
        r = c.post("/api/v1/workers/W2/absences", json={"from_date": "2026-12-03", "to_date": "2026-12-03"},
                   headers=api.auth(role))
        assert r.status_code == status


def test_a_dispatcher_changes_a_requests_time_audited_but_nothing_else(api) -> None:
    c, h = api.client, api.auth("dispatcher")
    r = c.patch("/api/v1/requests/R2", json={"window_start": "10:00", "window_end": "11:30", "duration": 50}, headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["window_start"], r.json()["window_end"], r.json()["duration"]) == ("10:00:00", "11:30:00", 50)
    [row] = audit_rows(api, "visit_request.update")
    assert row.actor == "dispatcher" and row.entity_id == "R2"
    assert row.changes["window_start"] == {"old": "09:00:00", "new": "10:00:00"}

    refused = c.patch("/api/v1/requests/R2", json={"window_start": "10:30", "tasks": "x", "priority": 1}, headers=h)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in refused.json()["errors"]} == {"tasks", "priority"}
    assert c.get("/api/v1/requests/R2", headers=h).json()["window_start"] == "10:00:00"  # nothing half-done
    assert c.patch("/api/v1/requests/R2", json={"window_start": "10:30"}, headers=api.auth("worker")).status_code == 403
    bad = c.patch("/api/v1/requests/R2", json={"window_start": "12:00", "window_end": "11:00"}, headers=h)
    assert bad.status_code == 422
    assert c.patch("/api/v1/requests/R2", json={"priority": 2}, headers=api.auth("coordinator")).status_code == 200


# --------------------------------------------------------------------------- export


def test_an_admin_exports_everything_stored_about_a_senior_audited(api) -> None:
    c = api.client
    c.patch("/api/v1/seniors/S1", json={"phone": "+48 600 000 001"}, headers=api.auth("coordinator"))
    _published_day(api)
    for role in ("coordinator", "dispatcher", "worker"):
        assert c.get("/api/v1/seniors/S1/export", headers=api.auth(role)).status_code == 403
    assert audit_actions(api, "S1") == [("senior.update", "coordinator")]
    r = c.get("/api/v1/seniors/S1/export", headers=api.auth("admin"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert "attachment" in r.headers["content-disposition"]
    body = r.json()
    assert body["senior"]["id"] == "S1" and body["senior"]["health_notes"] == "cukrzyca typu 2"
    assert body["senior"]["disability"] == "umiarkowany" and body["senior"]["phone"] == "+48 600 000 001"
    assert sorted(x["id"] for x in body["records"]["visit_requests"]) == ["R1", "R4"]
    assert [x["visit_request_id"] for x in body["records"]["roster_assignments"]] == ["R1"]
    assert "seniors" not in body["records"] and "workers" not in body["records"]
    assert [(a["action"], a["entity_id"]) for a in body["audit"]] == [("senior.update", "S1")]
    json.dumps(body)  # plain JSON data all the way down
    assert audit_actions(api, "S1")[-1] == ("senior.export", "admin")
    assert c.get("/api/v1/seniors/NOPE/export", headers=api.auth("admin")).status_code == 404


# --------------------------------------------------------------------------- erasure


def test_erasure_anonymises_the_senior_keeps_delivered_hours_and_the_audit_and_is_idempotent(api) -> None:
    """After erasure: placeholders instead of name, address, phone, health and notes; requests cancelled and
    their tasks emptied; the hours report's numbers for the senior unchanged; earlier audit rows keep who and
    when but quote nothing; the erasure audited once; a second erasure changes nothing."""
    c = api.client
    c.patch("/api/v1/seniors/S1", json={"last_name": "Zając-Nowak"}, headers=api.auth("coordinator"))
    new_year_week(api)  # published days, check-ins (delivered hours) and decisions of S1
    with Session(api.engine) as s:
        roster_id = s.exec(select(m.Roster.id)).first()
        s.add(m.RosterUnassigned(roster_id=roster_id, visit_request_id="R1", reason="no_skilled_worker"))
        s.commit()
    before = {(x["senior_id"], x["service"]): x for x in report(api, "senior").json()["rows"]}

    for role in ("coordinator", "dispatcher", "worker"):
        assert c.post("/api/v1/seniors/S1/erase", headers=api.auth(role)).status_code == 403
    r = c.post("/api/v1/seniors/S1/erase", headers=api.auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["already_erased"] is False and r.json()["erased_at"].startswith("2027-01-05")

    senior = c.get("/api/v1/seniors/S1", headers=api.auth("coordinator")).json()
    assert (senior["first_name"], senior["last_name"], senior["street"], senior["phone"]) == (
        "[usunięte]", "[usunięte]", "[usunięte]", "")
    assert senior["birth_year"] == 1940 and senior["notes_for_workers"] == "" and senior["erased_at"]
    health = c.get("/api/v1/seniors/S1/health", params={"purpose": "data_subject_request"},
                   headers=api.auth("admin")).json()
    assert (health["health_notes"], health["disability"], health["mental_disorder"]) == ("", "brak", False)
    requests = {x["id"]: x for x in c.get("/api/v1/requests", params={"senior_id": "S1"},
                                          headers=api.auth("coordinator")).json()["items"]}
    assert {x["status"] for x in requests.values()} == {"cancelled"} and {x["tasks"] for x in requests.values()} == {""}

    after = {(x["senior_id"], x["service"]): x for x in report(api, "senior").json()["rows"]}
    for key in (("S1", "home_care"), ("S1", "taxi")):
        for figure in ("granted", "planned", "delivered", "not_delivered"):
            assert after[key][figure] == before[key][figure], (key, figure)
    assert "Zając" not in json.dumps(list(after.values()))

    with Session(api.engine) as s:
        checkins = s.exec(select(m.VisitCheckin).where(m.VisitCheckin.visit_request_id.in_(["R1", "R4"]))).all()
        assert checkins and all(ch.note == "" for ch in checkins)
        assert [u.reason for u in s.exec(select(m.RosterUnassigned))] == ["no_skilled_worker"]  # a code stays
        trail = s.exec(select(m.AuditLog).where(m.AuditLog.entity == "senior", m.AuditLog.entity_id == "S1")
                       .order_by(m.AuditLog.id)).all()
    update = trail[0]
    [erase] = [t for t in trail if t.action == "senior.erase"]
    assert (update.action, update.actor, update.changes) == ("senior.update", "coordinator",
                                                             {"last_name": "[erased]"})
    assert (erase.action, erase.actor) == ("senior.erase", "admin")
    assert sorted(erase.changes["cancelled_requests"]) == ["R1", "R4"]
    everything = c.get("/api/v1/seniors/S1/export", headers=api.auth("admin")).text
    for private in ("Halina", "Zając", "Sienkiewicza", "cukrzyca", "domofon", "toaleta", "+48 500"):
        assert private not in everything, private

    again = c.post("/api/v1/seniors/S1/erase", headers=api.auth("admin"))
    assert again.status_code == 200 and again.json()["already_erased"] is True
    assert again.json()["erased_at"] == r.json()["erased_at"]
    assert len(audit_rows(api, "senior.erase")) == 1
    changed = c.patch("/api/v1/seniors/S1", json={"phone": "1"}, headers=api.auth("coordinator"))
    assert changed.status_code == 409
    new = c.post("/api/v1/requests", headers=api.auth("coordinator"), json={
        "senior_id": "S1", "service": "home_care", "first_date": "2027-02-01", "window_start": "08:00",
        "window_end": "09:00"})
    assert new.status_code == 422 and {e["field"] for e in new.json()["errors"]} == {"senior_id"}
    assert c.post("/api/v1/seniors/NOPE/erase", headers=api.auth("admin")).status_code == 404
