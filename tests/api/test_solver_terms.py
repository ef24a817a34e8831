"""What the solver can do, said through the API (issue 14, item 4): several windows per request,
required, preferred and forbidden workers, pins of one occurrence, and the senior's gender rule.

Each feature is entered over HTTP, the day is planned (``dispatch.planning.rosters.plan_day``, whose
rosters the independent checker verifies) and the roster read back over HTTP must honour it;
each feature's bad input is a 422 problem naming the field.  Every test runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from dispatch.storage import models as m
from dispatch.planning.rosters import plan_day
from dispatch.providers.travel import provider_from_settings
from optimizer.params import SolveParams
from tests.api.conftest import DAY

#: A deterministic search (stops on solutions and rounds, not on the clock); see test_solver_properties.
PARAMS = SolveParams(time_limit_s=None, solution_limit=30, seed=0, metaheuristic="GREEDY_DESCENT", lns_iterations=30)
PROBLEM = "application/problem+json"


def fields(response: Any) -> dict[str, str]:
    """field -> message of a 422 problem (asserting it is one)."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def care(**changes: Any) -> dict[str, Any]:
    """A one-off home-care request for senior S3 on the test day."""
    return {"senior_id": "S3", "service": "home_care", "first_date": DAY.isoformat(), "window_start": "13:00",
            "window_end": "14:00", "duration": 30, "mandatory": True} | changes


