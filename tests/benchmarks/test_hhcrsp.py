"""The HHCRSP benchmark harness (issue #8): reader, converter, evaluator and baseline.

Fast on purpose (one 2 s carepath solve, one 1 s baseline solve): the measurements live in
benchmarks/README.md, these tests only guard the plumbing they rely on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.hhcrsp.baseline import solve_baseline
from benchmarks.hhcrsp.convert import SCALE, to_problem, to_routes
from benchmarks.hhcrsp.evaluate import PlannedStop, evaluate
from benchmarks.hhcrsp.generator import generate
from benchmarks.hhcrsp.instance import InstanceError, from_json, read_instance, to_json, write_instance
from optimizer.checker import check, is_feasible
from optimizer.params import SolveParams
from optimizer import solve

INSTANCES = Path(__file__).resolve().parents[2] / "benchmarks" / "instances" / "hhcrsp"

TINY = {
    "patients": [
        {"id": "p1", "location": [3, 4], "time_window": [0, 120],
         "required_caregivers": [{"service": "s1", "duration": 10.0}, {"service": "s2", "duration": 10.0}],
         "synchronization": {"type": "simultaneous"}},
        {"id": "p2", "location": [6, 8], "time_window": [0, 30],
         "required_caregivers": [{"service": "s1", "duration": 10.0}, {"service": "s2", "duration": 5.0}],
         "synchronization": {"type": "sequential", "distance": [5, 10]}},
    ],
    "services": [{"id": "s1", "default_duration": 10.0}, {"id": "s2", "default_duration": 10.0}],
    "caregivers": [{"id": "c1", "abilities": ["s1"]}, {"id": "c2", "abilities": ["s2"]}],
    "central_offices": [{"id": "d", "location": [0, 0]}],
    "distances": [[0, 5, 10], [5, 0, 5], [10, 5, 0]],
}


def test_reader_round_trip(tmp_path: Path) -> None:
    inst = generate(12, 3, seed=7, name="tiny")
    path = tmp_path / "tiny.json"
    write_instance(inst, path)
    again = read_instance(path)
    assert again == inst
    assert to_json(again) == json.loads(path.read_text())
    assert sum(p.sync is not None for p in inst.patients) == 4  # 30 % of 12, rounded
    assert generate(12, 3, seed=7, name="tiny") == inst  # deterministic by seed


def test_reader_names_file_and_field(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(TINY))
    del bad["patients"][1]["synchronization"]["distance"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(InstanceError) as err:
        read_instance(path)
    assert str(path) in str(err.value) and "patients[1].synchronization.distance" in str(err.value)
    bad = json.loads(json.dumps(TINY))
    bad["distances"][2] = [1, 2]
    with pytest.raises(InstanceError, match=r"distances\[2\]"):
        from_json(bad, "bad")


def test_evaluator_cost_and_broken_sync() -> None:
    inst = from_json(TINY, "tiny")
    good = {
        "c1": [PlannedStop("p1", "s1", 5.0), PlannedStop("p2", "s1", 20.0)],
        "c2": [PlannedStop("p1", "s2", 5.0), PlannedStop("p2", "s2", 30.0)],
    }
    ev = evaluate(inst, good)
    assert ev.feasible, ev.violations
    # distance: c1 0->1->2->0 = 20, c2 the same; tardiness 0 everywhere
    assert ev.cost == pytest.approx((40 + 0 + 0) / 3)
    late = {"c1": [PlannedStop("p1", "s1", 5.0), PlannedStop("p2", "s1", 25.0)],
            "c2": [PlannedStop("p1", "s2", 5.0), PlannedStop("p2", "s2", 35.0)]}
    ev = evaluate(inst, late)
    assert ev.feasible and ev.total_tardiness == pytest.approx(5) and ev.max_tardiness == pytest.approx(5)
    broken = {**good, "c2": [PlannedStop("p1", "s2", 7.0), PlannedStop("p2", "s2", 30.0)]}
    assert any("simultaneous" in v for v in evaluate(inst, broken).violations)
    too_far = {**good, "c2": [PlannedStop("p1", "s2", 5.0), PlannedStop("p2", "s2", 31.0)]}
    assert any("sequential" in v for v in evaluate(inst, too_far).violations)
    early = {**good, "c1": [PlannedStop("p1", "s1", 4.0), PlannedStop("p2", "s1", 20.0)]}
    assert any("before arrival" in v for v in evaluate(inst, early).violations)


def test_evaluator_catches_same_caregiver_and_missing_service() -> None:
    inst = from_json({**TINY, "caregivers": [{"id": "c1", "abilities": ["s1", "s2"]},
                                             {"id": "c2", "abilities": ["s2"]}]}, "tiny")
    routes = {"c1": [PlannedStop("p1", "s1", 5.0), PlannedStop("p1", "s2", 15.0)], "c2": []}
    found = evaluate(inst, routes).violations
    assert any("same caregiver" in v for v in found)
    assert any("p2/s1 done 0 times" in v for v in found)


def test_carepath_solves_ten_patients_feasibly() -> None:
    inst = read_instance(INSTANCES / "hhcrsp-010-1.json")
    problem = to_problem(inst)
    solution = solve(problem, SolveParams(time_limit_s=2.0, seed=0, explain=False))
    assert not solution.unassigned
    violations = check(problem, solution)
    assert is_feasible(violations), [v.message for v in violations]
    routes = to_routes(inst, solution)
    ev = evaluate(inst, routes)
    assert ev.feasible, ev.violations
    # carepath's objective is SCALE * 3 * the family's cost, up to travel rounded up
    assert solution.stats is not None
    assert ev.cost <= solution.stats.objective / (3 * SCALE) + 1e-6
    assert ev.cost >= solution.stats.objective / (3 * SCALE) - len(inst.patients) * 2 / SCALE


def test_baseline_returns_a_plan_on_a_tiny_instance() -> None:
    inst = from_json(TINY, "tiny")
    res = solve_baseline(inst, time_limit_s=1.0)
    assert res.routes is not None
    ev = evaluate(inst, res.routes)
    assert ev.feasible, ev.violations
