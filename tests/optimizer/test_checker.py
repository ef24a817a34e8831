"""The independent checker: one clean plan, then one broken rule per test.

The base day (hand-checkable, all times in minutes from midnight):

    locations 0 office, 1 A, 2 B, 3 C; car minutes (walking is twice as long):
        0: 0 10 20 15 / 1: 10 0 10 25 / 2: 20 10 0 10 / 3: 15 25 10 0

    W1 carer, F, car, shift 08:00-16:00 with a 15 min break starting 10:00-13:00, seats 2
        08:00 leave office
        V1 @A   travel 10  arrive 08:10  start 08:10  end 08:40
        V3 @C   travel 25  arrive 09:05  start 10:00  end 10:30
        break 10:30-10:45
        V4 @C   travel 0   arrive 10:45  start 11:40  end 12:00   (two-person, with W2)
        back at office 12:15 (travel 15)
    W2 specialist, M, walking, shift 08:00-12:00 + 30 min overtime
        08:00 leave office
        V2 @B   travel 40  arrive 08:40  start 09:00  end 09:45   (45 min for a specialist)
        V4 @C   travel 20  arrive 10:05  start 11:40  end 12:00
        back at office 12:30 (travel 30): 30 min of overtime, exactly the limit
    V5 (optional) is unassigned.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from optimizer.checker import Rule, Violation, at, check, is_feasible, span
from optimizer.model import (
    BreakRule,
    BreakTaken,
    Dependency,
    Gender,
    PlannedVisit,
    Problem,
    ReasonCode,
    Route,
    Shift,
    Solution,
    Stop,
    TimeWindow,
    TravelMode,
    Unassigned,
    Visit,
    Weights,
    WorkerKind,
)
from tests.optimizer.builders import CAR, A, B, C, problem, visit, worker

WALK = tuple(tuple(2 * t for t in row) for row in CAR)
ROOT = Path(__file__).resolve().parents[2]


def base_problem() -> Problem:
    w1 = worker("W1", Shift(480, 960, 0, breaks=(BreakRule(15, 600, 780),)), skills={"personal_care"},
                gender=Gender.FEMALE, max_work=300, capacity={"seats": 2})
    w2 = worker("W2", Shift(480, 720, 30), kind=WorkerKind.SPECIALIST_CARER, mode=TravelMode.WALK,
                skills={"personal_care", "nursing"}, gender=Gender.MALE)
    visits = (
        visit("V1", A, 30, [(480, 540)], required_skills={"personal_care"}, mandatory=True, priority=3,
              preferred_workers={"W1"}, forbidden_workers={"W2"}, demand={"seats": 1}),
        visit("V2", B, 60, [(540, 600)], duration_by_kind={WorkerKind.SPECIALIST_CARER: 45},
              required_skills={"nursing"}, priority=2, pinned_worker="W2", pinned_start=540),
        visit("V3", C, 30, [(540, 560), (600, 660)], soft_windows=True, max_lateness=20,
              required_workers={"W1"}, gender_preference=Gender.FEMALE, gender_strict=True, demand={"seats": 1}),
        visit("V4", C, 20, [(690, 710)], workers_needed=2),
        visit("V5", A, 30, [(480, 960)], priority=4),
    )
    return problem(
        (w1, w2), visits, weights=Weights(),
        dependencies=(Dependency("V1", "V3", min_delay=60, max_delay=180),),
        previous_plan=(PlannedVisit("V1", "W1", 490), PlannedVisit("V2", "W2", 540)),
        freeze_until=500,
    )


def base_solution() -> Solution:
    r1 = Route(
        "W1", 0, 480, 735,
        stops=(
            Stop("V1", 1, arrival=490, start=490, end=520, travel=10, waiting=0),
            Stop("V3", 3, arrival=545, start=600, end=630, travel=25, waiting=55),
            Stop("V4", 3, arrival=645, start=700, end=720, travel=0, waiting=55),
        ),
        breaks=(BreakTaken(630, 645),),
        travel_minutes=50, service_minutes=80, waiting_minutes=110, overtime_minutes=0,
    )
    r2 = Route(
        "W2", 0, 480, 750,
        stops=(
            Stop("V2", 2, arrival=520, start=540, end=585, travel=40, waiting=20),
            Stop("V4", 3, arrival=605, start=700, end=720, travel=20, waiting=95),
        ),
        travel_minutes=90, service_minutes=65, waiting_minutes=115, overtime_minutes=30,
    )
    return Solution((r1, r2), (Unassigned("V5", ReasonCode.NOT_WORTH_IT, {"case": "dearer_than_dropping"}),))


# ----------------------------------------------------------------------------- helpers


def errors(problem: Problem, solution: Solution) -> set[str]:
    return {v.rule for v in check(problem, solution) if v.severity == "error"}


def warnings(problem: Problem, solution: Solution) -> set[str]:
    return {v.rule for v in check(problem, solution) if v.severity == "warning"}


def with_route(solution: Solution, worker_id: str, **changes: object) -> Solution:
    routes = tuple(replace(r, **changes) if r.worker_id == worker_id else r for r in solution.routes)
    return replace(solution, routes=routes)


def with_stop(solution: Solution, worker_id: str, visit_id: str, **changes: object) -> Solution:
    def fix(route: Route) -> Route:
        if route.worker_id != worker_id:
            return route
        stops = tuple(replace(s, **changes) if s.visit_id == visit_id else s for s in route.stops)
        return replace(route, stops=stops)

    return replace(solution, routes=tuple(fix(r) for r in solution.routes))


def add_routes(solution: Solution, *routes: Route) -> Solution:
    return replace(solution, routes=solution.routes + routes)


def with_visit(problem: Problem, visit_id: str, **changes: object) -> Problem:
    visits = tuple(replace(v, **changes) if v.id == visit_id else v for v in problem.visits)
    return replace(problem, visits=visits)


def with_worker(problem: Problem, worker_id: str, **changes: object) -> Problem:
    workers = tuple(replace(w, **changes) if w.id == worker_id else w for w in problem.workers)
    return replace(problem, workers=workers)


def unassigned(visit_id: str) -> Unassigned:
    return Unassigned(visit_id, ReasonCode.NOT_FOUND, {"case": "not_explained"})


# ----------------------------------------------------------------------------- clean plan


def test_base_plan_has_no_violations() -> None:
    """The hand-built base plan obeys every rule and has consistent totals: no errors, no warnings."""
    violations = check(base_problem(), base_solution())
    assert violations == []
    assert is_feasible(violations)


def test_violation_is_frozen_and_carries_location() -> None:
    """A violation names the rule, worker, visit and shift, and is immutable."""
    sol = with_stop(base_solution(), "W1", "V3", waiting=50)
    [v] = check(base_problem(), sol)
    assert (v.rule, v.worker_id, v.visit_id, v.shift_index) == ("waiting_mismatch", "W1", "V3", 0)
    assert v.severity == "error"
    assert "V3" in v.message and "waiting" in v.message
    with pytest.raises(AttributeError):
        v.rule = "x"  # type: ignore[misc]


def test_messages_give_minutes_not_clock_times() -> None:
    """Messages name times as minutes from the origin, never as a clock time of a 24-hour day.

    The checker does not know the day's time zone: on 2026-03-29 (23 hours in Warsaw) minute
    490 is 09:10, on 2026-10-25 (25 hours) 07:10, so "08:10" would be wrong on both.
    """
    assert at(490) == "minute 490" and at(1440 + 61) == "minute 1501"
    assert span(480, 510) == "minutes 480-510"
    broken = [
        with_route(base_solution(), "W1", start=470),  # before the shift
        with_stop(base_solution(), "W1", "V1", start=470, arrival=470, end=500),  # window, frozen, timing
        with_route(base_solution(), "W1", breaks=(BreakTaken(600, 615),)),  # break during a visit
        with_route(base_solution(), "W2", end=800, overtime_minutes=80),  # past overtime
    ]
    messages = [v.message for sol in broken for v in check(base_problem(), sol)]
    assert any("minute 470" in m for m in messages) and any("minutes 600-615" in m for m in messages)
    assert not [m for m in messages if re.search(r"\b\d{2}:\d{2}\b", m)]


def test_all_violations_are_listed_not_just_the_first() -> None:
    """Several independent faults are all reported in one pass."""
    sol = with_stop(base_solution(), "W1", "V3", waiting=50, travel=20)
    sol = with_route(sol, "W2", overtime_minutes=0)
    assert errors(base_problem(), sol) == {"waiting_mismatch", "travel_mismatch", "overtime_mismatch"}


def test_is_feasible_ignores_warnings() -> None:
    """Warnings alone keep a plan feasible; one error makes it infeasible."""
    warn = Violation("mandatory_unassigned", "m", severity="warning")
    err = Violation("time_window", "t")
    assert is_feasible([warn])
    assert not is_feasible([warn, err])


# ----------------------------------------------------------------------------- routes & accounting


def test_unknown_worker() -> None:
    """A route for a worker who is not in the problem is reported."""
    sol = add_routes(base_solution(), Route("W9", 0, 480, 480, ()))
    assert errors(base_problem(), sol) == {Rule.UNKNOWN_WORKER}


def test_invalid_shift_index() -> None:
    """A route for a shift the worker does not have is reported."""
    sol = add_routes(base_solution(), Route("W2", 1, 480, 480, ()))
    assert errors(base_problem(), sol) == {Rule.INVALID_SHIFT}


def test_duplicate_route_for_same_shift() -> None:
    """Two routes for the same (worker, shift) are reported, even if one is empty."""
    sol = add_routes(base_solution(), Route("W2", 0, 480, 480, ()))
    assert errors(base_problem(), sol) == {Rule.DUPLICATE_ROUTE}


def test_routes_of_one_worker_overlap() -> None:
    """Split-shift routes of one worker that overlap in time are reported (a worker is in one place)."""
    problem = with_worker(base_problem(), "W1", max_work_minutes=None,
                          shifts=base_problem().workers[0].shifts + (Shift(700, 960),))
    second = Route("W1", 1, 700, 750, (Stop("V5", 1, 710, 710, 740, 10, 0),),
                   travel_minutes=20, service_minutes=30)
    sol = replace(add_routes(base_solution(), second), unassigned=())
    assert errors(problem, sol) == {Rule.WORKER_ROUTES_OVERLAP}


def test_unknown_visit() -> None:
    """A visit id that the problem does not know is reported (here in the unassigned list)."""
    sol = replace(base_solution(), unassigned=base_solution().unassigned + (unassigned("V9"),))
    assert errors(base_problem(), sol) == {Rule.UNKNOWN_VISIT}


def test_two_person_visit_with_one_worker() -> None:
    """A two-person visit planned for only one worker is reported."""
    sol = with_route(base_solution(), "W2", stops=base_solution().routes[1].stops[:1])
    assert errors(base_problem(), sol) == {Rule.VISIT_PLACEMENT_COUNT}


def test_same_worker_twice_on_a_visit() -> None:
    """A two-person visit done twice by one worker is reported (the repeat also cannot be reached in time)."""
    r1, r2 = base_solution().routes
    sol = with_route(base_solution(), "W1", stops=r1.stops + (r1.stops[-1],))
    sol = with_route(sol, "W2", stops=r2.stops[:1])
    assert errors(base_problem(), sol) == {Rule.VISIT_DUPLICATE_WORKER, Rule.TRAVEL_TOO_SHORT}


def test_visit_both_placed_and_unassigned() -> None:
    """A visit that is planned and also listed as unassigned is reported."""
    sol = replace(base_solution(), unassigned=base_solution().unassigned + (unassigned("V1"),))
    assert errors(base_problem(), sol) == {Rule.VISIT_PLACED_AND_UNASSIGNED}


def test_visit_not_accounted_for() -> None:
    """A visit that is neither planned nor listed as unassigned is reported."""
    sol = replace(base_solution(), unassigned=())
    assert errors(base_problem(), sol) == {Rule.VISIT_NOT_ACCOUNTED}


def test_unassigned_listed_twice() -> None:
    """An unassigned visit listed twice is reported."""
    sol = replace(base_solution(), unassigned=base_solution().unassigned * 2)
    assert errors(base_problem(), sol) == {Rule.UNASSIGNED_DUPLICATE}


def test_two_person_visit_not_synchronised() -> None:
    """Both workers of a two-person visit must start it at the same minute."""
    sol = with_stop(base_solution(), "W2", "V4", start=695, end=715, waiting=90)
    sol = with_route(sol, "W2", service_minutes=65, waiting_minutes=110)
    assert errors(base_problem(), sol) == {Rule.TWO_PERSON_NOT_SYNCHRONISED}


def test_mandatory_unassigned_is_a_warning_only() -> None:
    """An unplaced mandatory visit is a warning, not an error: the plan stays feasible."""
    problem = replace(base_problem(), dependencies=(), previous_plan=())
    r1 = base_solution().routes[0]
    stops = (replace(r1.stops[1], travel=15), *r1.stops[2:])
    sol = with_route(base_solution(), "W1", stops=stops, travel_minutes=30, service_minutes=50)
    sol = replace(sol, unassigned=sol.unassigned + (unassigned("V1"),))
    violations = check(problem, sol)
    assert [(v.rule, v.severity, v.visit_id) for v in violations] == [
        ("mandatory_unassigned", "warning", "V1")
    ]
    assert is_feasible(violations)


# ----------------------------------------------------------------------------- timing


def test_route_starts_before_shift() -> None:
    """Leaving before the shift starts is reported."""
    sol = with_route(base_solution(), "W1", start=470)
    assert errors(base_problem(), sol) == {Rule.ROUTE_START_BEFORE_SHIFT}


def test_stop_location_differs_from_visit() -> None:
    """A stop placed at another location than its visit's is reported once (timing uses the visit's place)."""
    sol = with_stop(base_solution(), "W1", "V1", location=2)
    assert errors(base_problem(), sol) == {Rule.STOP_LOCATION}


def test_first_leg_too_short() -> None:
    """The first arrival cannot be earlier than the route start plus travel from the start location."""
    sol = with_stop(base_solution(), "W1", "V1", arrival=485, waiting=5)
    assert errors(base_problem(), sol) == {Rule.TRAVEL_TOO_SHORT}


def test_travel_between_stops_too_short() -> None:
    """Arrival must leave the matrix travel time after the previous visit ends."""
    sol = with_stop(base_solution(), "W1", "V3", arrival=540, waiting=60)
    assert errors(base_problem(), sol) == {Rule.TRAVEL_TOO_SHORT}


def test_break_during_travel_delays_arrival() -> None:
    """A break started between two visits before arriving adds its length to the leg."""
    sol = with_stop(base_solution(), "W1", "V4", arrival=640, waiting=60)
    assert errors(base_problem(), sol) == {Rule.TRAVEL_TOO_SHORT}


def test_break_while_waiting_does_not_delay_arrival() -> None:
    """A break taken at the door (after arriving) does not count as travel time."""
    sol = with_route(base_solution(), "W1", breaks=(BreakTaken(650, 665),))
    sol = with_stop(sol, "W1", "V4", arrival=630, waiting=70)
    sol = with_route(sol, "W1", waiting_minutes=125)
    assert check(base_problem(), sol) == []


def test_start_before_arrival() -> None:
    """Service cannot start before the worker arrives."""
    sol = with_stop(base_solution(), "W1", "V4", arrival=705, waiting=-5)
    sol = with_route(sol, "W1", waiting_minutes=50)
    assert errors(base_problem(), sol) == {Rule.START_BEFORE_ARRIVAL}


def test_waiting_field_inconsistent() -> None:
    """A stop's waiting must equal start minus arrival."""
    sol = with_stop(base_solution(), "W1", "V3", waiting=50)
    assert errors(base_problem(), sol) == {Rule.WAITING_MISMATCH}


