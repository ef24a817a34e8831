"""The live day over HTTP: version diff, hand edits checked by the checker, pins, recommendations, plan check."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlmodel import Session

from dispatch.storage import models as m
from dispatch.planning.recommend import load_latest
from dispatch.planning.rosters import plan_day
from dispatch.providers import travel_cache
from dispatch.providers.travel import provider_from_settings
from dispatch.providers.travel_cache import shared_travel
from optimizer import check, evaluate, is_feasible, problem_to_dict, solution_to_dict
from optimizer.params import load_params
from optimizer.plan_edit import solution_of
from optimizer.recommend import recommend
from tests.api.conftest import DAY

PROBLEM = "application/problem+json"


def headers(api, user: str = "dispatcher", **extra: str) -> dict[str, str]:
    return api.auth(user, **extra)


URL = f"/api/v1/rosters/{DAY.isoformat()}"


def plan(api) -> m.Roster:
    return plan_day(api.engine, DAY, provider_from_settings(api.settings), load_params(None, time_limit_s=1)).roster


def latest(api) -> dict:
    r = api.client.get(URL, headers=headers(api))
    assert r.status_code == 200, r.text
    return r.json()


def stops(body: dict) -> dict[str, list[tuple[str, str]]]:
    """request id -> [(worker, local start HH:MM)] of a roster body."""
    out: dict[str, list[tuple[str, str]]] = {}
    for rt in body["routes"]:
        for v in rt["visits"]:
            out.setdefault(v["visit_request_id"], []).append((rt["worker_id"], v["start"][11:16]))
    return out


def patch(api, request_id: str, body: dict, etag: str | None = None, user: str = "dispatcher"):
    extra = {"If-Match": etag if etag is not None else latest(api)["etag"]}
    return api.client.patch(f"{URL}/visits/{request_id}", json=body, headers=headers(api, user, **extra))


def add_request(api, rid: str, start: dt.time, end: dt.time, duration: int, senior: str = "S3") -> None:
    with Session(api.engine) as s:
        s.add(m.VisitRequest(id=rid, senior_id=senior, service="home_care", first_date=DAY, window_start=start,
                             window_end=end, duration=duration, priority=3))
        s.commit()


def checked_latest(api) -> None:
    """The latest version, read back into the day's problem, passes the independent checker."""
    with Session(api.engine) as s:
        _, loaded = load_latest(s, DAY, None, api.settings)
        violations = check(loaded.problem, solution_of(loaded.problem, loaded.routes))
    assert is_feasible(violations), [v.message for v in violations]


# --------------------------------------------------------------------------- diff


def insert_version(api, version: int, status: m.RosterStatus, stops_: list[tuple[str, str, str, int, int]]) -> None:
    """A version written by hand: (worker, request, leg, local hour, minutes) per stop."""
    with Session(api.engine) as s:
        roster = m.Roster(date=DAY, version=version, status=status)
        s.add(roster)
        s.flush()
        for seq, (worker, request, leg, hour, minutes) in enumerate(stops_):
            start = dt.datetime(2026, 12, 1, hour - 1, 0, tzinfo=dt.UTC)  # CET = UTC+1
            s.add(m.RosterAssignment(roster_id=roster.id, worker_id=worker, visit_request_id=request,
                                     occurrence_date=DAY, sequence=seq, arrival=start, start=start,
                                     end=start + dt.timedelta(minutes=minutes), leg=leg))
        s.commit()


def test_diff_of_a_hand_made_pair_of_versions_counts_every_kind_of_change(api) -> None:
    insert_version(api, 1, m.RosterStatus.PUBLISHED, [
        ("W1", "R1", "visit", 8, 60), ("W1", "R2", "visit", 9, 45), ("W2", "R3", "visit", 11, 30),
        ("W3", "R4", "pickup", 10, 10)])
    insert_version(api, 2, m.RosterStatus.DRAFT, [
        ("W1", "R1", "visit", 8, 60), ("W1", "R2", "visit", 10, 45), ("W1", "R3", "visit", 11, 30),
        ("W3", "R4", "dropoff", 11, 10)])
    r = api.client.get(f"{URL}/diff", headers=headers(api))  # default: published -> latest
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from_version"], body["to_version"]) == (1, 2)
    assert body["counts"] == {"kept": 1, "moved_in_time": 1, "moved_to_another_worker": 1, "added": 1, "removed": 1}
    assert body["must_tell"] == ["W1", "W2", "W3"]
    w1 = next(w for w in body["workers"] if w["worker_id"] == "W1")
    assert w1["kept"] == 1 and [c["visit_request_id"] for c in w1["moved_in_time"]] == ["R2"]
    assert w1["moved_in_time"][0]["old_start"].startswith("2026-12-01T09:00:00+01:00")
    assert w1["moved_in_time"][0]["new_start"].startswith("2026-12-01T10:00:00+01:00")
    assert [(c["visit_request_id"], c["other_worker_id"]) for c in w1["moved_in"]] == [("R3", "W2")]
    w2 = next(w for w in body["workers"] if w["worker_id"] == "W2")
    assert [(c["visit_request_id"], c["other_worker_id"]) for c in w2["moved_out"]] == [("R3", "W1")]
    w3 = next(w for w in body["workers"] if w["worker_id"] == "W3")
    assert [c["leg"] for c in w3["added"]] == ["dropoff"] and [c["leg"] for c in w3["removed"]] == ["pickup"]
    same = api.client.get(f"{URL}/diff", params={"from": 2, "to": 2}, headers=headers(api)).json()
    assert same["must_tell"] == [] and same["counts"]["kept"] == 4
    missing = api.client.get(f"{URL}/diff", params={"from": 7}, headers=headers(api))
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM


