"""The re-plan's problem (``dispatch.planning.replan.replan_problem``) and its change counts, without storage.

A hand-made day of two carers (W1, W2, shifts 0-600) and a published plan; every re-planned roster
here is solved and checked by the independent checker.
"""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch.planning import replan as rp
from dispatch.planning.problem_builder import BuiltProblem
from dispatch.planning.ride_legs import VisitSource
from optimizer.checker import check, is_feasible
from optimizer.model import Shift
from tests.optimizer.builders import A, B, C, problem, solve_ok, visit, worker

DAY = dt.date(2026, 12, 1)


def day_with(visits, workers=None) -> BuiltProblem:
    p = problem(workers or [worker("W1", Shift(0, 600)), worker("W2", Shift(0, 600))], visits)
    return BuiltProblem(p, {v.id: VisitSource(v.id.split("@")[0], DAY) for v in p.visits}, [], tz="Europe/Warsaw")


def stop(rid: str, worker_id: str, start: int, end: int) -> rp.PublishedStop:
    return rp.PublishedStop((rid, DAY, "visit"), worker_id, start, end)


VISITS = [visit("R1@d", A, 30, [(0, 600)]), visit("R2@d", B, 30, [(0, 600)]), visit("R3@d", C, 30, [(0, 600)]),
          visit("R4@d", A, 30, [(0, 600)])]
PUBLISHED = [stop("R1", "W1", 100, 130), stop("R2", "W1", 200, 230), stop("R3", "W1", 300, 330),
             stop("R4", "W2", 150, 180)]


def test_work_before_from_is_frozen_the_rest_is_the_previous_plan() -> None:
    built = day_with(VISITS)
    p, skipped = rp.replan_problem(built, PUBLISHED, 160, {}, DAY)
    assert p.freeze_until == 160 and skipped == []
    assert sorted((pv.visit_id, pv.worker_id, pv.start) for pv in p.previous_plan) == [
        ("R1@d", "W1", 100), ("R2@d", "W1", 200), ("R3@d", "W1", 300), ("R4@d", "W2", 150)]
    windows = {v.id: [(w.start, w.end) for w in v.windows] for v in p.visits}
    # Nothing new starts before 160; frozen work keeps its windows.
    assert windows == {"R1@d": [(0, 600)], "R2@d": [(160, 600)], "R3@d": [(160, 600)], "R4@d": [(0, 600)]}
    sol = solve_ok(p)
    assert sol.assignments()["R1@d"] == [("W1", 100)] and sol.assignments()["R4@d"] == [("W2", 150)]
    counts = rp.count_changes([(s.key, s.worker_id, s.start) for s in PUBLISHED], rp.solution_stops(built, sol))
    assert (counts.before, counts.kept, counts.removed) == (4, 4, 0)


def test_a_sick_worker_s_remaining_visits_move_and_their_frozen_work_stays() -> None:
    """W1 sick from 160: R1 (100, frozen) stays on W1; R2 and R3 go to W2; W2's R4 is kept."""
    built = day_with(VISITS)
    p, _ = rp.replan_problem(built, PUBLISHED, 160, {"W1": [(160, None)]}, DAY)
    w1 = p.worker_by_id()["W1"]
    # The route ends after the frozen visit (ends 130) and the way home from A (10 minutes).
    assert [(s.start, s.end, s.max_overtime) for s in w1.shifts] == [(0, 160, 0)]
    assert {pv.visit_id for pv in p.previous_plan if pv.worker_id == "W1"} == {"R1@d"}
    sol = solve_ok(p)
    now = sol.assignments()
    assert now["R1@d"] == [("W1", 100)]
    assert now["R2@d"][0][0] == "W2" and now["R3@d"][0][0] == "W2"
    assert now["R4@d"] == [("W2", 150)]
    counts = rp.count_changes([(s.key, s.worker_id, s.start) for s in PUBLISHED], rp.solution_stops(built, sol))
    assert (counts.kept, counts.moved_worker, counts.removed) == (2, 2, 0)


def test_unavailable_until_a_time_resumes_the_shift_and_sick_during_a_visit_ends_after_it() -> None:
    """W1 out 140-400 while R1 (100-130 at A) is under way until 130 plus 10 minutes home: the first part
    ends at 140, the second starts at 400 with the shift's overtime."""
    built = day_with(VISITS, [worker("W1", Shift(0, 600, max_overtime=60)), worker("W2", Shift(0, 600))])
    p, _ = rp.replan_problem(built, PUBLISHED, 110, {"W1": [(120, 400)]}, DAY)
    shifts = [(s.start, s.end, s.max_overtime) for s in p.worker_by_id()["W1"].shifts]
    assert shifts == [(0, 140, 0), (400, 600, 60)]
    assert is_feasible(check(p, solve_ok(p)))


def test_a_visit_whose_windows_closed_before_from_is_left_out_with_why() -> None:
    built = day_with([*VISITS, visit("R5@d", B, 30, [(50, 90)], mandatory=True)])
    p, skipped = rp.replan_problem(built, PUBLISHED, 160, {}, DAY)
    assert "R5@d" not in {v.id for v in p.visits}
    assert [(s.request_id, s.cause, s.mandatory) for s in skipped] == [("R5", rp.WINDOW_PASSED, True)]
    assert "02:40" in skipped[0].message_en and "R5" in skipped[0].message_pl  # minute 160 = 02:40 in December


def test_cancelled_requests_and_workers_off_the_day_are_not_in_the_previous_plan() -> None:
    built = day_with(VISITS[:3])  # R4 cancelled since publishing
    p, _ = rp.replan_problem(built, [*PUBLISHED, stop("R1", "W9", 50, 80)], 0, {}, DAY)
    assert {pv.visit_id for pv in p.previous_plan} == {"R1@d", "R2@d", "R3@d"}
    assert {pv.worker_id for pv in p.previous_plan} == {"W1"}