def test_travel_field_inconsistent() -> None:
    """A stop's travel must equal the matrix value for the worker's mode."""
    sol = with_stop(base_solution(), "W2", "V2", travel=20)
    assert errors(base_problem(), sol) == {Rule.TRAVEL_MISMATCH}


def test_service_duration_wrong() -> None:
    """A stop must last the visit's duration for the worker's kind (45 for a specialist on V2)."""
    sol = with_stop(base_solution(), "W2", "V2", end=580)
    sol = with_route(sol, "W2", service_minutes=60)
    assert errors(base_problem(), sol) == {Rule.SERVICE_DURATION}


def test_route_ends_before_getting_back() -> None:
    """The route end leaves time to travel from the last visit to the end location."""
    sol = with_route(base_solution(), "W1", end=730)
    assert errors(base_problem(), sol) == {Rule.ROUTE_END_TOO_EARLY}


def test_travel_from_ride_starts_at_its_destination() -> None:
    """After a visit with an end_location (a ride), the next leg starts from that destination."""
    problem = with_visit(base_problem(), "V1", end_location=3)
    assert errors(problem, base_solution()) == {Rule.TRAVEL_MISMATCH}  # V3 is now 0 min away, not 25
    sol = with_stop(base_solution(), "W1", "V3", travel=0)
    sol = with_route(sol, "W1", travel_minutes=25)
    assert check(problem, sol) == []


