"""The re-plan's displacement move (``optimizer.displace``): work left out that fits only if
something gives way is placed when that lowers the objective, and only then.

Each problem is a re-plan (a previous plan is given), built so that the left-out work fits in
one place only and something is already there.  The move is driven directly on the first plan
(the previous plan loaded as it was, ``optimizer.warm``), then the whole solve is run; every
plan is checked by the independent checker.
"""

from __future__ import annotations

import pytest

from optimizer import displace
from optimizer.checker import check, is_feasible
from optimizer.construct import Builder, construct
from optimizer.lns import Search, improve, plan_cost
from optimizer.model import Dependency, PlannedVisit, Problem, ReasonCode, Ride, Shift, Solution, Unassigned
from optimizer.nodes import raw_plan, to_routes
from optimizer.rules import eligible_workers
from optimizer.stop import MaxIterations
from tests.optimizer.builders import A, B, C, problem, solve_ok, visit, worker

# ---------------------------------------------------------------------- helpers


def first_plan(p: Problem) -> Builder:
    """The construction's plan: on a re-plan, the previous plan where it still holds, then
    insertion of the rest (what the LNS starts from)."""
    vehicles = [(wi, si) for wi, w in enumerate(p.workers) for si in range(len(w.shifts))]
    b = construct(p, vehicles, [eligible_workers(p, v) for v in p.visits]).builder
    assert b is not None
    return b


def checked(b: Builder) -> dict[str, list[tuple[str, int]]]:
    """The builder's plan as a solution, refused by the checker if infeasible; visit id ->
    [(worker, start)]."""
    p = b.p
    routes = to_routes(p, raw_plan(b, "TEST"))
    left = tuple(Unassigned(v.id, ReasonCode.NOT_FOUND, {}) for vi, v in enumerate(p.visits) if vi not in b.placed)
    sol = Solution(tuple(routes), left)
    violations = check(p, sol)
    assert is_feasible(violations), [f"{v.rule}: {v.message}" for v in violations if v.severity == "error"]
    return sol.assignments()


def sweep(b: Builder) -> tuple[int, int, int]:
    """(cost before, cost after, units placed) of the displacement sweep on ``b``."""
    before = plan_cost(b)
    after, placed = displace.sweep(Search(b, 0), before, lambda: False)
    assert after == plan_cost(b)
    return before, after, placed


def wheelchair_day(*, r1_priority: int = 3, r2_priority: int = 3, third_car: bool = True) -> Problem:
    """A broken car's ride and a full car.

    D1's car broke down: D1 is gone, and R1 (a wheelchair ride, A at 100-110 to B at 130-150,
    published on D1) needs a new car.  Only D2's car takes a wheelchair, and D2 has R2
    published at the same time (C at 100-110 to A at 130-150, two seats: the two rides do not
    fit in D2's two seats together, nor one after the other).  D3's car has two seats, no
    wheelchair, and is free: R2 fits there, at the same times.
    """
    drivers = [worker("D2", capacity={"seats": 2, "wheelchair": 1})]
    if third_car:
        drivers.append(worker("D3", capacity={"seats": 2}))
    visits = [visit("R1-up", A, 10, [(100, 110)], priority=r1_priority),
              visit("R1-down", B, 10, [(130, 150)], priority=r1_priority),
              visit("R2-up", C, 10, [(100, 110)], priority=r2_priority),
              visit("R2-down", A, 10, [(130, 150)], priority=r2_priority)]
    rides = (Ride("R1-up", "R1-down", {"seats": 1, "wheelchair": 1}, 40),
             Ride("R2-up", "R2-down", {"seats": 2}, 40))
    previous = (PlannedVisit("R1-up", "D1", 100), PlannedVisit("R1-down", "D1", 130),
                PlannedVisit("R2-up", "D2", 100), PlannedVisit("R2-down", "D2", 135))
    return problem(drivers, visits, rides=rides, previous_plan=previous)


def added_visit_day(*, new_priority: int = 3, old_priority: int = 1) -> Problem:
    """One carer, a published visit OLD at A at 100 (it can start only 100-130), and a new
    visit NEW at B that can start only 100-120: an hour each, so one of them gives way."""
    return problem([worker("W1", Shift(0, 300))],
                   [visit("OLD", A, 60, [(100, 130)], priority=old_priority),
                    visit("NEW", B, 60, [(100, 120)], priority=new_priority)],
                   previous_plan=(PlannedVisit("OLD", "W1", 100),))


# ---------------------------------------------------------------------- where it is needed