def test_count_changes_kept_moved_added_removed() -> None:
    before = [("a", "W1", 100), ("b", "W1", 200), ("c", "W1", 300), ("d", "W2", 100), ("e", "W2", 200)]
    after = [("a", "W1", 115), ("b", "W1", 216), ("c", "W2", 300), ("f", "W2", 50)]
    counts = rp.count_changes(before, after)
    assert counts.as_dict() == {"before": 5, "kept": 1, "moved_in_time": 1, "moved_worker": 1, "added": 1,
                                "removed": 2, "kept_share": 0.2}
    assert counts.changed == 4
    t0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    assert rp.count_changes([("a", "W1", t0)], [("a", "W1", t0 + dt.timedelta(minutes=16))]).moved_in_time == 1


@pytest.mark.parametrize(("text", "expected"), [
    ("worker:W1@08:00", rp.Unavailability(dt.time(8), "W1", None, None)),
    ("car:C1@10:00-12:30", rp.Unavailability(dt.time(10), None, "C1", dt.time(12, 30))),
])
def test_the_cli_form_of_unavailable(text: str, expected: rp.Unavailability) -> None:
    assert rp.parse_unavailable(text, 0) == expected


@pytest.mark.parametrize(("text", "field"), [
    ("W1@08:00", "unavailable.2"), ("worker:W1@8am", "unavailable.2.from"),
    ("worker:W1@08:00-25:00", "unavailable.2.until"), ("bus:B1@08:00", "unavailable.2"),
])
def test_a_bad_cli_unavailable_names_its_field(text: str, field: str) -> None:
    with pytest.raises(rp.ReplanInputError) as err:
        rp.parse_unavailable(text, 2)
    assert err.value.field == field


def test_the_spec_round_trips_through_the_job_row() -> None:
    spec = rp.ReplanSpec(dt.time(7, 10), (rp.Unavailability(dt.time(8), "W1"),
                                          rp.Unavailability(dt.time(10), None, "C1", dt.time(12))), "sick call")
    assert rp.ReplanSpec.from_json(spec.to_json()) == spec


def test_from_on_a_dst_day_counts_minutes_through_utc() -> None:
    """2026-10-25 (25 hours in Warsaw): 08:00 local is minute 540 of the day, not 480."""
    spec = rp.ReplanSpec(dt.time(8, 0))
    now = dt.datetime(2026, 10, 25, 12, 0, tzinfo=dt.UTC)
    assert rp.resolve_from(spec, dt.date(2026, 10, 25), "Europe/Warsaw", now) == 540
    assert rp.resolve_from(spec, dt.date(2026, 3, 29), "Europe/Warsaw", now) == 420
    assert rp.resolve_from(rp.ReplanSpec(), dt.date(2026, 10, 25), "Europe/Warsaw", now) == 13 * 60 + 60


def test_a_ride_under_way_when_the_car_breaks_down_is_finished_and_its_return_goes_to_another_car() -> None:
    """D1 picked the senior up at 90 (before ``from`` 100) and drops them at 120; the car is out from 100.
    The drop-off is held (the senior is in the car), D1's route ends after it and the way home, and the
    return trip (both-or-neither with the outbound, which has happened) goes to D2."""
    from optimizer.model import Dependency, Ride

    drivers = [worker("D1", Shift(0, 600), capacity={"seats": 3}), worker("D2", Shift(0, 600), capacity={"seats": 3})]
    visits = [visit("T@d/pickup", A, 5, [(90, 90)]), visit("T@d/dropoff", B, 5, [(120, 120)]),
              visit("T@d/back_pickup", B, 5, [(200, 260)]), visit("T@d/back_dropoff", A, 5, [(200, 300)])]
    p = problem(drivers, visits, rides=(Ride("T@d/pickup", "T@d/dropoff", {"seats": 1}),
                                        Ride("T@d/back_pickup", "T@d/back_dropoff", {"seats": 1})),
                dependencies=(Dependency("T@d/dropoff", "T@d/back_pickup", 60, None, both_or_neither=True),))
    legs = {"T@d/pickup": "pickup", "T@d/dropoff": "dropoff", "T@d/back_pickup": "return_pickup",
            "T@d/back_dropoff": "return_dropoff"}
    built = BuiltProblem(p, {vid: VisitSource("T", DAY, leg) for vid, leg in legs.items()}, [], tz="Europe/Warsaw")
    published = [rp.PublishedStop(("T", DAY, "pickup"), "D1", 90, 95), rp.PublishedStop(("T", DAY, "dropoff"), "D1", 120, 125),
                 rp.PublishedStop(("T", DAY, "return_pickup"), "D1", 200, 205),
                 rp.PublishedStop(("T", DAY, "return_dropoff"), "D1", 230, 235)]
    q, _ = rp.replan_problem(built, published, 100, {"D1": [(100, None)]}, DAY)
    dropoff = q.visit_by_id()["T@d/dropoff"]
    assert (dropoff.pinned_worker, dropoff.pinned_start) == ("D1", 120)
    assert [(s.start, s.end) for s in q.worker_by_id()["D1"].shifts] == [(0, 125 + 20)]  # B to home (office): 20
    sol = solve_ok(q)
    now = sol.assignments()
    assert now["T@d/pickup"] == [("D1", 90)] and now["T@d/dropoff"] == [("D1", 120)]
    assert now["T@d/back_pickup"][0][0] == "D2" and now["T@d/back_dropoff"][0][0] == "D2"