def test_unknown_travel_time() -> None:
    """A leg the worker's travel matrix has no entry for is reported, not crashed on."""
    problem = replace(base_problem(), travel_times={TravelMode.CAR: CAR})
    assert Rule.TRAVEL_UNKNOWN in errors(problem, base_solution())


def test_route_totals_mismatch_is_a_warning() -> None:
    """Route totals that disagree with the stops are a warning (the stops are the plan)."""
    sol = with_route(base_solution(), "W2", travel_minutes=70)
    violations = check(base_problem(), sol)
    assert [(v.rule, v.severity) for v in violations] == [("route_totals_mismatch", "warning")]
    assert "travel 70 (stops say 90)" in violations[0].message


# ----------------------------------------------------------------------------- windows


def one_visit_day(visit: Visit, start: int) -> tuple[Problem, Solution]:
    """One worker, one visit at A (10 min from the office), arriving exactly at ``start``."""
    day = problem([worker("W", Shift(0, 1440))], [visit], weights=Weights())
    stop = Stop(visit.id, 1, start, start, start + 30, 10, 0)
    route = Route("W", 0, start - 10, start + 40, (stop,), travel_minutes=20, service_minutes=30)
    return day, Solution((route,), ())


@pytest.mark.parametrize("start", [480, 500, 600, 620])
def test_start_inside_a_window(start: int) -> None:
    """Starts inside any window (bounds inclusive) are fine."""
    visit = Visit("X", 1, 30, (TimeWindow(480, 500), TimeWindow(600, 620)))
    assert check(*one_visit_day(visit, start)) == []


