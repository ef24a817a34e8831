"""The day board's geometry: travel ends at the arrival, waiting fills arrival to start, the visit
spans start to end, breaks are blocks; minutes count from the board's first whole hour; each movable
visit block links to the edit form."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

from api.console.board import build_board, short_label
from dispatch.storage import models as m
from dispatch.planning.publish import AssignmentView, BreakView, RosterView, RouteView

ZONE = ZoneInfo("Europe/Warsaw")
DAY = dt.date(2026, 12, 1)


def at(h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(h, mi), tzinfo=ZONE)


def visit(rid: str, service: str, arrival: dt.datetime, start: dt.datetime, end: dt.datetime, travel: int) -> AssignmentView:
    return AssignmentView(
        sequence=0, worker_id="W1", shift_index=0, visit_request_id=rid, occurrence_date=DAY, leg="visit",
        senior_id="S1", senior_name="Halina Zając", address="Sienkiewicza 10", service=service,
        service_name_pl="Usługi opiekuńcze", service_name_en="Home care", tasks="", arrival=arrival, start=start,
        end=end, travel_minutes=travel, waiting_minutes=int((start - arrival).total_seconds() // 60))


def test_blocks_follow_the_route_times() -> None:
    route = RouteView("W1", "Anna Nowak", "carer",
                      [visit("R1", "home_care", at(7, 50), at(8), at(9), 20),
                       visit("R2", "taxi", at(9, 10), at(9, 10), at(9, 40), 10)],
                      [BreakView(0, at(9, 40), at(9, 55))])
    view = RosterView(m.Roster(date=DAY, version=1), '"r1"', [route], [])
    board = build_board(view, DAY)
    assert (board.first_hour, board.last_hour) == (7, 10)  # from the first travel (07:30) to the break's end
    kinds = [(b.kind, b.x, b.width) for b in board.rows[0].blocks]
    assert kinds == [("travel", 30, 20), ("waiting", 50, 10), ("visit", 60, 60), ("travel", 120, 10),
                     ("visit", 130, 30), ("break", 160, 15)]
    assert [(i.service, i.short, i.colour) for i in board.legend] == [("home_care", "HC", "svc-0"),
                                                                      ("taxi", "TA", "svc-1")]
    assert board.rows[0].visits == 2


def test_short_labels_name_services_in_letters() -> None:
    assert short_label("home_care") == "HC" and short_label("specialist-care") == "SC" and short_label("taxi") == "TA"


def test_visit_blocks_link_to_the_edit_form_and_the_drag_script_is_served(api) -> None:
    """Each visit block opens the day with that visit chosen in the edit form; board.js (drag to move) is a
    static file, no inline script."""
    from tests.api.console_helpers import console_login, plan_through_console

    csrf = console_login(api, "dispatcher")
    plan_through_console(api, csrf)
    page = api.client.get(f"/console/day/{DAY.isoformat()}").text
    links = re.findall(r'<a class="visit-link" href="([^"]+)"', page)
    assert links and all(link.endswith("#edit") and "visit=R" in link for link in links)
    target = html.unescape(links[0]).split("#")[0]
    chosen = re.search(r"visit=(R\d)", target).group(1)
    opened = api.client.get(target).text
    assert f'<option value="{chosen}" selected>' in opened
    assert '<script src="/console/static/board.js" defer></script>' in page and "<script>" not in page
    script = api.client.get("/console/static/board.js")
    assert script.status_code == 200 and "requestSubmit" in script.text