def test_a_broken_cars_ride_goes_whole_into_another_car_whose_ride_moves_to_a_third() -> None:
    """The first plan keeps R2 on D2 as published and leaves R1 out (nowhere else takes a
    wheelchair).  The move clears D2 of R2, puts R1 there (both legs, one car and driver),
    and R2 goes to D3's free car at its published times: two changes (100,000) for a ride of
    priority 3 placed (600,000)."""
    p = wheelchair_day()
    b = first_plan(p)
    assert checked(b) == {"R2-up": [("D2", 100)], "R2-down": [("D2", 135)]}
    before, after, placed = sweep(b)
    assert placed == 1 and after < before
    got = checked(b)
    assert {vid: ws[0][0] for vid, ws in got.items()} == {"R1-up": "D2", "R1-down": "D2", "R2-up": "D3",
                                                         "R2-down": "D3"}
    assert got["R2-up"] == [("D3", 100)]  # R2 keeps its times: only its car changed


def test_the_whole_solve_of_the_broken_car_places_the_ride() -> None:
    """The same day solved end to end (OR-Tools, then our LNS with the move): R1 on D2, R2 on D3."""
    sol = solve_ok(wheelchair_day())
    assert {vid: ws[0][0] for vid, ws in sol.assignments().items()} == {
        "R1-up": "D2", "R1-down": "D2", "R2-up": "D3", "R2-down": "D3"}


def test_a_new_visit_displaces_a_less_important_published_one() -> None:
    """NEW (priority 3) fits only in OLD's hour and OLD (priority 1) fits nowhere else: leaving
    NEW out costs 300,000, leaving OLD out 100,000 plus its change (50,000); B is 20 minutes
    further than A there and back (200).  The first plan keeps OLD; the move swaps them."""
    p = added_visit_day()
    b = first_plan(p)
    assert checked(b) == {"OLD": [("W1", 100)]}
    before, after, placed = sweep(b)
    assert (placed, before - after) == (1, 150_000 - 200)
    assert set(checked(b)) == {"NEW"}
    sol = solve_ok(p)
    assert set(sol.assignments()) == {"NEW"}


def test_a_round_of_the_lns_on_a_replan_can_place_it() -> None:
    """Within the LNS rounds too (not only the sweep): with the sweep skipped, a few rounds on
    the first plan place R1 (a tenth or so of a re-plan's rounds are displacement rounds)."""
    b = first_plan(wheelchair_day())
    search = Search(b, 3)
    current = plan_cost(b)
    for _ in range(40):
        cost = displace.displace_round(search, current)
        if cost is not None:
            current = cost
    assert {"R1-up", "R1-down"} <= set(checked(b))


def test_an_escorted_ride_clears_the_car_and_the_escorts_route_too() -> None:
    """R (priority 3: A at 100-110 to B at 130-150) needs its escort at the pickup (both or
    neither).  The only car (D) has LOWRIDE published at that time and cannot take both; the
    only assistant (P) has LOW published at that time.  Both low ones (priority 1) give way:
    the car's for the ride, then the assistant's for the escort, a later piece of the unit."""
    visits = [visit("R-up", A, 10, [(100, 110)], priority=3), visit("R-down", B, 10, [(130, 150)], priority=3),
              visit("ESCORT", A, 40, [(100, 110)], priority=3, required_skills={"assist"}),
              visit("LOWRIDE-up", C, 10, [(100, 110)], priority=1), visit("LOWRIDE-down", A, 10, [(130, 150)], priority=1),
              visit("LOW", C, 40, [(100, 110)], priority=1, required_skills={"assist"})]
    p = problem([worker("D", capacity={"seats": 2}), worker("P", skills={"assist"})], visits,
                rides=(Ride("R-up", "R-down", {"seats": 1}, 40), Ride("LOWRIDE-up", "LOWRIDE-down", {"seats": 2}, 40)),
                dependencies=(Dependency("R-up", "ESCORT", 0, 0, different_workers=True, both_or_neither=True),),
                previous_plan=(PlannedVisit("LOWRIDE-up", "D", 100), PlannedVisit("LOWRIDE-down", "D", 135),
                               PlannedVisit("LOW", "P", 100)))
    b = first_plan(p)
    assert set(checked(b)) == {"LOWRIDE-up", "LOWRIDE-down", "LOW"}
    before, after, placed = sweep(b)
    assert placed == 1 and after < before
    got = checked(b)
    assert set(got) == {"R-up", "R-down", "ESCORT"}
    assert got["ESCORT"][0] == ("P", got["R-up"][0][1])
    assert set(solve_ok(p).assignments()) == {"R-up", "R-down", "ESCORT"}


# ---------------------------------------------------------------------- where it must not fire


