"""One authorisation table: every route of the app x every caller -> the expected status (issue 20, item 2).

``test_authz_table.py`` sends each row's request once per caller and compares the status with
``expected(row, caller)``; a route of ``app.routes`` without a row fails the test, and so does a
row naming no route.

Callers (``CALLERS``):

* the four roles, each with a fresh valid token (``admin``, ``dispatcher``, ``coordinator``,
  ``worker`` = worker W1);
* ``other_worker``: worker W1 sending W2's ids (rows whose URL has a ``{worker}``, ``{absence}``
  or ``{visit}`` placeholder are sent with W2's; other rows are not sent for this caller);
* tokens that must never get in (``BAD_TOKENS``): none at all (``anonymous``), ``expired``,
  ``forged`` (signed with another key), ``alg_none`` (unsigned), a ``disabled`` user's and a
  ``deleted`` user's (no row any more).

The JSON API takes the token as ``Authorization: Bearer``; console pages take it as the session
cookie (and the CSRF token of that session on unsafe requests), as a browser would send them.

What a caller gets (``expected``), unless a row's ``cells`` says otherwise for that caller:

* ``public`` rows: ``ok`` for everyone;
* a bad token: 401 on the API, 303 to the login page on the console;
* a role in ``allowed``: ``ok``;  any other role: 403.

Each row's request is chosen so that letting a caller in is visible and harmless: reads of the
test data answer 200; writes name a record that does not exist (404) or send a body that is
refused (422), so the order of cells does not matter and nothing is changed for the next one
(the exceptions say so in a comment).

**Adding a route** (the lead at merge, or whoever adds one): add one ``Row`` in the section of
its router with its method, the route's path template exactly as FastAPI lists it (``{key:path}``
included), a concrete URL (placeholders below), the roles let through and the status they get.
Run ``pytest tests/api/test_authz_table.py``: a route without a row is named in the failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.api.conftest import DAY

A, D, C, W = "admin", "dispatcher", "coordinator", "worker"
ADMIN = frozenset({A})
PLANNERS = frozenset({A, D})
WRITERS = frozenset({A, C})  # coordinators' records: seniors, requests, places, decisions, plans
STAFF = frozenset({A, C, D})
WORKER = frozenset({W})
OTHER_WORKER = "other_worker"
BAD_TOKENS = ("anonymous", "expired", "forged", "alg_none", "disabled", "deleted")
CALLERS = (A, D, C, W, OTHER_WORKER, *BAD_TOKENS)

DAY_S = DAY.isoformat()
#: A day whose roster does not exist (writes there find nothing to change).
NO_DAY = "2026-12-05"
MISSING = "no-such-id"
#: Placeholders a URL may hold, filled per caller by the test: ``{worker}`` (W1; W2 for
#: ``other_worker``), ``{absence}`` (an absence of that worker), ``{visit}`` (a published visit's uid
#: of that worker).
PLACEHOLDERS = ("{worker}", "{absence}", "{visit}")


@dataclass(frozen=True)
class Row:
    """One route: the request sent, who is let through, and the status they get."""

    method: str
    path: str
    """The route's path template as ``app.routes`` lists it."""
    url: str
    allowed: frozenset[str] = frozenset()
    ok: int = 200
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    public: bool = False
    """No login needed: every caller gets ``ok``."""
    cells: dict[str, int] = field(default_factory=dict)
    """Exceptions to the rule for single callers (e.g. ``{OTHER_WORKER: 403}``)."""

    @property
    def console(self) -> bool:
        return not self.path.startswith("/api/")

    @property
    def names_a_worker(self) -> bool:
        return any(p in self.url for p in PLACEHOLDERS)


def expected(row: Row, caller: str) -> int:
    """The status ``caller`` must get for ``row`` (see the module docstring)."""
    if caller in row.cells:
        return row.cells[caller]
    if row.public:
        return row.ok
    if caller in BAD_TOKENS:
        return 303 if row.console else 401
    role = W if caller == OTHER_WORKER else caller
    return row.ok if role in row.allowed else 403


def _r(method: str, path: str, url: str | None = None, allowed: frozenset[str] = frozenset(), ok: int = 200,
       **kw: Any) -> Row:
    return Row(method, path, url if url is not None else path, allowed, ok, **kw)


