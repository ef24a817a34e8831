"""The console's sessions, CSRF, roles and headers on both backends, and that the JSON API's bearer
auth is unchanged (the session cookie never authenticates an API call)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from dispatch.storage import models as m
from tests.api.conftest import DAY, PASSWORDS
from tests.api.console_helpers import console_login, csrf_of

DAY_URL = f"/console/day/{DAY.isoformat()}"


def test_root_leads_to_the_login_page_with_security_headers(api) -> None:
    r = api.client.get("/", follow_redirects=True)
    assert r.status_code == 200 and str(r.url).endswith("/console/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in r.text and " style=" not in r.text
    static = api.client.get("/console/static/vendor/htmx-2.0.4/htmx.min.js")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"
    assert api.client.get("/api/v1/health").headers["content-security-policy"].startswith("default-src 'none'")


def test_login_sets_an_httponly_samesite_cookie_and_logout_ends_the_token(api) -> None:
    form = api.client.get("/console/login")
    r = api.client.post("/console/login", data={"username": "dispatcher", "password": PASSWORDS["dispatcher"],
                                                "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/day"
    cookie = [c for c in r.headers.get_list("set-cookie") if c.startswith("carepath_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # plain HTTP in tests
    token = api.client.cookies.get("carepath_session")
    page = api.client.get(DAY_URL)
    assert page.status_code == 200
    r = api.client.post("/console/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    api.client.cookies.set("carepath_session", token)  # the old cookie, replayed: revoked
    assert api.client.get(DAY_URL, follow_redirects=False).status_code == 303
    # and the same token as a bearer token on the JSON API is revoked too
    assert api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_https_sessions_are_secure_cookies(api) -> None:
    form = api.client.get("https://testserver/console/login")
    r = api.client.post("https://testserver/console/login",
                        data={"username": "worker", "password": PASSWORDS["worker"], "csrf_token": csrf_of(form.text)},
                        follow_redirects=False)
    cookie = [c for c in r.headers.get_list("set-cookie") if c.startswith("carepath_session=")][0]
    assert "Secure" in cookie


def test_wrong_password_and_missing_login_token_are_refused(api) -> None:
    form = api.client.get("/console/login")
    r = api.client.post("/console/login", data={"username": "dispatcher", "password": "nope",
                                                "csrf_token": csrf_of(form.text)})
    assert r.status_code == 401 and "Błędna nazwa użytkownika lub hasło" in r.text
    r = api.client.post("/console/login", data={"username": "dispatcher", "password": PASSWORDS["dispatcher"]},
                        follow_redirects=False)
    assert r.status_code == 403 and "carepath_session" not in r.headers.get("set-cookie", "")


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(api) -> None:
    csrf = console_login(api, "dispatcher")
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": csrf[:-1] + ("1" if csrf[-1] == "0" else "0")}):
        r = api.client.post(f"{DAY_URL}/plan", data={**data, "time_limit_s": "1"}, follow_redirects=False)
        assert r.status_code == 403, data
    with Session(api.engine) as s:
        assert s.exec(select(m.PlanJob)).first() is None
    # the htmx header works like the form field
    r = api.client.post(f"{DAY_URL}/plan", data={"time_limit_s": "oops"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422
    coordinator_csrf = console_login(api, "coordinator")
    r = api.client.post("/console/requests", data={"senior_id": "S1", "service": "home_care",
                                                   "first_date": DAY.isoformat(), "window_start": "10:00",
                                                   "window_end": "11:00"})
    assert r.status_code == 403
    assert api.client.post("/console/logout", data={}).status_code == 403
    with Session(api.engine) as s:
        assert s.exec(select(m.VisitRequest).where(m.VisitRequest.first_date == DAY,
                                                   m.VisitRequest.window_start == dt.time(10))).first() is None
    assert coordinator_csrf != csrf  # one token per session


def test_anonymous_visitors_are_sent_to_login_and_roles_are_kept_apart(api) -> None:
    r = api.client.get(DAY_URL, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/console/login?next=%2Fconsole%2Fday%2F{DAY.isoformat()}"
    r = api.client.get("/console/jobs/x", headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/console/login")
    console_login(api, "coordinator")
    assert api.client.get("/console/me").status_code == 403
    assert api.client.get("/console/seniors").status_code == 200
    console_login(api, "worker")
    assert api.client.get("/console/seniors").status_code == 403
    assert api.client.get("/console/requests/new").status_code == 403


def test_login_redirects_only_to_console_paths(api) -> None:
    form = api.client.get("/console/login?next=//evil.example/x")
    assert 'name="next" value=""' in form.text
    r = api.client.post("/console/login", data={"username": "worker", "password": PASSWORDS["worker"],
                                                "csrf_token": csrf_of(form.text), "next": "https://evil.example/"},
                        follow_redirects=False)
    assert r.headers["location"] == "/console/me"


def test_the_session_cookie_does_not_authenticate_the_json_api(api) -> None:
    console_login(api, "dispatcher")
    assert api.client.get("/api/v1/auth/me").status_code == 401
    assert api.client.get("/api/v1/auth/me", headers=api.auth("dispatcher")).status_code == 200