@pytest.mark.parametrize("priorities", [(1, 3), (2, 2)])
def test_a_new_visit_does_not_displace_one_as_or_more_important(priorities: tuple[int, int]) -> None:
    """NEW priority 1 against OLD priority 3: OLD is never taken out for it.  Both priority 2:
    OLD may be tried, but leaving it out costs its priority and its change, more than NEW
    brings; the plan stays as published."""
    new, old = priorities
    p = added_visit_day(new_priority=new, old_priority=old)
    b = first_plan(p)
    before, after, placed = sweep(b)
    assert (placed, after) == (0, before)
    assert checked(b) == {"OLD": [("W1", 100)]}
    assert solve_ok(p).assignments() == {"OLD": [("W1", 100)]}


def test_a_ride_is_not_placed_by_dropping_an_equally_important_one() -> None:
    """Without D3's car, R1 could go on D2 only if R2 (the same priority) were left out: no
    gain, so the move leaves the published R2 where it is."""
    p = wheelchair_day(third_car=False)
    b = first_plan(p)
    assert displace.trials(b, displace.pieces(b, displace.unit_of(b, b.index["R1-up"]))[0], 300_000)
    before, after, placed = sweep(b)
    assert (placed, after) == (0, before)
    assert checked(b) == {"R2-up": [("D2", 100)], "R2-down": [("D2", 135)]}
    assert set(solve_ok(p).assignments()) == {"R2-up", "R2-down"}


def test_a_more_important_ride_in_the_way_is_never_taken_out() -> None:
    """R2 priority 5 on D2, R1 priority 3: no trial takes R2 out for R1."""
    p = wheelchair_day(r1_priority=3, r2_priority=5)
    b = first_plan(p)
    unit = displace.unit_of(b, b.index["R1-up"])
    assert displace.trials(b, displace.pieces(b, unit)[0], displace.unit_rank(b, unit)) == []


def test_plans_without_a_previous_plan_never_run_the_move(monkeypatch: pytest.MonkeyPatch) -> None:
    """The move is for re-plans only: a first plan of the day searches as before."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("displacement on a plan without a previous plan")

    monkeypatch.setattr("optimizer.lns.sweep", refuse)
    monkeypatch.setattr("optimizer.lns.displace_round", refuse)
    p = problem([worker("W1", Shift(0, 300))],
                [visit("OLD", A, 60, [(100, 130)], priority=1), visit("NEW", B, 60, [(100, 120)])])
    b = first_plan(p)
    improve(b, seed=0, stop=MaxIterations(30))
    checked(b)


def test_pieces_put_the_outbound_ride_before_its_return_and_escort() -> None:
    """A unit's first piece is what the rest hangs on: the outbound ride, not the return trip
    that must follow its drop-off (nor an escort that starts with its pickup)."""

    visits = [visit("up", A, 10, [(100, 110)]), visit("down", B, 10, [(120, 140)]),
              visit("back-up", B, 10, [(200, 220)], priority=5), visit("back-down", A, 10, [(210, 260)], priority=5),
              visit("escort", A, 40, [(100, 110)])]
    p = problem([worker("D", capacity={"seats": 2}), worker("E")], visits,
                rides=(Ride("up", "down", {"seats": 1}, 40), Ride("back-up", "back-down", {"seats": 1}, 40)),
                dependencies=(Dependency("down", "back-up", 60, None, both_or_neither=True),
                              Dependency("up", "escort", 0, 0, different_workers=True)),
                previous_plan=(PlannedVisit("up", "X", 100),))
    b = Builder(p, [(0, 0), (1, 0)], [eligible_workers(p, v) for v in p.visits])
    unit = displace.unit_of(b, b.index["back-down"])
    names = [[p.visits[x].id for x in piece] for piece in displace.pieces(b, unit)]
    assert names[0] == ["up", "down"]
    assert names.index(["back-up", "back-down"]) > 0 and names.index(["escort"]) > 0


def test_a_stop_that_gave_way_goes_back_at_its_published_start() -> None:
    """V (any time 0-600) was published at 200.  Put back by plain insertion it would start
    as soon as W1 gets there (10): a change.  ``Builder.reinsert`` holds it at 200 when that
    costs no more, and falls back to plain insertion when 200 is no longer possible."""
    p = problem([worker("W1")], [visit("V", A, 30)], previous_plan=(PlannedVisit("V", "W1", 200),))
    b = Builder(p, [(0, 0)], [eligible_workers(p, v) for v in p.visits])
    assert b.reinsert(0, 200)
    assert checked(b) == {"V": [("W1", 200)]} and b.fixed[0] == 200
    plain = Builder(p, [(0, 0)], [eligible_workers(p, v) for v in p.visits])
    assert plain.insert(0) and checked(plain) == {"V": [("W1", 10)]}
    late = problem([worker("W1", Shift(0, 150))], [visit("V", A, 30)], previous_plan=(PlannedVisit("V", "W1", 200),))
    b = Builder(late, [(0, 0)], [eligible_workers(late, v) for v in late.visits])
    assert b.reinsert(0, 200) and checked(b) == {"V": [("W1", 10)]}