@pytest.mark.parametrize("start", [470, 550, 621])
def test_hard_window_outside(start: int) -> None:
    """A hard window: before, between or after the windows is a violation."""
    visit = Visit("X", 1, 30, (TimeWindow(480, 500), TimeWindow(600, 620)))
    assert errors(*one_visit_day(visit, start)) == {Rule.TIME_WINDOW}


def test_soft_window_gap_is_still_a_violation() -> None:
    """Soft windows only relax the last window's end: a start in the gap between windows is wrong."""
    sol = with_stop(base_solution(), "W1", "V3", start=570, end=600, waiting=25)
    sol = with_route(sol, "W1", waiting_minutes=80)
    assert errors(base_problem(), sol) == {Rule.TIME_WINDOW}


def test_soft_window_lateness_within_limit() -> None:
    """With soft windows a start up to max_lateness after the last window end is allowed."""
    visit = Visit("X", 1, 30, (TimeWindow(480, 500),), soft_windows=True, max_lateness=15)
    assert check(*one_visit_day(visit, 515)) == []


def test_soft_window_lateness_exceeded() -> None:
    """A soft-window start later than max_lateness past the last window end is reported."""
    visit = Visit("X", 1, 30, (TimeWindow(480, 500),), soft_windows=True, max_lateness=15)
    assert errors(*one_visit_day(visit, 516)) == {Rule.LATENESS_EXCEEDED}


