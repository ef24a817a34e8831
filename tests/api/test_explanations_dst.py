"""Reasons for unplaced visits name local clock times on the days the clocks change (issue 15, item 4).

A mandatory one-off visit at local 08:00-08:30 on a Sunday when the only carer on duty works from
10:00 cannot be placed.  Minute 0 is local midnight, so the window is minutes 420-450 on
2026-03-29 (23 hours: midnight is still winter time) and 540-570 on 2026-10-25 (25 hours).  The
optimizer used to word the reason itself, reading minutes as clock times of a 24-hour day:
"07:00-07:30" in spring, "09:00-09:30" in autumn.  The reason must say 08:00-08:30 on both days
wherever it is stored or shown: the roster row, the roster view, the publish answer and the CLI
summary.  The plan is made by ``dispatch.planning.rosters.plan_day`` (and checked by the independent checker
there); every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from rich.console import Console
from sqlmodel import Session, select

from dispatch.storage import models as m
from dispatch.cli.summary import print_unplaced
from dispatch.planning.rosters import PlannedDay, plan_day
from dispatch.providers.travel import provider_from_settings
from dispatch.domain import ServiceCode
from optimizer.params import load_params

SPRING, AUTUMN = dt.date(2026, 3, 29), dt.date(2026, 10, 25)  # both Sundays
WINDOW_MINUTES = {SPRING: [[420, 450]], AUTUMN: [[540, 570]]}
"""Local 08:00-08:30 as minutes from local midnight on each day."""
PARAMS = dict(time_limit_s=None, solution_limit=5, lns_iterations=5, seed=0)


def plan_the_early_visit(api, day: dt.date) -> PlannedDay:
    """W1 works 10:00-16:00 that Sunday; R-EARLY (mandatory, S1) wants 08:00-08:30."""
    with Session(api.engine) as s:
        s.add(m.WorkerShift(worker_id="W1", weekday=6, start=dt.time(10), end=dt.time(16)))
        s.add(m.VisitRequest(id="R-EARLY", senior_id="S1", service=ServiceCode.HOME_CARE, first_date=day,
                             window_start=dt.time(8), window_end=dt.time(8, 30), duration=20, mandatory=True))
        s.commit()
    planned = plan_day(api.engine, day, provider_from_settings(api.settings), load_params(None, **PARAMS))
    return planned


@pytest.mark.parametrize("day", [SPRING, AUTUMN], ids=["2026-03-29", "2026-10-25"])
def test_a_visit_at_local_8_is_explained_at_8_on_both_dst_days(api, day: dt.date) -> None:
    """The stored row, the roster view, the publish answer and the CLI summary all say 08:00-08:30 (never
    07:00 or 09:00); the stored facts keep the day's minutes."""
    planned = plan_the_early_visit(api, day)
    [u] = planned.solution.unassigned
    assert (u.reason.value, u.details["case"], u.details["windows"]) == (
        "no_worker_free_in_window", "off_shift", WINDOW_MINUTES[day])

    with Session(api.engine) as s:
        [row] = s.exec(select(m.RosterUnassigned)).all()
    assert row.visit_request_id == "R-EARLY" and row.details["windows"] == WINDOW_MINUTES[day]
    assert row.message_en == "No eligible worker is on shift inside any of its windows (08:00-08:30)."
    assert row.message_pl == "Żaden uprawniony pracownik nie ma dyżuru w oknach czasowych wizyty (08:00-08:30)."

    url = f"/api/v1/rosters/{day.isoformat()}"
    view = api.client.get(url, headers=api.auth("dispatcher"))
    assert view.status_code == 200, view.text
    [shown] = view.json()["unassigned"]
    assert (shown["message_en"], shown["message_pl"]) == (row.message_en, row.message_pl)

    answer = api.client.post(url + "/publish", headers={**api.auth("dispatcher"), "If-Match": view.json()["etag"]})
    assert answer.status_code == 409, answer.text
    [listed] = answer.json()["unplaced_mandatory_visits"]
    assert "(08:00-08:30)" in listed["message_en"] and "(08:00-08:30)" in listed["message_pl"]
    assert "(08:00-08:30)" in answer.json()["errors"][0]["message"]

    console = Console(width=200, record=True, color_system=None)
    print_unplaced(console, planned)
    text = console.export_text()
    assert text.count("(08:00-08:30)") == 2 and "07:00" not in text and "09:00" not in text
