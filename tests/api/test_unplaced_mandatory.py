"""Mandatory visits are never dropped silently (issue 14, item 6).

A roster that leaves mandatory visits out lists them first, with their reasons, in the roster
view, the publish answer and the CLI summary, and counts them in the roster and the plan job;
publishing it needs the request to acknowledge exactly those visits by request id (409 otherwise,
listing them), and the acknowledgement is audited with the ids.

R5 (mandatory) needs a skill nobody has; R6 (optional) too: the small scenario's other visits fit.
Every roster here is planned by ``plan_day`` or the plan job (both checked by the independent checker).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from rich.console import Console
from sqlalchemy import select
from sqlmodel import Session

from dispatch import jobs
from dispatch.storage import models as m
from dispatch.cli.summary import print_unplaced
from dispatch.planning.rosters import PlannedDay, plan_day
from dispatch.planning.solving import summarise
from dispatch.providers.travel import provider_from_settings
from dispatch.domain import ServiceCode
from optimizer.params import load_params
from tests.api.conftest import DAY

URL = f"/api/v1/rosters/{DAY.isoformat()}"
PROBLEM = "application/problem+json"


def add_request(api, rid: str, *, mandatory: bool, skill: str = "insulin_pump", senior: str = "S2") -> None:
    """A one-off home-care visit on DAY that nobody can do (a skill no worker has)."""
    with Session(api.engine) as s:
        s.add(m.VisitRequest(id=rid, senior_id=senior, service=ServiceCode.HOME_CARE, first_date=DAY,
                             window_start=dt.time(10), window_end=dt.time(12), duration=30,
                             required_skills=[skill], mandatory=mandatory, priority=5))
        s.commit()


def plan(api) -> PlannedDay:
    planned = plan_day(api.engine, DAY, provider_from_settings(api.settings), load_params(None, time_limit_s=1))
    return planned


def draft(api) -> dict:
    r = api.client.get(URL, headers=api.auth("dispatcher"))
    assert r.status_code == 200, r.text
    return r.json()


def publish(api, etag: str, body: object = None):
    kwargs = {} if body is None else {"json": body}
    return api.client.post(URL + "/publish", headers={**api.auth("dispatcher"), "If-Match": etag}, **kwargs)


def publish_audits(api) -> list[m.AuditLog]:
    with Session(api.engine) as s:
        return list(s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.publish")).all())


def test_roster_view_lists_unplaced_mandatory_visits_first_with_reasons_and_counts_them(api) -> None:
    """The view counts the unplaced mandatory visits, gives their ids, and lists them before the optional
    ones, each with its reason in Polish and English."""
    add_request(api, "O6", mandatory=False)  # the optional one comes first by id, request order and solver order
    add_request(api, "R5", mandatory=True)
    plan(api)
    body = draft(api)
    assert body["unplaced_mandatory"] == 1 and body["unplaced_mandatory_ids"] == ["R5"]
    assert [(u["visit_request_id"], u["mandatory"]) for u in body["unassigned"]] == [("R5", True), ("O6", False)]
    first = body["unassigned"][0]
    assert first["reason"] == "no_skilled_worker"
    assert first["details"]["case"] == "nobody_has_skills" and first["details"]["required_skills"] == ["insulin_pump"]
    assert "insulin_pump" in first["message_en"] and "insulin_pump" in first["message_pl"]
    assert first["senior_name"] == "Krystyna Mazur"


def test_publishing_needs_exactly_the_unplaced_mandatory_visits_acknowledged_and_audits_them(api) -> None:
    """Without an acknowledgement, or with the wrong ids, publishing is a 409 problem listing the
    unplaced mandatory visits with reasons, and nothing changes; with exactly their ids it publishes,
    the answer lists them first, and the audit row carries the ids acknowledged."""
    add_request(api, "R5", mandatory=True)
    add_request(api, "R6", mandatory=False)
    plan(api)
    etag = draft(api)["etag"]

    for body, missing, unexpected in ((None, ["R5"], []), ({"acknowledge_unplaced_mandatory": []}, ["R5"], []),
                                      ({"acknowledge_unplaced_mandatory": ["R6"]}, ["R5"], ["R6"]),
                                      ({"acknowledge_unplaced_mandatory": ["R5", "R1"]}, [], ["R1"])):
        r = publish(api, etag, body)
        assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM), (body, r.text)
        problem = r.json()
        assert problem["type"].endswith("/unplaced-mandatory-not-acknowledged")
        assert [(u["visit_request_id"], u["reason"]) for u in problem["unplaced_mandatory_visits"]] == [
            ("R5", "no_skilled_worker")]
        assert problem["unplaced_mandatory_visits"][0]["message_pl"]
        assert {e["field"] for e in problem["errors"]} == {"acknowledge_unplaced_mandatory"}
        named = [e["message"].split(":")[0] for e in problem["errors"]]
        assert named == missing + unexpected, problem["errors"]
        assert '"acknowledge_unplaced_mandatory": ["R5"]' in problem["detail"]
    assert draft(api)["status"] == "draft" and publish_audits(api) == []

    # A yes/no is not an acknowledgement: it must name the visits.
    r = publish(api, etag, {"acknowledge_unplaced_mandatory": True})
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)

    r = publish(api, etag, {"acknowledge_unplaced_mandatory": ["R5"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "published" and body["unplaced_mandatory"] == 1
    assert body["unassigned"][0]["visit_request_id"] == "R5" and body["unassigned"][0]["mandatory"] is True
    [audit] = publish_audits(api)
    assert audit.actor == "dispatcher" and audit.changes["acknowledged_unplaced_mandatory"]["new"] == ["R5"]


def test_an_acknowledgement_for_one_draft_does_not_publish_a_newer_one_with_other_drops(api) -> None:
    """The dispatcher acknowledged R5 on version 1; version 2 also drops R7: publishing version 2 with
    the old acknowledgement is refused, naming R7."""
    add_request(api, "R5", mandatory=True)
    plan(api)
    assert draft(api)["unplaced_mandatory_ids"] == ["R5"]
    add_request(api, "R7", mandatory=True, senior="S3")
    plan(api)
    body = draft(api)
    assert body["version"] == 2 and body["unplaced_mandatory_ids"] == ["R5", "R7"]
    r = publish(api, body["etag"], {"acknowledge_unplaced_mandatory": ["R5"]})
    assert r.status_code == 409
    assert [e["message"].split(":")[0] for e in r.json()["errors"]] == ["R7"]
    assert publish(api, body["etag"], {"acknowledge_unplaced_mandatory": ["R7", "R5"]}).status_code == 200


def test_a_roster_without_unplaced_mandatory_visits_needs_no_acknowledgement(api) -> None:
    """Nothing mandatory left out (R6 is optional): publish without a body; the count is 0."""
    add_request(api, "R6", mandatory=False)
    plan(api)
    body = draft(api)
    assert body["unplaced_mandatory"] == 0 and body["unplaced_mandatory_ids"] == []
    assert [u["visit_request_id"] for u in body["unassigned"]] == ["R6"]
    r = publish(api, body["etag"])
    assert r.status_code == 200, r.text
    [audit] = publish_audits(api)
    assert "acknowledged_unplaced_mandatory" not in audit.changes


def test_the_plan_job_result_carries_the_count_of_unplaced_mandatory_visits(api) -> None:
    """``GET /jobs/{id}`` of a finished plan says how many mandatory visits its draft leaves out."""
    add_request(api, "R5", mandatory=True)
    h = api.auth("dispatcher")
    r = api.client.post(URL + "/plan", json={"time_limit_s": 1}, headers=h)
    assert r.status_code == 202 and r.json()["unplaced_mandatory"] is None
    if api.engine.url.get_backend_name() != "sqlite":
        asyncio.run(jobs.work_async(jobs.engine_url(api.engine), api.settings, wait=False,
                                    install_signal_handlers=False))
    deadline = time.monotonic() + 90
    while (job := api.client.get(r.headers["location"], headers=h).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    assert job["unplaced_mandatory"] == 1
    assert draft(api)["unplaced_mandatory_ids"] == ["R5"]


def test_cli_summaries_list_unplaced_mandatory_visits_first_with_reasons(api) -> None:
    """The demo's summary names the unplaced mandatory visits (and that publishing needs them
    acknowledged) before the optional ones; ``carepath solve``'s summary starts with them."""
    add_request(api, "R6", mandatory=False, skill="dialysis")
    add_request(api, "R5", mandatory=True)
    planned = plan(api)
    console = Console(record=True, width=300)
    print_unplaced(console, planned)
    text = console.export_text()
    assert text.index("Mandatory visits NOT placed: 1 (R5)") < text.index("Optional visits not placed: 1")
    assert "acknowledge" in text
    lines = text.splitlines()
    r5 = next(i for i, line in enumerate(lines) if line.strip().startswith("R5:"))
    r6 = next(i for i, line in enumerate(lines) if line.strip().startswith("R6:"))
    assert r5 < r6 and "no_skilled_worker" in lines[r5] and "insulin_pump" in lines[r5] + lines[r5 + 1]

    solved = summarise(planned.solution, None, planned.built.problem).splitlines()
    assert solved[0] == "MANDATORY VISITS NOT PLACED: 1"
    assert solved[1].strip().startswith("R5@2026-12-01: no_skilled_worker:")


def test_a_mandatory_request_that_never_became_a_visit_counts_too(api) -> None:
    """A mandatory request whose window the spring DST gap empties (02:45-03:10 reads 03:45-03:10 on
    2026-03-29) is not planned at all: it is still an unplaced mandatory visit, with its reason."""
    spring = dt.date(2026, 3, 29)
    with Session(api.engine) as s:
        s.add(m.VisitRequest(id="G1", senior_id="S1", service=ServiceCode.HOME_CARE, first_date=spring,
                             window_start=dt.time(2, 45), window_end=dt.time(3, 10), duration=30, mandatory=True))
        s.commit()
    plan_day(api.engine, spring, provider_from_settings(api.settings), load_params(None, time_limit_s=1))
    body = api.client.get(f"/api/v1/rosters/{spring.isoformat()}", headers=api.auth("dispatcher")).json()
    assert body["unplaced_mandatory_ids"] == ["G1"]
    [u] = body["unassigned"]
    assert u["mandatory"] is True and u["reason"] == "request_not_plannable" and "03:45" in u["message_en"]