def test_soft_window_early_start_is_a_violation() -> None:
    """Soft windows do not allow starting before the first window."""
    visit = Visit("X", 1, 30, (TimeWindow(480, 500),), soft_windows=True, max_lateness=15)
    assert errors(*one_visit_day(visit, 470)) == {Rule.TIME_WINDOW}


# ----------------------------------------------------------------------------- shift end & work


def test_shift_end_plus_overtime_exceeded() -> None:
    """Finishing past shift end plus max_overtime is reported (reported overtime is consistent)."""
    sol = with_route(base_solution(), "W2", end=760, overtime_minutes=40)
    assert errors(base_problem(), sol) == {Rule.SHIFT_END_EXCEEDED}


def test_overtime_reported_wrong() -> None:
    """overtime_minutes must equal max(0, end - shift end)."""
    sol = with_route(base_solution(), "W2", overtime_minutes=20)
    assert errors(base_problem(), sol) == {Rule.OVERTIME_MISMATCH}


def test_max_work_minutes_exceeded() -> None:
    """W1 works 08:00-12:15 = 255 min; a 250 min cap is broken."""
    problem = with_worker(base_problem(), "W1", max_work_minutes=250)
    assert errors(problem, base_solution()) == {Rule.MAX_WORK_EXCEEDED}


