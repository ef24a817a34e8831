"""Properties of ``solve`` on random small days (hypothesis).

Each generated problem is valid by the file format's rules (``jsonio.check_problem``) and
small: 1-4 workers with 1-3 shifts (some with breaks), 1-10 visits with random windows,
durations, skills, kinds, priorities, mandatory flags, soft windows, pins, occasional
two-person visits and rides (``end_location``), a few dependencies, and two travel modes
whose integer matrices obey nothing in particular (asymmetric, non-zero diagonals, no
triangle inequality).  For every such day the solver must return a plan that

* the independent checker finds free of errors,
* accounts for every visit exactly once: placed ``workers_needed`` times, or unassigned
  with a reason, a case of that reason and the facts its Polish and English sentences need
  (worded by ``dispatch.planning.explanations`` here, on a regular day and on both DST days),
* is reproducible: the same problem and parameters give the same plan,
* survives the JSON round trip unchanged;

and re-planning a day with a frozen prefix of its own plan keeps that prefix.

Known solver bugs are kept out, each by the narrowest means (see "known bugs" below and the
strict-xfail reproducers at the end of ``test_constraints.py``); delete an exclusion once its
bug is fixed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import replace

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optimizer.checker import Rule, check, is_feasible
from optimizer.jsonio import check_problem, dumps, solution_from_dict, solution_to_dict
from dispatch.planning.explanations import explain_unassigned
from optimizer.model import (
    REASON_CASES,
    BreakRule,
    Dependency,
    Gender,
    Location,
    PlannedVisit,
    Problem,
    Ride,
    Shift,
    Solution,
    TimeWindow,
    TravelMode,
    Visit,
    Weights,
    Worker,
    WorkerKind,
)
from optimizer.params import SolveParams
from optimizer import solve

PARAMS = SolveParams(time_limit_s=None, solution_limit=30, seed=0, metaheuristic="GREEDY_DESCENT",
                     lns_iterations=30)
"""Deterministic and terminating (OR-Tools' GLS does not stop by a solution limit alone on some
one-visit days; see ``test_constraints.test_solution_limit_alone_terminates``)."""
WORDING_DAYS = (dt.date(2026, 11, 17), dt.date(2026, 3, 29), dt.date(2026, 10, 25))
"""A regular day and the two DST days of 2026 in Warsaw, on which reasons are worded."""
MODES = (TravelMode.CAR, TravelMode.WALK)
KINDS = tuple(WorkerKind)
SKILLS = ("a", "b", "c")
DAY = 600

# ----------------------------------------------------------------------------- known bugs
# Input exclusions (in the generator):
#   OVERTIME_INTO_NEXT_SHIFT   test_overtime_does_not_run_into_the_next_shift
#   PIN_OUTSIDE_WINDOWS        test_pinned_start_outside_windows_is_unplaced_not_a_crash
#   PIN_WITH_PROBED_START      test_pinned_start_is_kept_when_start_times_are_probed
#                              (no pinned_start on two-person visits or dependency ends)
# Output masks (the example is discarded with ``assume`` when exactly this symptom shows):
#   LNS_REMOVAL_CRASH          test_lns_removal_never_crashes
#   MAX_WORK_RETIMED           test_max_work_survives_retiming

AVOID_OVERTIME_INTO_NEXT_SHIFT = False
AVOID_PIN_OUTSIDE_WINDOWS = False
AVOID_PIN_WITH_PROBED_START = False
MASK_LNS_REMOVAL_CRASH = False
MASK_MAX_WORK_RETIMED = False


def solve_masking_known_bugs(p: Problem, params: SolveParams) -> Solution:
    """``solve``, discarding the example if it shows one of the masked known bugs."""
    try:
        sol = solve(p, params)
    except RuntimeError as exc:
        assume(not (MASK_LNS_REMOVAL_CRASH and "route became infeasible after a removal" in str(exc)))
        raise
    if MASK_MAX_WORK_RETIMED:
        bad = [v for v in check(p, sol) if v.severity == "error"]
        assume(not bad or not all(v.rule == Rule.MAX_WORK_EXCEEDED for v in bad))
    return sol


# ----------------------------------------------------------------------------- strategies


def increasing(draw: st.DrawFn, count: int, lo: int, hi: int) -> list[int]:
    """``count`` distinct sorted integers in ``[lo, hi]``."""
    return sorted(draw(st.lists(st.integers(lo, hi), min_size=count, max_size=count, unique=True)))


@st.composite
def matrices(draw: st.DrawFn, n: int) -> tuple[tuple[int, ...], ...]:
    """An n x n matrix of minutes: symmetric or not, diagonal zero or not."""
    cells = [[draw(st.integers(0, 40)) for _ in range(n)] for _ in range(n)]
    if draw(st.booleans()):
        for i in range(n):
            for j in range(i):
                cells[i][j] = cells[j][i]
    if draw(st.booleans()):
        for i in range(n):
            cells[i][i] = 0
    return tuple(tuple(row) for row in cells)


@st.composite
def shift_lists(draw: st.DrawFn) -> tuple[Shift, ...]:
    """1-3 ordered shifts; overtime stops before the next shift; some shifts with breaks."""
    count = draw(st.integers(1, 3))
    points = increasing(draw, 2 * count, 0, DAY)
    shifts: list[Shift] = []
    for k in range(count):
        start, end = points[2 * k], points[2 * k + 1]
        room = (points[2 * k + 2] - end - 1) if k + 1 < count and AVOID_OVERTIME_INTO_NEXT_SHIFT else 60
        overtime = draw(st.integers(0, max(0, min(60, room))))
        breaks: list[BreakRule] = []
        if end - start >= 60 and draw(st.integers(0, 2)) == 0:
            cursor = start
            for _ in range(draw(st.integers(1, 2))):
                if cursor > end:
                    break
                earliest = draw(st.integers(cursor, end))
                latest = draw(st.integers(earliest, min(end, earliest + 90)))
                duration = draw(st.integers(1, 30))
                breaks.append(BreakRule(duration, earliest, latest))
                cursor = latest + duration
        shifts.append(Shift(start, end, overtime, tuple(breaks)))
    return tuple(shifts)


@st.composite
def windows(draw: st.DrawFn) -> tuple[TimeWindow, ...]:
    count = draw(st.integers(1, 2))
    points = increasing(draw, 2 * count, 0, DAY)
    return tuple(TimeWindow(points[2 * k], points[2 * k + 1]) for k in range(count))


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    n = draw(st.integers(2, 5))
    travel = {mode: draw(matrices(n)) for mode in MODES}
    locs = st.integers(0, n - 1)
    n_workers = draw(st.integers(1, 4))
    workers = []
    for i in range(n_workers):
        workers.append(Worker(
            id=f"W{i}",
            kind=draw(st.sampled_from(KINDS[:3])),
            shifts=draw(shift_lists()),
            start_location=draw(locs),
            end_location=draw(locs),
            travel_mode=draw(st.sampled_from(MODES)),
            skills=draw(st.frozensets(st.sampled_from(SKILLS))),
            gender=draw(st.sampled_from([None, Gender.FEMALE, Gender.MALE])),
            max_work_minutes=draw(st.none() | st.integers(30, 500)),
            capacity=draw(st.sampled_from([{}, {"seats": 1}, {"seats": 3}, {"seats": 3, "wheelchair": 1}])),
        ))
    ids = [w.id for w in workers]
    worker_sets = st.frozensets(st.sampled_from(ids), max_size=2)
    n_visits = draw(st.integers(1, 10))
    visits = []
    for j in range(n_visits):
        forbidden = draw(worker_sets) if draw(st.integers(0, 4)) == 0 else frozenset()
        required = (draw(worker_sets) - forbidden) if draw(st.integers(0, 5)) == 0 else frozenset()
        preferred = (draw(worker_sets) - forbidden) if draw(st.integers(0, 3)) == 0 else frozenset()
        gender = draw(st.sampled_from([None, None, Gender.FEMALE, Gender.MALE]))
        pinned_worker = None
        if draw(st.integers(0, 6)) == 0:
            allowed = [w for w in ids if w not in forbidden]
            pinned_worker = draw(st.sampled_from(allowed)) if allowed else None
        soft = draw(st.integers(0, 3)) == 0
        spans = draw(windows())
        needed = 2 if draw(st.integers(0, 5)) == 0 else 1
        pinned_start = None
        if draw(st.integers(0, 7)) == 0 and not (AVOID_PIN_WITH_PROBED_START and needed > 1):
            if AVOID_PIN_OUTSIDE_WINDOWS:
                w = draw(st.sampled_from(spans))
                pinned_start = draw(st.integers(w.start, w.end))
            else:
                pinned_start = draw(st.integers(0, DAY))
        visits.append(Visit(
            id=f"V{j}",
            location=draw(locs),
            duration=draw(st.integers(0, 60)),
            windows=spans,
            duration_by_kind=draw(st.dictionaries(st.sampled_from(KINDS[:3]), st.integers(0, 60), max_size=1)),
            required_skills=frozenset({draw(st.sampled_from(SKILLS))}) if draw(st.integers(0, 3)) == 0 else frozenset(),
            worker_kinds=draw(st.frozensets(st.sampled_from(KINDS[:3]), max_size=2)) if draw(st.integers(0, 4)) == 0 else frozenset(),
            mandatory=draw(st.booleans()),
            priority=draw(st.integers(1, 5)),
            soft_windows=soft,
            max_lateness=draw(st.integers(0, 60)) if soft else 0,
            required_workers=required,
            preferred_workers=preferred,
            forbidden_workers=forbidden,
            gender_preference=gender,
            gender_strict=gender is not None and draw(st.integers(0, 3)) == 0,
            workers_needed=needed,
            pinned_worker=pinned_worker,
            pinned_start=pinned_start,
            demand=draw(st.sampled_from([{}, {}, {"seats": 1}])),
            client_id=f"S{draw(st.integers(0, 3))}",
            end_location=draw(locs) if draw(st.integers(0, 4)) == 0 else None,
        ))
    dependencies = []
    if n_visits >= 2:
        for _ in range(draw(st.integers(0, 2))):
            a, b = draw(st.lists(st.integers(0, n_visits - 1), min_size=2, max_size=2, unique=True))
            lo = draw(st.integers(0, 90))
            hi = draw(st.none() | st.integers(lo, lo + 120))
            dependencies.append(Dependency(f"V{a}", f"V{b}", lo, hi, draw(st.booleans()), draw(st.booleans())))
    rides = []
    singles = [v.id for v in visits if v.workers_needed == 1]
    for _ in range(draw(st.integers(0, 2))):
        if len(singles) < 2:
            break
        up, down = draw(st.lists(st.sampled_from(singles), min_size=2, max_size=2, unique=True))
        singles = [x for x in singles if x not in (up, down)]
        load = draw(st.sampled_from([{"seats": 1}, {"seats": 2}, {"seats": 1, "wheelchair": 1}]))
        rides.append(Ride(up, down, load, draw(st.none() | st.integers(0, 90))))
    if AVOID_PIN_WITH_PROBED_START:
        linked = {d.before for d in dependencies} | {d.after for d in dependencies}
        visits = [replace(v, pinned_start=None) if v.id in linked else v for v in visits]
    p = Problem(
        locations=tuple(Location(f"L{i}") for i in range(n)),
        travel_times=travel,
        workers=tuple(workers),
        visits=tuple(visits),
        dependencies=tuple(dependencies),
        rides=tuple(rides),
        weights=Weights(imbalance=draw(st.sampled_from([0, 1])), wait_minute=draw(st.sampled_from([0, 1])),
                        max_lateness_minute=draw(st.sampled_from([0, 5]))),
    )
    check_problem(p)  # the generator only makes days the file format accepts
    return p


# ----------------------------------------------------------------------------- helpers


def errors(p: Problem, sol: Solution) -> list[str]:
    return [f"{v.rule}: {v.message}" for v in check(p, sol) if v.severity == "error"]


def same_plan(a: Solution, b: Solution) -> bool:
    """Equal up to run time (elapsed seconds)."""
    return (a.routes, a.unassigned, a.kpis) == (b.routes, b.unassigned, b.kpis) and (
        replace(a.stats, elapsed_s=0.0) == replace(b.stats, elapsed_s=0.0)
    )


# 30, not 50: a few drawn days make OR-Tools' greedy descent explore for tens of seconds per
# solve (``--hypothesis-seed=3``: 60 s for the test; one CI run spent 291 s here), which put
# the whole suite at 9-10 minutes on 2 cores.  The time goes to OR-Tools' neighbourhoods,
# not to carepath's code (profiled); fewer examples per run keep CI inside its budget.
EXAMPLES = int(os.environ.get("CAREPATH_PROPERTY_EXAMPLES", "0"))
"""Examples per property when set (a long local or nightly hunt, e.g. 2000); unset, the CI
counts below.  The seven re-planning bugs fixed on 2026-11-26 each needed hundreds to
thousands of examples to show up, far more than a CI run draws."""


def _examples(default: int) -> int:
    return EXAMPLES or default


DEADLINE = dt.timedelta(seconds=60)
"""Per example: these days solve in well under a second, but one CI run spent 124 s in the first
property (2026-12-07, not reproduced in 480 examples over 8 seeds); a deadline makes such an example
fail with its input printed instead of silently eating the CI budget."""
SETTINGS = settings(max_examples=_examples(30), deadline=DEADLINE,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ----------------------------------------------------------------------------- properties


@SETTINGS
@given(problems())
def test_plans_are_feasible_complete_explained_and_reproducible(p: Problem) -> None:
    """No checker error; each visit placed workers_needed times xor unassigned once with en/pl
    messages; solving again with the same parameters gives the identical plan."""
    sol = solve_masking_known_bugs(p, PARAMS)
    assert is_feasible(check(p, sol)), errors(p, sol)
    placed = sol.assignments()
    unassigned = [u.visit_id for u in sol.unassigned]
    assert len(unassigned) == len(set(unassigned))
    for v in p.visits:
        if v.id in placed:
            assert v.id not in unassigned
            assert len(placed[v.id]) == v.workers_needed
            assert len({w for w, _ in placed[v.id]}) == v.workers_needed
        else:
            assert v.id in unassigned
    assert set(placed) | set(unassigned) == {v.id for v in p.visits}
    for u in sol.unassigned:
        assert u.details.get("case") in REASON_CASES[u.reason], (u.reason, u.details)
        for day in WORDING_DAYS:
            words = explain_unassigned(u, day, "Europe/Warsaw", strict=True)
            assert words.pl.strip() and words.en.strip() and words.pl != words.en
    assert sol.kpis is not None and sol.kpis.visits_placed == len(placed)

    again = solve(p, PARAMS)
    assert same_plan(sol, again)


@settings(max_examples=_examples(25), deadline=DEADLINE, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_solution_json_round_trip(p: Problem) -> None:
    """solution_from_dict(solution_to_dict(s)) == s for a solved plan, also through JSON text."""
    sol = solve_masking_known_bugs(p, PARAMS)
    assert solution_from_dict(solution_to_dict(sol)) == sol
    assert solution_from_dict(json.loads(dumps(solution_to_dict(sol)))) == sol


@settings(max_examples=_examples(25), deadline=DEADLINE, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, DAY))
def test_replanning_keeps_the_frozen_prefix(p: Problem, freeze: int) -> None:
    """Re-planning with the day's own plan as previous_plan and a freeze keeps every visit that
    started before the freeze on its worker at its minute, and the new plan is still feasible."""
    first = solve_masking_known_bugs(p, PARAMS)
    assume(is_feasible(check(p, first)))
    previous = tuple(PlannedVisit(vid, w, s) for vid, entries in sorted(first.assignments().items())
                     for w, s in entries)
    q = replace(p, previous_plan=previous, freeze_until=freeze)
    check_problem(q)
    sol = solve_masking_known_bugs(q, PARAMS)
    assert is_feasible(check(q, sol)), errors(q, sol)
    now = sol.assignments()
    for pv in previous:
        if pv.start < freeze:
            assert (pv.worker_id, pv.start) in now.get(pv.visit_id, [])