def create(api: Any, body: dict[str, Any]) -> str:
    response = api.client.post("/api/v1/requests", json=body, headers=api.auth("coordinator"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def absent(api: Any, worker_id: str) -> None:
    day = DAY.isoformat()
    response = api.client.post(f"/api/v1/workers/{worker_id}/absences", json={"from_date": day, "to_date": day},
                               headers=api.auth("admin"))
    assert response.status_code == 201, response.text


def plan(api: Any) -> dict[str, Any]:
    """Plan the test day (checked by the independent checker) and read the roster as a dispatcher."""
    plan_day(api.engine, DAY, provider_from_settings(api.settings), PARAMS)
    response = api.client.get(f"/api/v1/rosters/{DAY.isoformat()}", headers=api.auth("dispatcher"))
    assert response.status_code == 200, response.text
    return response.json()


def stops(roster: dict[str, Any], request_id: str) -> list[tuple[str, str, dt.time]]:
    """(worker, leg, local start) of every planned stop of the request."""
    return [(route["worker_id"], v["leg"], dt.datetime.fromisoformat(v["start"]).time())
            for route in roster["routes"] for v in route["visits"] if v["visit_request_id"] == request_id]


def unplaced(roster: dict[str, Any], request_id: str) -> list[dict[str, Any]]:
    return [u for u in roster["unassigned"] if u["visit_request_id"] == request_id]


# --------------------------------------------------------------------------- windows


def test_a_visit_is_planned_in_a_later_window_and_the_roster_shows_the_start(api) -> None:
    """05:00-05:30 is before every shift, so only the extra window 12:00-12:30 can take the visit; the
    request reads back with its windows and the roster shows the start inside the second one."""
    rid = create(api, care(window_start="05:00", window_end="05:30", extra_windows=[{"start": "12:00", "end": "12:30"}]))
    read = api.client.get(f"/api/v1/requests/{rid}", headers=api.auth("dispatcher")).json()
    assert read["extra_windows"] == [{"start": "12:00:00", "end": "12:30:00"}]
    [(_, leg, start)] = stops(plan(api), rid)
    assert leg == "visit" and dt.time(12) <= start <= dt.time(12, 30)


def test_windows_bad_input_names_the_window_and_its_field(api) -> None:
    """Windows out of order, overlapping, inverted, with an offset, too many, or on a taxi request: 422 each."""
    c, h = api.client, api.auth("coordinator")
    overlap = fields(c.post("/api/v1/requests", json=care(window_start="08:00", window_end="09:00", extra_windows=[
        {"start": "12:00", "end": "12:30"}, {"start": "12:30", "end": "13:00"}]), headers=h))
    assert set(overlap) == {"extra_windows.1.start"} and "12:00-12:30" in overlap["extra_windows.1.start"]
    earlier = fields(c.post("/api/v1/requests", json=care(extra_windows=[{"start": "07:00", "end": "07:30"}]), headers=h))
    assert set(earlier) == {"extra_windows.0.start"}
    inverted = fields(c.post("/api/v1/requests", json=care(extra_windows=[{"start": "18:00", "end": "17:00"}]), headers=h))
    assert set(inverted) == {"extra_windows.0.end"}
    offset = fields(c.post("/api/v1/requests", json=care(extra_windows=[{"start": "17:00+02:00", "end": "18:00"}]),
                           headers=h))
    assert any(f.startswith("extra_windows") for f in offset)
    many = [{"start": f"{15 + i}:00", "end": f"{15 + i}:10"} for i in range(6)]
    assert any(f.startswith("extra_windows") for f in fields(c.post("/api/v1/requests", json=care(extra_windows=many),
                                                                     headers=h)))
    taxi = care(service="taxi", window_start="08:00", window_end="09:00", destination_place_id="destination-wsz",
                appointment="10:30", appointment_minutes=30, duration=None, mandatory=False,
                extra_windows=[{"start": "12:00", "end": "12:30"}])
    assert "extra_windows" in fields(c.post("/api/v1/requests", json=taxi, headers=h))
    rid = create(api, care())
    patched = c.patch(f"/api/v1/requests/{rid}", json={"extra_windows": [{"start": "17:00", "end": "18:00"}]}, headers=h)
    assert patched.status_code == 200 and patched.json()["extra_windows"] == [{"start": "17:00:00", "end": "18:00:00"}]
    assert set(fields(c.patch(f"/api/v1/requests/{rid}", json={"extra_windows": None}, headers=h))) == {"extra_windows"}


def test_every_window_meets_the_dst_rules(api) -> None:
    """A one-off extra window in the spring-forward gap is refused; a recurring one that the gap would
    empty is refused; one the gap only moves is accepted and its reading stated in local_time_notes."""
    c, h = api.client, api.auth("coordinator")
    spring = dt.date(2027, 3, 28)  # clocks go 02:00 -> 03:00
    one_off = care(first_date=spring.isoformat(), window_start="00:30", window_end="01:00",
                   extra_windows=[{"start": "02:15", "end": "04:00"}])
    assert set(fields(c.post("/api/v1/requests", json=one_off, headers=h))) == {"extra_windows.0.start"}
    daily = {"first_date": "2027-03-20", "rrule": "FREQ=DAILY", "until": "2027-04-05"}
    emptied = care(**daily, window_start="00:30", window_end="01:00", extra_windows=[{"start": "02:45", "end": "03:10"}])
    assert set(fields(c.post("/api/v1/requests", json=emptied, headers=h))) == {"extra_windows.0.start"}
    moved = care(**daily, window_start="00:30", window_end="01:00", extra_windows=[{"start": "02:30", "end": "04:00"}])
    response = c.post("/api/v1/requests", json=moved, headers=h)
    assert response.status_code == 201, response.text
    notes = response.json()["local_time_notes"]
    assert [(n["field"], n["date"], n["kind"]) for n in notes] == [("extra_windows.0.start", "2027-03-28", "nonexistent")]


# --------------------------------------------------------------------------- workers of a request


def test_a_required_worker_gets_the_visit_and_when_off_it_is_unplaced_with_the_reason(api) -> None:
    """Only W2 may do it: the plan gives it to W2 (S3's regular carer is W1); with W2 absent that day the
    visit is not given to anyone else but listed unplaced with a reason naming W2."""
    rid = create(api, care(required_workers=["W2"]))
    assert [w for w, _, _ in stops(plan(api), rid)] == ["W2"]
    absent(api, "W2")
    roster = plan(api)
    assert stops(roster, rid) == []
    [reason] = unplaced(roster, rid)
    assert reason["reason"] == "request_not_plannable"
    assert reason["details"]["cause"] == "required_worker_not_on_duty"
    assert "W2" in reason["message_en"] and "W2" in reason["message_pl"]


def test_a_forbidden_worker_never_gets_the_visit_and_a_preferred_one_does(api) -> None:
    """S3's regular carer W1 is forbidden for this one visit, so W2 does it; for a senior without regular
    carers who lives next door to W2, the request's preferred worker W1 gets it."""
    forbidden = create(api, care(forbidden_workers=["W1"]))
    c, h = api.client, api.auth("coordinator")
    senior = c.post("/api/v1/seniors", json={
        "first_name": "Irena", "last_name": "Sowa", "gender": "F", "birth_year": 1941, "street": "Focha", "number": "5",
        "postcode": "25-002", "city": "Kielce", "area": "area-centrum", "lat": 50.8690, "lon": 20.6271,
        "disability": "umiarkowany", "needs": ["home_care"]}, headers=h)
    assert senior.status_code == 201, senior.text
    preferred = create(api, care(senior_id=senior.json()["id"], window_start="10:00", window_end="12:00",
                                 preferred_workers=["W1"]))
    roster = plan(api)
    assert [w for w, _, _ in stops(roster, forbidden)] == ["W2"]
    assert [w for w, _, _ in stops(roster, preferred)] == ["W1"]


def test_worker_lists_bad_input_names_the_field_and_the_worker(api) -> None:
    """Unknown ids, a worker who cannot do the service, one both required and forbidden (the senior's
    list counts), too few required workers for a two-person visit: 422 naming field and worker."""
    c, h = api.client, api.auth("coordinator")
    unknown = fields(c.post("/api/v1/requests", json=care(required_workers=["W404"], preferred_workers=["W1", "W405"],
                                                        forbidden_workers=["W406"]), headers=h))
    assert {k: "W4" in v for k, v in unknown.items()} == {"required_workers": True, "preferred_workers": True,
                                                            "forbidden_workers": True}
    assert "'W405'" in unknown["preferred_workers"] and "W1" not in unknown["preferred_workers"]
    driver = fields(c.post("/api/v1/requests", json=care(required_workers=["W3"]), headers=h))
    assert set(driver) == {"required_workers"} and "W3" in driver["required_workers"] and "driver" in driver["required_workers"]
    clash = fields(c.post("/api/v1/requests", json=care(required_workers=["W2"], forbidden_workers=["W2"]), headers=h))
    assert set(clash) == {"required_workers"}
    assert c.patch("/api/v1/seniors/S3", json={"regular_workers": [], "forbidden_workers": ["W1"]},
                   headers=h).status_code == 200
    senior_says = fields(c.post("/api/v1/requests", json=care(preferred_workers=["W1"]), headers=h))
    assert set(senior_says) == {"preferred_workers"} and "W1" in senior_says["preferred_workers"]
    pair = fields(c.post("/api/v1/requests", json=care(workers_needed=2, required_workers=["W2"]), headers=h))
    assert set(pair) == {"required_workers"}
    taxi_carer = fields(c.post("/api/v1/requests", json=care(
        service="taxi", window_start="08:00", window_end="09:00", destination_place_id="destination-wsz",
        appointment="10:30", appointment_minutes=30, duration=None, required_workers=["W1"]), headers=h))
    assert set(taxi_carer) == {"required_workers"}
    rid = create(api, care(required_workers=["W2"]))
    assert set(fields(c.patch(f"/api/v1/requests/{rid}", json={"forbidden_workers": ["W2"]}, headers=h))) == \
        {"required_workers"}


def test_workers_named_by_requests_or_pins_cannot_be_deleted(api) -> None:
    """Deleting a worker a request names (in any of its lists) or a pin refers to is a 409 naming them."""
    c, h = api.client, api.auth("admin")
    worker = c.post("/api/v1/workers", json={
        "first_name": "Ola", "last_name": "Bąk", "gender": "F", "kind": "carer", "skills": ["community_carer"],
        "contract": "etat_podstawowy", "weekly_hours": 40, "home_area": "area-centrum", "home_lat": 50.87,
        "home_lon": 20.63, "travel_mode": "car", "shifts": [{"weekday": 1, "start": "07:00", "end": "15:00"}]}, headers=h)
    assert worker.status_code == 201, worker.text
    wid = worker.json()["id"]
    rid = create(api, care(forbidden_workers=[wid]))
    refused = c.delete(f"/api/v1/workers/{wid}", headers=h)
    assert refused.status_code == 409 and rid in refused.json()["detail"]
    assert c.patch(f"/api/v1/requests/{rid}", json={"forbidden_workers": []},
                   headers=api.auth("coordinator")).status_code == 200
    assert c.put(f"/api/v1/requests/R2/pins/{DAY.isoformat()}", json={"worker_id": wid},
                 headers=api.auth("dispatcher")).status_code == 201
    refused = c.delete(f"/api/v1/workers/{wid}", headers=h)
    assert refused.status_code == 409 and "pins of request(s) R2" in refused.json()["detail"]
    assert c.delete(f"/api/v1/requests/R2/pins/{DAY.isoformat()}", headers=api.auth("dispatcher")).status_code == 204
    assert c.delete(f"/api/v1/workers/{wid}", headers=h).status_code == 204


# --------------------------------------------------------------------------- pins


def test_a_pinned_worker_and_start_are_kept_by_the_plan(api) -> None:
    """R2 (09:00-11:00, S2's regular carer W1) pinned on the day to W2 at 10:30: the roster has exactly that."""
    pin = api.client.put(f"/api/v1/requests/R2/pins/{DAY.isoformat()}", json={"worker_id": "W2", "start": "10:30"},
                         headers=api.auth("dispatcher"))
    assert pin.status_code == 201, pin.text
    assert stops(plan(api), "R2") == [("W2", "visit", dt.time(10, 30))]


def test_a_pin_that_cannot_hold_leaves_the_visit_unplaced_with_why(api) -> None:
    """A pin to W2, who falls ill after it was set: R2 is not given to anyone else that day; the reason names the pin."""
    c = api.client
    assert c.put(f"/api/v1/requests/R2/pins/{DAY.isoformat()}", json={"worker_id": "W2"},
                 headers=api.auth("dispatcher")).status_code == 201
    absent(api, "W2")
    roster = plan(api)
    assert stops(roster, "R2") == []
    [reason] = unplaced(roster, "R2")
    assert reason["details"]["cause"] == "pinned_worker_not_on_duty" and "W2" in reason["message_en"]


def test_pins_are_checked_listed_replaced_removed_and_audited(api) -> None:
    """Each broken rule is a 422 naming the field; roles; 409 for a cancelled request; PUT replaces (200),
    DELETE removes (204, then 404); set and removal are in the request's audit trail."""
    c, d = api.client, api.auth("dispatcher")
    url = f"/api/v1/requests/R2/pins/{DAY.isoformat()}"
    saturday = dt.date(2026, 12, 5)
    assert set(fields(c.put(f"/api/v1/requests/R2/pins/{saturday.isoformat()}", json={"worker_id": "W2"},
                            headers=d))) == {"date"}
    assert set(fields(c.put(url, json={}, headers=d))) == {"worker_id"}
    outside = fields(c.put(url, json={"start": "12:00"}, headers=d))
    assert set(outside) == {"start"} and "09:00-11:00" in outside["start"]
    assert set(fields(c.put(url, json={"start": "10:00+01:00"}, headers=d))) == {"start"}
    assert "W404" in fields(c.put(url, json={"worker_id": "W404"}, headers=d))["worker_id"]
    assert "driver" in fields(c.put(url, json={"worker_id": "W3"}, headers=d))["worker_id"]
    assert set(fields(c.put("/api/v1/requests/R4/pins/2026-12-01", json={"start": "09:00"}, headers=d))) == {"start"}
    assert c.patch("/api/v1/requests/R2", json={"forbidden_workers": ["W2"]},
                   headers=api.auth("coordinator")).status_code == 200
    assert "forbidden" in fields(c.put(url, json={"worker_id": "W2"}, headers=d))["worker_id"]
    assert c.patch("/api/v1/requests/R2", json={"forbidden_workers": [], "workers_needed": 2},
                   headers=api.auth("coordinator")).status_code == 200
    assert "two-person" in fields(c.put(url, json={"worker_id": "W1"}, headers=d))["worker_id"]
    assert c.patch("/api/v1/requests/R2", json={"workers_needed": 1}, headers=api.auth("coordinator")).status_code == 200

    assert c.put(url, json={"worker_id": "W2"}, headers=api.auth("worker")).status_code == 403
    assert c.put(url, json={"worker_id": "W2"}, headers=d).status_code == 201
    replaced = c.put(url, json={"start": "09:15"}, headers=api.auth("coordinator"))
    assert replaced.status_code == 200
    assert (replaced.json()["worker_id"], replaced.json()["start"]) == (None, "09:15:00")
    assert [(p["date"], p["start"]) for p in c.get("/api/v1/requests/R2/pins", headers=d).json()] == \
        [(DAY.isoformat(), "09:15:00")]
    assert c.delete(url, headers=d).status_code == 204
    assert c.delete(url, headers=d).status_code == 404
    assert c.get("/api/v1/requests/R404/pins", headers=d).status_code == 404
    with Session(api.engine) as s:
        actions = s.scalars(select(m.AuditLog.action).where(m.AuditLog.entity_id == "R2",
                                                            m.AuditLog.action.like("visit_request.%pin"))).all()
    assert actions == ["visit_request.pin", "visit_request.pin", "visit_request.unpin"]
    assert c.delete("/api/v1/requests/R2", headers=api.auth("coordinator")).status_code == 200
    assert c.put(url, json={"worker_id": "W2"}, headers=d).status_code == 409


def test_a_pinned_start_in_the_spring_forward_gap_is_refused(api) -> None:
    """On 2027-03-28 02:30 does not exist: a pin at that time is refused, 03:30 is taken."""
    rid = create(api, care(first_date="2027-03-28", window_start="01:00", window_end="05:00"))
    url = f"/api/v1/requests/{rid}/pins/2027-03-28"
    d = api.auth("dispatcher")
    assert "does not exist" in fields(api.client.put(url, json={"start": "02:30"}, headers=d))["start"]
    assert api.client.put(url, json={"start": "03:30"}, headers=d).status_code == 201


# --------------------------------------------------------------------------- the senior's gender rule


def test_with_require_intimate_care_never_goes_to_the_other_gender_but_a_ride_may(api) -> None:
    """A senior who requires a woman, on a day when only a male carer works: home care (intimate care)
    stays unplaced and the taxi ride goes to the male driver; with 'prefer' the male carer does the care,
    and so he does with 'require' once the centre marks home care as not intimate care (services API)."""
    c, coordinator = api.client, api.auth("coordinator")
    with Session(api.engine) as s:
        assert {x.code: x.intimate_care for x in s.scalars(select(m.Service)).all()} == \
            {"home_care": True, "taxi": False}
    male = c.post("/api/v1/workers", json={
        "first_name": "Piotr", "last_name": "Kos", "gender": "M", "kind": "carer", "skills": ["community_carer"],
        "contract": "etat_podstawowy", "weekly_hours": 40, "home_area": "area-centrum", "home_lat": 50.8705,
        "home_lon": 20.6285, "travel_mode": "car", "shifts": [{"weekday": 1, "start": "07:00", "end": "15:00"}]},
        headers=api.auth("admin"))
    assert male.status_code == 201, male.text
    absent(api, "W1")
    absent(api, "W2")
    senior = c.post("/api/v1/seniors", json={
        "first_name": "Maria", "last_name": "Lis", "gender": "F", "birth_year": 1939, "street": "Focha", "number": "7",
        "postcode": "25-002", "city": "Kielce", "area": "area-centrum", "lat": 50.8711, "lon": 20.6292,
        "disability": "znaczny", "needs": ["home_care", "taxi"], "preferred_gender": "F", "gender_rule": "require"},
        headers=coordinator)
    assert senior.status_code == 201 and senior.json()["gender_rule"] == "require", senior.text
    sid = senior.json()["id"]
    washing = create(api, care(senior_id=sid, window_start="09:00", window_end="11:00"))
    ride = create(api, care(senior_id=sid, service="taxi", window_start="09:00", window_end="10:00", duration=None,
                            mandatory=False, destination_place_id="destination-wsz", appointment="11:00",
                            appointment_minutes=30))
    roster = plan(api)
    assert stops(roster, washing) == [] and unplaced(roster, washing)
    assert {w for w, _, _ in stops(roster, ride)} == {"W3"}  # a man drives her

    assert c.patch(f"/api/v1/seniors/{sid}", json={"gender_rule": "prefer"}, headers=coordinator).status_code == 200
    assert [w for w, _, _ in stops(plan(api), washing)] == [male.json()["id"]]

    # Intimate care is the centre's call per service (the services API): not intimate, the rule is a wish.
    assert c.patch(f"/api/v1/seniors/{sid}", json={"gender_rule": "require"}, headers=coordinator).status_code == 200
    assert stops(plan(api), washing) == []
    changed = c.patch("/api/v1/services/home_care", json={"intimate_care": False}, headers=api.auth("admin"))
    assert changed.status_code == 200 and changed.json()["intimate_care"] is False, changed.text
    assert [w for w, _, _ in stops(plan(api), washing)] == [male.json()["id"]]


def test_gender_rule_input_and_what_old_clients_get(api) -> None:
    """A rule without a gender, or 'none' with one, is a 422 on gender_rule; a client that sends only
    preferred_gender gets 'prefer', and clearing the gender clears the rule; null is refused."""
    c, h = api.client, api.auth("coordinator")
    base = {"first_name": "Ewa", "last_name": "Mróz", "gender": "F", "birth_year": 1940, "street": "Focha",
            "number": "9", "postcode": "25-002", "city": "Kielce", "area": "area-centrum", "lat": 50.871,
            "lon": 20.629, "disability": "lekki"}
    assert set(fields(c.post("/api/v1/seniors", json=base | {"gender_rule": "require"}, headers=h))) == {"gender_rule"}
    assert set(fields(c.post("/api/v1/seniors", json=base | {"gender_rule": "none", "preferred_gender": "M"},
                             headers=h))) == {"gender_rule"}
    assert "gender_rule" in fields(c.post("/api/v1/seniors", json=base | {"gender_rule": "always"}, headers=h))
    old_client = c.post("/api/v1/seniors", json=base | {"preferred_gender": "F"}, headers=h)
    assert old_client.status_code == 201 and old_client.json()["gender_rule"] == "prefer"
    sid = old_client.json()["id"]
    assert c.post("/api/v1/seniors", json=base, headers=h).json()["gender_rule"] == "none"
    url = f"/api/v1/seniors/{sid}"
    assert c.patch(url, json={"gender_rule": "require"}, headers=h).json()["gender_rule"] == "require"
    assert c.patch(url, json={"preferred_gender": "M"}, headers=h).json()["gender_rule"] == "require"
    assert c.patch(url, json={"preferred_gender": None}, headers=h).json()["gender_rule"] == "none"
    assert set(fields(c.patch(url, json={"gender_rule": None}, headers=h))) == {"gender_rule"}
    assert set(fields(c.patch(url, json={"gender_rule": "prefer"}, headers=h))) == {"gender_rule"}


# --------------------------------------------------------------------------- imports


def upload(api: Any, content: bytes, **params: Any) -> Any:
    return api.client.post("/api/v1/imports/requests", files={"file": ("plik.csv", content, "text/csv")},
                           params=params, headers=api.auth("coordinator"))


def test_request_import_takes_windows_and_worker_columns(api) -> None:
    """extra_windows ("12:00-12:30, 17:00-18:00") and the three worker lists are import columns, checked as
    over HTTP: a bad row is reported by line and column, and nothing is imported."""
    header = "senior_id;service;first_date;window_start;window_end;extra_windows;required_workers;preferred_workers;" \
             "forbidden_workers"
    good = "S3;home_care;01.12.2026;08:00;08:30;12:00-12:30, 17:00-18:00;W2;;W1"
    bad = ["S2;home_care;01.12.2026;08:00;09:00;08:30-09:30;;;",  # line 3: overlaps the first window
           "S2;home_care;01.12.2026;08:00;09:00;;W404;W3;",  # line 4: unknown worker, a driver preferred for care
           "S2;home_care;01.12.2026;08:00;09:00;17:00;;;"]  # line 5: not a window
    content = ("\ufeff" + "\r\n".join([header, good, *bad]) + "\r\n").encode()
    refused = upload(api, content)
    assert refused.status_code == 422 and refused.json()["type"].endswith("import-invalid")
    assert {(e["row"], e["field"]) for e in refused.json()["errors"]} == {
        (3, "extra_windows"), (4, "required_workers"), (4, "preferred_workers"), (5, "extra_windows")}
    assert "W404" in next(e["message"] for e in refused.json()["errors"] if e["field"] == "required_workers")

    content = ("\ufeff" + "\r\n".join([header, good]) + "\r\n").encode()
    done = upload(api, content)
    assert done.status_code == 201, done.text
    read = api.client.get(f"/api/v1/requests/{done.json()['ids'][0]}", headers=api.auth("dispatcher")).json()
    assert read["extra_windows"] == [{"start": "12:00:00", "end": "12:30:00"}, {"start": "17:00:00", "end": "18:00:00"}]
    assert (read["required_workers"], read["preferred_workers"], read["forbidden_workers"]) == (["W2"], [], ["W1"])