def test_max_work_sums_split_shift_routes() -> None:
    """Working time adds up over all routes of a worker (255 + 50 > 290)."""
    w1 = base_problem().workers[0]
    problem = with_worker(base_problem(), "W1", max_work_minutes=290, shifts=w1.shifts + (Shift(800, 960),))
    stop = Stop("V5", 1, arrival=810, start=810, end=840, travel=10, waiting=0)
    second = Route("W1", 1, 800, 850, (stop,), travel_minutes=20, service_minutes=30)
    sol = replace(add_routes(base_solution(), second), unassigned=())
    assert errors(problem, sol) == {Rule.MAX_WORK_EXCEEDED}


# ----------------------------------------------------------------------------- breaks


def test_break_missing() -> None:
    """A shift's break rule without any break is reported."""
    sol = with_route(base_solution(), "W1", breaks=())
    assert errors(base_problem(), sol) == {Rule.BREAK_MISSING}


def test_break_too_short() -> None:
    """A break shorter than the rule's duration does not satisfy it."""
    sol = with_route(base_solution(), "W1", breaks=(BreakTaken(630, 640),))
    assert errors(base_problem(), sol) == {Rule.BREAK_MISSING}


def test_break_starts_outside_its_window() -> None:
    """A break starting after the rule's latest start does not satisfy it."""
    sol = with_route(base_solution(), "W1", breaks=(BreakTaken(630, 645), ))
    problem = with_worker(base_problem(), "W1", shifts=(Shift(480, 960, breaks=(BreakRule(15, 640, 780),)),))
    assert errors(problem, sol) == {Rule.BREAK_MISSING}


def test_each_break_rule_needs_its_own_break() -> None:
    """Two break rules are not both met by one long break."""
    rules = (BreakRule(15, 600, 780), BreakRule(15, 600, 780))
    problem = with_worker(base_problem(), "W1", shifts=(Shift(480, 960, breaks=rules),))
    assert errors(problem, base_solution()) == {Rule.BREAK_MISSING}
    sol = with_route(base_solution(), "W1", breaks=(BreakTaken(630, 645), BreakTaken(650, 665)))
    assert errors(problem, sol) == set()


def test_break_malformed() -> None:
    """A break that ends before it starts is reported."""
    sol = with_route(base_solution(), "W1", breaks=(BreakTaken(630, 645), BreakTaken(660, 650)))
    assert errors(base_problem(), sol) == {Rule.BREAK_MALFORMED}


def test_break_outside_route() -> None:
    """A break after the worker is already back is outside the route."""
    sol = with_route(base_solution(), "W1", breaks=(BreakTaken(630, 645), BreakTaken(740, 755)))
    assert errors(base_problem(), sol) == {Rule.BREAK_OUTSIDE_ROUTE}


def test_break_during_a_visit() -> None:
    """A break overlapping a visit's service is reported (breaks are taken between visits)."""
    sol = with_route(base_solution(), "W1", breaks=(BreakTaken(610, 625),))
    assert errors(base_problem(), sol) == {Rule.BREAK_OVERLAPS_VISIT}