API = "/api/v1"
BAD_CSV = {"file": ("x.csv", b"\xef\xbb\xbfnot;a;header\n", "text/csv")}

ROWS: tuple[Row, ...] = (
    # ---- no login
    _r("GET", f"{API}/openapi.json", public=True),
    _r("GET", f"{API}/docs", public=True),
    _r("GET", "/docs/oauth2-redirect", public=True),
    _r("GET", f"{API}/health", public=True),
    _r("POST", f"{API}/auth/token", data={}, ok=422, public=True),  # no failed login: the throttle stays out
    _r("GET", f"{API}/calendar/{{token}}.ics", f"{API}/calendar/not-a-token.ics", ok=404, public=True),
    # ---- auth, audit, users
    _r("POST", f"{API}/auth/logout", allowed=STAFF | WORKER, ok=204),
    _r("GET", f"{API}/auth/me", allowed=STAFF | WORKER),
    _r("GET", f"{API}/auth/throttles", allowed=ADMIN),
    _r("DELETE", f"{API}/auth/throttles/{{key:path}}", f"{API}/auth/throttles/acct:nobody", allowed=ADMIN, ok=404),
    _r("GET", f"{API}/audit", allowed=ADMIN),
    _r("POST", f"{API}/users", allowed=ADMIN, ok=422, json={}),
    _r("GET", f"{API}/users", allowed=ADMIN),
    _r("GET", f"{API}/users/{{username}}", f"{API}/users/dispatcher", allowed=ADMIN),
    _r("PATCH", f"{API}/users/{{username}}", f"{API}/users/nobody", allowed=ADMIN, ok=404, json={"active": True}),
    # ---- catalogue: services, intake rules, places, cars
    _r("GET", f"{API}/services", allowed=STAFF),
    _r("POST", f"{API}/services", allowed=ADMIN, ok=422, json={}),
    _r("GET", f"{API}/services/{{code}}", f"{API}/services/home_care", allowed=STAFF),
    _r("PATCH", f"{API}/services/{{code}}", f"{API}/services/{MISSING}", allowed=ADMIN, ok=404, json={}),
    _r("GET", f"{API}/intake-rules", allowed=STAFF),
    _r("GET", f"{API}/intake-rules/{{service}}", f"{API}/intake-rules/home_care", allowed=STAFF),
    _r("PUT", f"{API}/intake-rules/{{service}}", f"{API}/intake-rules/{MISSING}", allowed=ADMIN, ok=404, json={}),
    _r("GET", f"{API}/places", allowed=STAFF),
    _r("POST", f"{API}/places", allowed=WRITERS, ok=422, json={}),
    _r("GET", f"{API}/places/{{place_id}}", f"{API}/places/area-centrum", allowed=STAFF),
    _r("PATCH", f"{API}/places/{{place_id}}", f"{API}/places/{MISSING}", allowed=WRITERS, ok=404, json={}),
    _r("DELETE", f"{API}/places/{{place_id}}", f"{API}/places/{MISSING}", allowed=WRITERS, ok=404),
    _r("GET", f"{API}/cars", allowed=PLANNERS),
    _r("POST", f"{API}/cars", allowed=ADMIN, ok=422, json={}),
    _r("GET", f"{API}/cars/{{car_id}}", f"{API}/cars/C1", allowed=PLANNERS),
    _r("PATCH", f"{API}/cars/{{car_id}}", f"{API}/cars/{MISSING}", allowed=ADMIN, ok=404, json={}),
    _r("DELETE", f"{API}/cars/{{car_id}}", f"{API}/cars/{MISSING}", allowed=ADMIN, ok=404),
    # ---- workers (a worker reads their own record and absences, never another's)
    _r("GET", f"{API}/workers", allowed=STAFF),
    _r("POST", f"{API}/workers", allowed=ADMIN, ok=422, json={}),
    _r("GET", f"{API}/workers/{{worker_id}}", f"{API}/workers/{{worker}}", allowed=STAFF | WORKER,
       cells={OTHER_WORKER: 403}),
    _r("PATCH", f"{API}/workers/{{worker_id}}", f"{API}/workers/{MISSING}", allowed=ADMIN, ok=404, json={}),
    _r("DELETE", f"{API}/workers/{{worker_id}}", f"{API}/workers/{MISSING}", allowed=ADMIN, ok=404),
    _r("GET", f"{API}/workers/{{worker_id}}/absences", f"{API}/workers/{{worker}}/absences", allowed=STAFF | WORKER,
       cells={OTHER_WORKER: 403}),
    _r("POST", f"{API}/workers/{{worker_id}}/absences", f"{API}/workers/{MISSING}/absences", allowed=PLANNERS, ok=422,
       json={}),
    _r("GET", f"{API}/workers/{{worker_id}}/absences/{{absence_id}}", f"{API}/workers/{{worker}}/absences/{{absence}}",
       allowed=STAFF | WORKER, cells={OTHER_WORKER: 403}),
    _r("DELETE", f"{API}/workers/{{worker_id}}/absences/{{absence_id}}", f"{API}/workers/{MISSING}/absences/999999",
       allowed=PLANNERS, ok=404),
    # ---- seniors and their absences, care decisions and plans
    _r("GET", f"{API}/seniors", allowed=STAFF),
    _r("POST", f"{API}/seniors", allowed=WRITERS, ok=422, json={}),
    _r("GET", f"{API}/seniors/{{senior_id}}", f"{API}/seniors/S1", allowed=STAFF),
    _r("PATCH", f"{API}/seniors/{{senior_id}}", f"{API}/seniors/{MISSING}", allowed=WRITERS, ok=404, json={}),
    _r("DELETE", f"{API}/seniors/{{senior_id}}", f"{API}/seniors/{MISSING}", allowed=WRITERS, ok=404),
    _r("GET", f"{API}/seniors/{{senior_id}}/absences", f"{API}/seniors/S1/absences", allowed=STAFF),
    _r("GET", f"{API}/seniors/{{senior_id}}/health", f"{API}/seniors/S1/health", allowed=WRITERS, ok=422),
    _r("GET", f"{API}/seniors/{{senior_id}}/export", f"{API}/seniors/{MISSING}/export", allowed=ADMIN, ok=404),
    _r("POST", f"{API}/seniors/{{senior_id}}/erase", f"{API}/seniors/{MISSING}/erase", allowed=ADMIN, ok=404,
       json={}),
    _r("POST", f"{API}/seniors/{{senior_id}}/absences", f"{API}/seniors/{MISSING}/absences", allowed=WRITERS,
       ok=422, json={}),
    _r("DELETE", f"{API}/seniors/{{senior_id}}/absences/{{absence_id}}", f"{API}/seniors/S1/absences/999999",
       allowed=WRITERS, ok=404),
    _r("GET", f"{API}/decisions", allowed=STAFF),
    _r("GET", f"{API}/decisions/usage", allowed=STAFF, ok=422),
    _r("POST", f"{API}/decisions", allowed=WRITERS, ok=422, json={}),
    _r("POST", f"{API}/decisions/import", allowed=WRITERS, ok=422, files=BAD_CSV),
    _r("GET", f"{API}/decisions/{{decision_id}}", f"{API}/decisions/999999", allowed=STAFF, ok=404),
    _r("PATCH", f"{API}/decisions/{{decision_id}}", f"{API}/decisions/999999", allowed=WRITERS, ok=404, json={}),
    _r("DELETE", f"{API}/decisions/{{decision_id}}", f"{API}/decisions/999999", allowed=WRITERS, ok=404),
    _r("GET", f"{API}/care-plans", allowed=STAFF),
    _r("POST", f"{API}/care-plans", allowed=WRITERS, ok=422, json={}),
    _r("GET", f"{API}/care-plans/{{plan_id}}", f"{API}/care-plans/999999", allowed=STAFF, ok=404),
    _r("PATCH", f"{API}/care-plans/{{plan_id}}", f"{API}/care-plans/999999", allowed=WRITERS, ok=404, json={}),
    _r("DELETE", f"{API}/care-plans/{{plan_id}}", f"{API}/care-plans/999999", allowed=WRITERS, ok=404),
    _r("POST", f"{API}/care-plans/{{plan_id}}/expand", f"{API}/care-plans/999999/expand?from={DAY_S}&to={DAY_S}",
       allowed=WRITERS, ok=404, json={}),
    # ---- visit requests and pins
    _r("GET", f"{API}/requests", allowed=STAFF),
    _r("POST", f"{API}/requests", allowed=WRITERS, ok=422, json={}),
    _r("GET", f"{API}/requests/{{request_id}}", f"{API}/requests/R1", allowed=STAFF),
    _r("PATCH", f"{API}/requests/{{request_id}}", f"{API}/requests/{MISSING}", allowed=STAFF, ok=404, json={}),
    _r("DELETE", f"{API}/requests/{{request_id}}", f"{API}/requests/{MISSING}", allowed=WRITERS, ok=404),
    _r("GET", f"{API}/requests/{{request_id}}/pins", f"{API}/requests/R1/pins", allowed=STAFF),
    _r("PUT", f"{API}/requests/{{request_id}}/pins/{{date}}", f"{API}/requests/{MISSING}/pins/{DAY_S}",
       allowed=STAFF, ok=404, json={"worker_id": "W1"}),
    _r("DELETE", f"{API}/requests/{{request_id}}/pins/{{date}}", f"{API}/requests/{MISSING}/pins/{DAY_S}",
       allowed=STAFF, ok=404),
    # ---- imports
    *(_r("POST", f"{API}/imports/{kind}", allowed=who, ok=422, files=BAD_CSV)
      for kind, who in (("places", WRITERS), ("services", ADMIN), ("cars", ADMIN), ("workers", ADMIN),
                        ("seniors", WRITERS), ("requests", WRITERS))),
    _r("GET", f"{API}/imports/{{kind}}/template", f"{API}/imports/seniors/template", allowed=WRITERS),
    # ---- planning: jobs, rosters, edits, re-planning, reports
    _r("GET", f"{API}/jobs", allowed=PLANNERS),
    _r("GET", f"{API}/jobs/{{job_id}}", f"{API}/jobs/{MISSING}", allowed=PLANNERS, ok=404),
    _r("POST", f"{API}/jobs/{{job_id}}/cancel", f"{API}/jobs/{MISSING}/cancel", allowed=PLANNERS, ok=404),
    _r("DELETE", f"{API}/jobs/{{job_id}}", f"{API}/jobs/{MISSING}", allowed=PLANNERS, ok=404),
    _r("POST", f"{API}/rosters/{{date}}/plan", f"{API}/rosters/{DAY_S}/plan", allowed=PLANNERS, ok=422,
       json={"time_limit_s": -1}),
    _r("GET", f"{API}/rosters/{{date}}", f"{API}/rosters/{DAY_S}", allowed=STAFF),
    _r("GET", f"{API}/rosters/week/{{monday}}", f"{API}/rosters/week/2026-11-30", allowed=STAFF),
    _r("POST", f"{API}/rosters/week/{{monday}}/plan", f"{API}/rosters/week/2026-12-01/plan", allowed=PLANNERS,
       ok=422, json={}),
    _r("POST", f"{API}/rosters/{{date}}/publish", f"{API}/rosters/{DAY_S}/publish", allowed=PLANNERS, ok=428),
    _r("GET", f"{API}/rosters/{{date}}/export", f"{API}/rosters/{DAY_S}/export", allowed=STAFF),
    _r("GET", f"{API}/rosters/{{date}}/diff", f"{API}/rosters/{DAY_S}/diff", allowed=STAFF),
    _r("PATCH", f"{API}/rosters/{{date}}/visits/{{visit_request_id}}", f"{API}/rosters/{NO_DAY}/visits/R1",
       allowed=PLANNERS, ok=422, json={}),
    _r("POST", f"{API}/rosters/{{date}}/recommendations", f"{API}/rosters/{NO_DAY}/recommendations", allowed=STAFF,
       ok=422, json={}),
    _r("POST", f"{API}/rosters/check", allowed=STAFF, ok=422, json={}),
    _r("POST", f"{API}/rosters/{{date}}/replan", f"{API}/rosters/{NO_DAY}/replan", allowed=PLANNERS, ok=409,
       json={"from": "08:00"}),
    _r("GET", f"{API}/reports/hours", allowed=STAFF, ok=422),
    # ---- a worker's own: schedule, calendar feed token, check-ins
    _r("GET", f"{API}/me/schedule", allowed=WORKER),
    _r("POST", f"{API}/me/calendar-token", allowed=WORKER, ok=201),
    _r("GET", f"{API}/me/calendar-token", allowed=WORKER),
    _r("DELETE", f"{API}/me/calendar-token", allowed=WORKER, ok=204),
    _r("POST", f"{API}/me/visits/{{uid}}/start", f"{API}/me/visits/{{visit}}/start", allowed=WORKER, ok=422,
       json={"at": "not a time"}, cells={OTHER_WORKER: 404}),
    _r("POST", f"{API}/me/visits/{{uid}}/finish", f"{API}/me/visits/{{visit}}/finish", allowed=WORKER, ok=422,
       json={"at": "not a time"}, cells={OTHER_WORKER: 404}),
    # ---- console pages (session cookie; unsafe requests carry the session's CSRF token)
    _r("GET", "/console/static", "/console/static/vendor/htmx-2.0.4/htmx.min.js", public=True),
    _r("GET", "/", ok=303, public=True),
    _r("GET", "/console", ok=303, public=True),
    _r("GET", "/console/login", public=True),
    _r("POST", "/console/login", ok=403, data={"username": "nobody", "password": "x"}, public=True),
    _r("GET", "/console/lang/{code}", "/console/lang/en", ok=303, public=True),
    _r("POST", "/console/logout", allowed=STAFF | WORKER, ok=303),
    _r("GET", "/console/day", allowed=PLANNERS, ok=303),
    _r("GET", "/console/day/{day}", f"/console/day/{DAY_S}", allowed=PLANNERS),
    _r("POST", "/console/day/{day}/plan", f"/console/day/{DAY_S}/plan", allowed=PLANNERS, ok=422,
       data={"time_limit_s": "oops"}),
    _r("GET", "/console/jobs/{job_id}", f"/console/jobs/{MISSING}", allowed=PLANNERS, ok=404),
    _r("POST", "/console/day/{day}/publish", f"/console/day/{NO_DAY}/publish", allowed=PLANNERS, ok=409,
       data={"etag": '"stale"'}),
    _r("GET", "/console/day/{day}/map", f"/console/day/{DAY_S}/map", allowed=PLANNERS),
    _r("POST", "/console/day/{day}/edit", f"/console/day/{NO_DAY}/edit", allowed=PLANNERS, ok=422, data={}),
    _r("GET", "/console/day/{day}/compare", f"/console/day/{DAY_S}/compare", allowed=PLANNERS),
    _r("GET", "/console/day/{day}/recommend", f"/console/day/{DAY_S}/recommend", allowed=PLANNERS, ok=422),
    _r("POST", "/console/day/{day}/replan", f"/console/day/{NO_DAY}/replan", allowed=PLANNERS, ok=409, data={}),
    _r("GET", "/console/me", allowed=WORKER),
    _r("POST", "/console/me/calendar-token", allowed=WORKER),
    # the one cell that changes something: W1 starts their own visit (303 back to the page), once
    _r("POST", "/console/me/visits/{uid}/{action}", "/console/me/visits/{visit}/start", allowed=WORKER, ok=303,
       data={}, cells={OTHER_WORKER: 404}),
    _r("GET", "/console/seniors/{senior_id}", "/console/seniors/S1", allowed=WRITERS),
    _r("GET", "/console/requests/{request_id}", "/console/requests/R1", allowed=WRITERS),
    _r("POST", "/console/requests/{request_id}", f"/console/requests/{MISSING}", allowed=WRITERS, ok=404, data={}),
    _r("POST", "/console/requests/{request_id}/cancel", f"/console/requests/{MISSING}/cancel", allowed=WRITERS,
       ok=404, data={}),
    _r("GET", "/console/imports", allowed=WRITERS),
    _r("POST", "/console/imports", allowed=WRITERS, ok=422, data={}),
    _r("GET", "/console/imports/{kind}/template.csv", "/console/imports/seniors/template.csv", allowed=WRITERS),
    _r("GET", "/console/seniors", allowed=WRITERS),
    _r("GET", "/console/requests/new", allowed=WRITERS),
    _r("POST", "/console/requests", allowed=WRITERS, ok=422, data={}),
)