# --------------------------------------------------------------------------- hand edits


def test_an_edit_that_breaks_a_time_window_is_refused_naming_the_rule_and_the_minutes(api) -> None:
    plan(api)
    before = latest(api)
    r = patch(api, "R1", {"start": "12:00", "reason": "senior asked"})  # R1's window: 08:00-09:00
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["type"].endswith("edit-breaks-rules")
    (violation,) = [v for v in problem["violations"] if v["rule"] == "time_window"]
    assert violation["visit_request_ids"] == ["R1"] and violation["minutes"] == 180
    assert "12:00" in violation["message_en"] and "08:00-09:00" in violation["message_en"]
    assert latest(api)["version"] == before["version"]  # nothing stored


def test_an_overtime_edit_is_accepted_with_a_warning_and_a_new_draft(api) -> None:
    plan(api)
    add_request(api, "R9", dt.time(14, 30), dt.time(14, 50), 45)
    before = latest(api)
    r = patch(api, "R9", {"worker_id": "W1", "start": "14:45", "reason": "urgent"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["roster"]["version"] == before["version"] + 1 and body["roster"]["status"] == "draft"
    assert r.headers["etag"] == body["roster"]["etag"]
    (overtime,) = [w for w in body["warnings"] if w["rule"] == "overtime"]
    assert overtime["worker_id"] == "W1" and overtime["minutes"] > 0
    assert body["diff"]["must_tell"] == ["W1"]
    assert [c["visit_request_id"] for c in body["diff"]["workers"][0]["added"]] == ["R9"]
    assert stops(latest(api))["R9"] == [("W1", "14:45")]
    checked_latest(api)
    with Session(api.engine) as s:
        (row,) = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.edit")).all()
    assert row.actor == "dispatcher" and row.changes["reason"]["new"] == "urgent"
    assert row.changes["workers"] == {"old": [], "new": ["W1"]}


def test_edits_need_the_latest_etag(api) -> None:
    plan(api)
    etag = latest(api)["etag"]
    assert patch(api, "R3", {"start": "12:00"}, etag="").status_code == 428
    first = patch(api, "R3", {"start": "12:00"}, etag=etag)
    assert first.status_code == 200, first.text
    stale = patch(api, "R3", {"start": "12:10"}, etag=etag)
    assert stale.status_code == 412 and stale.headers["etag"] == first.json()["roster"]["etag"]


def test_unassign_then_assign_back_and_closed_days(api, monkeypatch: pytest.MonkeyPatch) -> None:
    plan(api)
    r = patch(api, "R3", {"unassign": True, "reason": "hospital"})
    assert r.status_code == 200, r.text
    body = latest(api)
    assert "R3" not in stops(body)
    (row,) = [u for u in body["unassigned"] if u["visit_request_id"] == "R3"]
    assert row["reason"] == "unassigned_by_hand" and "hospital" in row["message_en"]
    again = patch(api, "R3", {"unassign": True})
    assert again.status_code == 422 and "nothing to take out" in again.text
    back = patch(api, "R3", {"worker_id": "W2"})  # no start: W2's best free slot
    assert back.status_code == 200, back.text
    assert [w for w, _ in stops(latest(api))["R3"]] == ["W2"]
    checked_latest(api)
    api.set_now(dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC))
    closed = patch(api, "R3", {"start": "12:30"})
    assert closed.status_code == 409 and closed.json()["type"].endswith("day-closed")
    admin = patch(api, "R3", {"start": "12:30", "reason": "correction"}, user="admin")
    assert admin.status_code == 200, admin.text
    with Session(api.engine) as s:
        overrides = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.closed_day_override")).all()
    assert len(overrides) == 1 and overrides[0].actor == "admin"


def test_a_pin_set_by_an_edit_survives_a_replan(api) -> None:
    plan(api)
    (where,) = stops(latest(api))["R1"]
    pinned = patch(api, "R1", {"pin": True})  # pinned where it is: nothing moves, nobody to tell
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["diff"]["must_tell"] == [] and stops(latest(api))["R1"] == [where]
    current = stops(latest(api))["R2"]
    other = "W2" if current[0][0] == "W1" else "W1"
    r = patch(api, "R2", {"worker_id": other, "start": "10:00", "pin": True})
    assert r.status_code == 200, r.text
    with Session(api.engine) as s:
        pins = {p.visit_request_id: (p.worker_id, p.start) for p in s.scalars(select(m.VisitPin)).all()}
    assert pins == {"R1": (where[0], dt.time.fromisoformat(where[1])), "R2": (other, dt.time(10, 0))}
    plan(api)  # a new plan from scratch keeps the pin
    assert stops(latest(api))["R2"] == [(other, "10:00")]
    unpin = patch(api, "R2", {"pin": False})
    assert unpin.status_code == 200, unpin.text
    with Session(api.engine) as s:
        assert [p.visit_request_id for p in s.scalars(select(m.VisitPin)).all()] == ["R1"]
    checked_latest(api)


# --------------------------------------------------------------------------- recommendations


def test_recommendations_top_option_is_feasible_and_its_cost_is_evaluates_difference(api) -> None:
    plan(api)
    add_request(api, "R9", dt.time(12, 0), dt.time(14, 0), 30)
    r = api.client.post(f"{URL}/recommendations", json={"request_id": "R9"}, headers=headers(api))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["options"], body
    best = body["options"][0]
    assert best["start"].startswith("2026-12-01T1") and best["workers"][0]["worker_id"] in ("W1", "W2")
    assert [o["cost_increase"] for o in body["options"]] == sorted(o["cost_increase"] for o in body["options"])
    with Session(api.engine) as s:
        _, loaded = load_latest(s, DAY, None, api.settings)
    p = loaded.problem
    rec = recommend(p, loaded.routes, "R9@2026-12-01")
    top = rec.options[0]
    after = dict(rec.base)
    for route in top.routes:
        after[(route.worker_id, route.shift_index)] = route
    solution = solution_of(p, after)
    assert is_feasible(check(p, solution))
    assert evaluate(p, solution).total - evaluate(p, solution_of(p, rec.base)).total == top.cost_increase
    assert top.cost_increase == best["cost_increase"]
    inline = api.client.post(f"{URL}/recommendations", headers=headers(api), json={"request": {
        "senior_id": "S2", "service": "home_care", "window_start": "12:00", "window_end": "13:00", "duration": 30}})
    assert inline.status_code == 200 and inline.json()["options"], inline.text
    ride = api.client.post(f"{URL}/recommendations", json={"request_id": "R4"}, headers=headers(api))
    assert ride.status_code == 422


def test_an_inline_request_at_a_new_place_computes_the_rows_it_reads_and_answers_as_a_cold_start(api) -> None:
    """A senior at an address no one visits that day: the day's kept road metres grow by her place
    (a row and a column), the modes' rows are computed only as far as the answer reads them, and
    the answer is the one a cold start gives."""
    plan(api)
    add_request(api, "R9", dt.time(12, 0), dt.time(14, 0), 30)
    assert api.client.post(f"{URL}/recommendations", json={"request_id": "R9"}, headers=headers(api)).status_code == 200
    with Session(api.engine) as s:
        s2 = s.get(m.Senior, "S2")
        s.add(m.Senior(**{**s2.model_dump(), "id": "S9", "lat": 50.905, "lon": 20.601}))
        s.commit()
    travel = shared_travel(api.settings)
    asked, grown = travel.cells_asked, travel.grown
    body = {"request": {"senior_id": "S9", "service": "home_care", "window_start": "12:00", "window_end": "14:00",
                        "duration": 30}}
    warm = api.client.post(f"{URL}/recommendations", json=body, headers=headers(api))
    assert warm.status_code == 200 and warm.json()["options"], warm.text
    with Session(api.engine) as s:
        _, loaded = load_latest(s, DAY, None, api.settings)
    places, modes = len(loaded.problem.locations) + 1, len(loaded.problem.travel_times)
    assert travel.grown - grown == 1  # the day's road metres grown by her place, once for every mode
    # at most each row once (minutes per mode, the metres shared); on a 10x day about a third of them
    assert 0 < travel.cells_asked - asked <= (modes + 1) * places ** 2
    travel_cache._SHARED.clear()  # a cold start: nothing kept
    cold = api.client.post(f"{URL}/recommendations", json=body, headers=headers(api))
    assert [(o["workers"], o["start"], o["cost_increase"], o["terms"]) for o in cold.json()["options"]] == \
        [(o["workers"], o["start"], o["cost_increase"], o["terms"]) for o in warm.json()["options"]]


def test_check_endpoint_checks_an_uploaded_plan(api) -> None:
    plan(api)
    with Session(api.engine) as s:
        _, loaded = load_latest(s, DAY, None, api.settings)
    p = loaded.problem
    good = {"problem": problem_to_dict(p), "solution": solution_to_dict(solution_of(p, loaded.routes))}
    r = api.client.post("/api/v1/rosters/check", content=json.dumps(good),
                        headers={**headers(api, "coordinator"), "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["feasible"] is True and r.json()["objective"] is not None
    good = json.loads(json.dumps(good))
    bad_solution = good["solution"]
    for key in ("arrival", "start", "end"):  # outside its windows and into the next stop
        bad_solution["routes"][0]["stops"][0][key] += 600
    r = api.client.post("/api/v1/rosters/check", json={**good, "solution": bad_solution}, headers=headers(api))
    assert r.status_code == 200, r.text
    assert r.status_code == 200 and r.json()["feasible"] is False and r.json()["errors"] > 0
    assert api.client.post("/api/v1/rosters/check", json={"problem": {}, "solution": {}},
                           headers=headers(api)).status_code == 422
    assert api.client.post("/api/v1/rosters/check", json=good, headers=headers(api, "worker")).status_code == 403


def test_a_two_person_visit_is_assigned_and_moved_with_both_workers(api) -> None:
    plan(api)
    with Session(api.engine) as s:
        s.add(m.VisitRequest(id="R8", senior_id="S2", service="home_care", first_date=DAY, window_start=dt.time(13, 0),
                             window_end=dt.time(14, 0), duration=30, workers_needed=2))
        s.commit()
    one = patch(api, "R8", {"worker_id": "W1", "start": "13:30"})
    assert one.status_code == 422 and "needs 2 worker" in one.text
    both = patch(api, "R8", {"worker_ids": ["W1", "W2"], "start": "13:30"})
    assert both.status_code == 200, both.text
    assert sorted(stops(latest(api))["R8"]) == [("W1", "13:30"), ("W2", "13:30")]
    moved = patch(api, "R8", {"start": "13:45"})
    assert moved.status_code == 200, moved.text
    assert sorted(stops(latest(api))["R8"]) == [("W1", "13:45"), ("W2", "13:45")]
    assert sorted(w["worker_id"] for w in moved.json()["diff"]["workers"] if w["must_be_told"]) == ["W1", "W2"]
    checked_latest(api)


def test_a_start_the_worker_cannot_reach_is_refused_with_the_earliest_possible(api) -> None:
    plan(api)
    ((worker, start),) = stops(latest(api))["R1"]  # 60 minutes, starting 08:00-09:00
    h, mi = map(int, start.split(":"))
    during = f"{h + (mi + 30) // 60:02d}:{(mi + 30) % 60:02d}"  # R1 is not over by then
    r = patch(api, "R3", {"worker_id": worker, "start": during})
    assert r.status_code == 409, r.text
    (violation,) = r.json()["violations"]
    assert violation["rule"] == "start_before_arrival" and violation["minutes"] >= 30
    assert violation["visit_request_ids"] == ["R3"] and during in violation["message_en"]


def test_a_dry_run_gives_the_checker_s_verdict_and_stores_nothing(api) -> None:
    plan(api)
    before = latest(api)
    refused = api.client.patch(f"{URL}/visits/R1", params={"dry_run": "true"}, json={"start": "12:00"},
                               headers=headers(api, **{"If-Match": before["etag"]}))
    assert refused.status_code == 409 and refused.json()["type"].endswith("edit-breaks-rules")
    assert [v["rule"] for v in refused.json()["violations"]] == ["time_window"]
    add_request(api, "R9", dt.time(14, 30), dt.time(14, 50), 45)
    r = api.client.patch(f"{URL}/visits/R9", params={"dry_run": "true"}, json={"worker_id": "W1", "start": "14:45"},
                         headers=headers(api, **{"If-Match": before["etag"]}))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and body["roster"] is None and body["diff"] is None
    assert body["base_version"] == before["version"]
    assert [w["worker_id"] for w in body["warnings"] if w["rule"] == "overtime"] == ["W1"]  # as saving would say
    assert "etag" not in r.headers
    after = latest(api)
    assert after["version"] == before["version"] and after["etag"] == before["etag"]  # nothing stored
    assert "R9" not in stops(after)
    with Session(api.engine) as s:
        assert s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.edit")).all() == []
    stale = api.client.patch(f"{URL}/visits/R9", params={"dry_run": "true"}, json={"worker_id": "W1"},
                             headers=headers(api, **{"If-Match": '"stale"'}))
    assert stale.status_code == 412
