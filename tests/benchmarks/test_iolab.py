"""The converter to the best-known authors' solution format (benchmarks/hhcrsp/iolab.py).

No network and no validator install: the checks below restate what their
``validator/solution.py`` reads and asserts (one route per caregiver, ``arrival_time`` =
start of service, ``departure_time`` = start + duration, travel from the previous departure,
window start, synchronisation, cost = (distance + total + max tardiness) / 3) on the JSON
alone, for a hand-made plan and for committed results on committed instances.
"""

from __future__ import annotations

import json
import math
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from benchmarks.hhcrsp.evaluate import PlannedStop, evaluate
from benchmarks.hhcrsp.instance import from_json, read_instance
from tests.benchmarks.test_hhcrsp import TINY as HHCRSP_TINY
from benchmarks.hhcrsp.iolab import (
    ConversionError,
    from_solution,
    main,
    record_to_solution,
    to_solution,
)

ROOT = Path(__file__).resolve().parents[2]
INSTANCES = ROOT / "benchmarks" / "instances" / "hhcrsp"
RESULTS = ROOT / "benchmarks" / "results" / "hhcrsp_60s.json"  # run on the committed instances

TINY = {**HHCRSP_TINY, "caregivers": [*HHCRSP_TINY["caregivers"], {"id": "c3", "abilities": ["s1", "s2"]}]}
"""test_hhcrsp's tiny instance with a third caregiver, who stays idle (an idle route is written too)."""
# c1: p1/s1 at 5, p2/s1 at 32 (2 late); c2: p1/s2 at 5, p2/s2 at 40 (10 late, 8 after s1); c3 idle
PLAN = {
    "c1": [PlannedStop("p1", "s1", 5.0), PlannedStop("p2", "s1", 32.0)],
    "c2": [PlannedStop("p1", "s2", 5.0), PlannedStop("p2", "s2", 40.0)],
}


def validator_cost(instance: dict[str, Any], solution: dict[str, Any]) -> float:
    """The validator's rules and cost on the two JSON documents (asserts like it does)."""
    patients = {p["id"]: (k + 1, p) for k, p in enumerate(instance["patients"])}
    abilities = {c["id"]: set(c["abilities"]) for c in instance["caregivers"]}
    dist = instance["distances"]
    assert set(solution) == {"global_ordering", "routes"}
    assert [r["caregiver_id"] for r in solution["routes"]] == [c["id"] for c in instance["caregivers"]]
    starts: dict[tuple[str, str], float] = {}
    distance, tardiness = 0.0, []
    for r in solution["routes"]:
        assert set(r) == {"caregiver_id", "locations"}
        here, free = 0, 0.0
        for step in r["locations"]:
            assert set(step) == {"patient", "service", "arrival_time", "departure_time"}
            node, p = patients[step["patient"]]
            durations = {q["service"]: q["duration"] for q in p["required_caregivers"]}
            assert step["service"] in durations and step["service"] in abilities[r["caregiver_id"]]
            assert (step["patient"], step["service"]) not in starts, "service served twice"
            assert math.isclose(step["departure_time"] - step["arrival_time"], durations[step["service"]], abs_tol=1e-9)
            assert step["arrival_time"] >= free + dist[here][node] - 1e-9
            assert step["arrival_time"] >= p["time_window"][0] - 1e-9
            starts[(step["patient"], step["service"])] = step["arrival_time"]
            tardiness.append(max(0.0, step["arrival_time"] - p["time_window"][1]))
            distance += dist[here][node]
            here, free = node, step["departure_time"]
        distance += dist[here][0]
    required = {(p["id"], q["service"]) for p in instance["patients"] for q in p["required_caregivers"]}
    assert set(starts) == required, "every required service exactly once"
    for p in instance["patients"]:
        if "synchronization" in p:
            first, second = (starts[(p["id"], q["service"])] for q in p["required_caregivers"])
            lo, hi = p["synchronization"].get("distance", [0, 0])
            assert lo - 1e-9 <= second - first <= hi + 1e-9
    assert sorted(solution["global_ordering"]) == sorted(patients)
    return (distance + sum(tardiness) + max(tardiness)) / 3


def test_hand_made_plan_has_the_validator_shape_and_cost() -> None:
    inst = from_json(TINY, "tiny")
    sol = to_solution(inst, PLAN)
    assert sol["routes"][2] == {"caregiver_id": "c3", "locations": []}  # idle caregivers are listed
    assert sol["routes"][1]["locations"][1] == {"patient": "p2", "service": "s2",
                                                "arrival_time": 40.0, "departure_time": 45.0}
    assert sol["global_ordering"] == ["p1", "p2"]
    ev = evaluate(inst, PLAN)
    assert ev.feasible, ev.violations
    assert validator_cost(TINY, json.loads(json.dumps(sol))) == pytest.approx((40 + 12 + 10) / 3) == pytest.approx(ev.cost)
    assert from_solution(sol, inst) == {**PLAN, "c3": []}


def test_bad_plans_are_refused_or_caught() -> None:
    inst = from_json(TINY, "tiny")
    with pytest.raises(ConversionError, match="c9"):
        to_solution(inst, {**PLAN, "c9": []})
    with pytest.raises(ConversionError, match="p2/s3"):
        to_solution(inst, {**PLAN, "c3": [PlannedStop("p2", "s3", 50.0)]})
    with pytest.raises(ConversionError, match="no plan"):
        record_to_solution({"instance": "tiny", "routes": None, "cost": None}, inst)
    twice = {**PLAN, "c3": [PlannedStop("p1", "s1", 5.0)]}
    with pytest.raises(AssertionError, match="twice"):
        validator_cost(TINY, to_solution(inst, twice))
    early = {**PLAN, "c2": [PlannedStop("p1", "s2", 5.0), PlannedStop("p2", "s2", 19.0)]}
    with pytest.raises(AssertionError):  # 19 < 5 + 10 + 5: before arrival
        validator_cost(TINY, to_solution(inst, early))


def test_committed_results_convert_to_their_reported_costs(tmp_path: Path) -> None:
    results = json.loads(RESULTS.read_text())
    assert main([str(RESULTS), "--instances", str(INSTANCES), "--out", str(tmp_path)]) == 0
    carepath = [r for r in results if r["solver"] == "carepath"]
    files = sorted(tmp_path.glob("sol-*.json"))
    assert [f.name for f in files] == sorted(f"sol-{r['instance']}.json" for r in carepath)
    for r in carepath[:3]:
        instance = json.loads((INSTANCES / f"{r['instance']}.json").read_text())
        sol = json.loads((tmp_path / f"sol-{r['instance']}.json").read_text())
        # starts are the family's real minutes, not carepath's scaled units
        assert validator_cost(instance, sol) == pytest.approx(r["cost"], abs=1e-4)
        inst = read_instance(INSTANCES / f"{r['instance']}.json")
        assert sol == record_to_solution(r, inst)
        for route in sol["routes"]:
            for a, b in pairwise(route["locations"]):
                assert a["departure_time"] <= b["arrival_time"]
