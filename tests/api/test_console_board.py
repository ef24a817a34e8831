"""The day board's geometry: travel ends at the arrival, waiting fills arrival to start, the visit
spans start to end, breaks are blocks; minutes count from the board's first whole hour."""

from __future__ import annotations

import datetime as dt
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
