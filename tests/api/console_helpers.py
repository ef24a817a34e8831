"""Helpers of the console tests: log in through the login form, read the CSRF token of a page,
plan the test day through the console and wait for the job (both storage backends)."""

from __future__ import annotations

import re
import time

from tests.api.conftest import DAY, PASSWORDS
from tests.api.test_jobs import drain_queue

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def console_login(api, user: str) -> str:
    """Log ``user`` in through the form; returns the CSRF token of their session."""
    api.client.cookies.clear()
    form = api.client.get("/console/login")
    r = api.client.post("/console/login", data={"username": user, "password": PASSWORDS[user],
                                                "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = api.client.get(r.headers["location"])
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def plan_through_console(api, csrf: str, time_limit: str = "1") -> str:
    """POST the plan form, then poll the job fragment as htmx does until it redirects; returns the job id."""
    r = api.client.post(f"/console/day/{DAY.isoformat()}/plan", data={"csrf_token": csrf, "time_limit_s": time_limit},
                        follow_redirects=False)
    assert r.status_code == 303, r.text
    page = api.client.get(r.headers["location"]).text
    job = re.search(r'hx-get="/console/jobs/([^"]+)"', page)
    assert job, "the day page shows no job being polled"
    drain_queue(api)  # PostgreSQL: run the queue worker in-process
    deadline = time.monotonic() + 90
    while True:
        r = api.client.get(f"/console/jobs/{job.group(1)}", headers={"HX-Request": "true"})
        if r.status_code == 204:
            assert r.headers["HX-Redirect"] == f"/console/day/{DAY.isoformat()}"
            return job.group(1)
        assert r.status_code == 200 and "failed" not in r.text, r.text
        assert time.monotonic() < deadline, r.text
        time.sleep(0.3)