def test_breaks_overlap_each_other() -> None:
    """Two breaks of a route must not overlap."""
    breaks = (BreakTaken(630, 645), BreakTaken(650, 665), BreakTaken(660, 670))
    sol = with_route(base_solution(), "W1", breaks=breaks)
    assert errors(base_problem(), sol) == {Rule.BREAKS_OVERLAP}


def test_unused_route_needs_no_break() -> None:
    """An empty route (a worker not sent out; W1's shift has a break rule) needs no break."""
    problem = replace(base_problem(), previous_plan=())
    empty = Route("W1", 0, 480, 480, ())
    sol = Solution((empty,), tuple(unassigned(v.id) for v in problem.visits))
    assert errors(problem, sol) == set()


def test_checker_does_not_import_the_solver() -> None:
    """The checker is an independent code path: importing it loads neither ortools nor the solver."""
    code = (
        "import sys, optimizer.checker, optimizer.evaluate; "
        "bad = [m for m in sys.modules if m.startswith(('ortools', 'optimizer.routing', 'optimizer.solver', "
        "'optimizer.search'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


# ----------------------------------------------------------------------------- who may do a visit


def test_missing_skill() -> None:
    """A worker without a required skill is reported."""
    problem = with_visit(base_problem(), "V2", required_skills=frozenset({"nursing", "dementia"}))
    assert errors(problem, base_solution()) == {Rule.MISSING_SKILL}


def test_wrong_worker_kind() -> None:
    """A visit restricted to some kinds of worker done by another kind is reported."""
    problem = with_visit(base_problem(), "V2", worker_kinds=frozenset({WorkerKind.CARER}))
    violations = check(problem, base_solution())
    assert [(v.rule, v.worker_id, v.visit_id) for v in violations] == [("wrong_worker_kind", "W2", "V2")]


def test_errors_come_before_warnings() -> None:
    """Errors are listed first, so a caller showing 'the first violation' shows a real fault."""
    sol = with_route(base_solution(), "W1", travel_minutes=1)
    sol = with_route(sol, "W2", overtime_minutes=0)
    assert [v.severity for v in check(base_problem(), sol)] == ["error", "warning"]


def test_not_a_required_worker() -> None:
    """A visit restricted to named workers done by another worker is reported."""
    problem = with_visit(base_problem(), "V4", required_workers=frozenset({"W1"}))
    assert errors(problem, base_solution()) == {Rule.NOT_REQUIRED_WORKER}


def test_forbidden_worker() -> None:
    """A visit done by a forbidden worker is reported."""
    problem = with_visit(base_problem(), "V4", forbidden_workers=frozenset({"W2"}))
    assert errors(problem, base_solution()) == {Rule.FORBIDDEN_WORKER}


def test_strict_gender_mismatch() -> None:
    """A strict gender preference is a hard rule (W2 is male)."""
    problem = with_visit(base_problem(), "V4", gender_preference=Gender.FEMALE, gender_strict=True)
    violations = [v for v in check(problem, base_solution())]
    assert [(v.rule, v.worker_id) for v in violations] == [("gender_mismatch", "W2")]


def test_soft_gender_preference_is_not_checked() -> None:
    """A soft gender preference is a cost for the evaluator, not a checker violation."""
    problem = with_visit(base_problem(), "V4", gender_preference=Gender.FEMALE)
    assert check(problem, base_solution()) == []


def test_pinned_worker() -> None:
    """A visit pinned to a worker done by someone else is reported."""
    problem = with_visit(base_problem(), "V1", pinned_worker="W2")
    assert errors(problem, base_solution()) == {Rule.PINNED_WORKER}


def test_pinned_start() -> None:
    """A visit pinned to a start minute starting at another minute is reported."""
    problem = with_visit(base_problem(), "V2", pinned_start=545)
    assert errors(problem, base_solution()) == {Rule.PINNED_START}


# ----------------------------------------------------------------------------- across visits


@pytest.mark.parametrize("dep", [Dependency("V1", "V3", 120, 180), Dependency("V1", "V3", 0, 100)])
def test_dependency_delay_out_of_range(dep: Dependency) -> None:
    """V3 starts 110 min after V1: below a 120 min minimum or above a 100 min maximum is reported."""
    problem = replace(base_problem(), dependencies=(dep,))
    assert errors(problem, base_solution()) == {Rule.DEPENDENCY_DELAY}


def test_dependency_uses_two_person_start() -> None:
    """A two-person visit's (shared) start is used for dependencies: V4 at 11:40 is 210 min after V1."""
    ok = replace(base_problem(), dependencies=(Dependency("V1", "V4", 210, 210),))
    assert errors(ok, base_solution()) == set()
    bad = replace(base_problem(), dependencies=(Dependency("V1", "V4", 211),))
    assert errors(bad, base_solution()) == {Rule.DEPENDENCY_DELAY}


def test_dependency_different_workers() -> None:
    """A pair that must go to two workers, both done by W1 (V1 and V3), is reported with W1;
    V2 (W2) and V4 (W1 and W2) share W2, also reported; V1 and V2 do not."""
    apart = replace(base_problem(), dependencies=(Dependency("V1", "V3", 0, None, True),))
    found = [(v.rule, v.worker_id, v.visit_id) for v in check(apart, base_solution()) if v.severity == "error"]
    assert found == [(Rule.DEPENDENCY_SAME_WORKER, "W1", "V3")]
    shared = replace(base_problem(), dependencies=(Dependency("V2", "V4", 0, None, True),))
    assert errors(shared, base_solution()) == {Rule.DEPENDENCY_SAME_WORKER}
    fine = replace(base_problem(), dependencies=(Dependency("V1", "V2", 0, None, True),))
    assert errors(fine, base_solution()) == set()


def test_dependency_both_or_neither() -> None:
    """A both-or-neither pair with only its first visit planned is reported (V1 yes, V5 no)."""
    problem = replace(base_problem(), dependencies=(Dependency("V1", "V5", both_or_neither=True),))
    assert errors(problem, base_solution()) == {Rule.DEPENDENCY_AFTER_UNASSIGNED}
    problem = replace(base_problem(), dependencies=(Dependency("V1", "V5"),))
    assert errors(problem, base_solution()) == set()


def test_dependency_after_without_before() -> None:
    """A placed visit whose predecessor is unassigned is reported (after needs before)."""
    problem = replace(base_problem(), dependencies=(Dependency("V5", "V1"),))
    assert errors(problem, base_solution()) == {Rule.DEPENDENCY_BEFORE_UNASSIGNED}


def test_dependency_before_without_after_is_fine() -> None:
    """Placing the first visit of a dependency without the second is allowed."""
    problem = replace(base_problem(), dependencies=(Dependency("V1", "V5"),))
    assert errors(problem, base_solution()) == set()


def test_dependency_on_unknown_visit() -> None:
    """A dependency naming a visit that does not exist is reported."""
    problem = replace(base_problem(), dependencies=(Dependency("V9", "V1"),))
    assert errors(problem, base_solution()) == {Rule.DEPENDENCY_UNKNOWN_VISIT}


@pytest.mark.parametrize("planned", [PlannedVisit("V1", "W1", 495), PlannedVisit("V1", "W2", 490)])
def test_frozen_visit_changed(planned: PlannedVisit) -> None:
    """A visit of the previous plan starting before freeze_until keeps its worker and start."""
    problem = replace(base_problem(), previous_plan=(planned,))
    assert errors(problem, base_solution()) == {Rule.FROZEN_CHANGED}


def test_visits_after_freeze_may_change() -> None:
    """Previous-plan visits at or after freeze_until may move freely."""
    problem = replace(base_problem(), previous_plan=(PlannedVisit("V2", "W1", 600),), freeze_until=540)
    assert errors(problem, base_solution()) == set()


def test_capacity_exceeded() -> None:
    """W1's route carries 2 seats of demand; a capacity of 1 is exceeded."""
    problem = with_worker(base_problem(), "W1", capacity={"seats": 1})
    assert errors(problem, base_solution()) == {Rule.CAPACITY_EXCEEDED}


def test_demand_on_a_capacity_the_worker_lacks() -> None:
    """Positive demand on a key the worker has no capacity for is a violation."""
    problem = with_visit(base_problem(), "V2", demand={"seats": 1})
    violations = check(problem, base_solution())
    assert [(v.rule, v.worker_id) for v in violations] == [("capacity_exceeded", "W2")]
