"""``benchmarks.seeds``: one run priced on the whole day, and the spread over runs."""

from __future__ import annotations

from benchmarks.seeds import run_one, summary
from tests.benchmarks.test_peers import tiny_problem


def test_a_run_is_priced_on_the_whole_day_and_checked() -> None:
    p = tiny_problem()
    row = run_one(p, "carepath_travel", 1.0, 3)
    assert row["solver"] == "carepath_travel" and row["seed"] == 3 and row["feasible"] is True
    # The peers' visits only: the two-person visit and the dependency's pair are left out and
    # priced as such on the whole day.
    assert row["placed"] <= len(p.visits) - 3
    assert row["drop_penalties"] > 0 and row["objective"] >= row["drop_penalties"]
    assert row["travel_per_placed"] == round(row["travel_min"] / row["placed"], 2)
    assert row["mandatory_placed"] == "1/1"


def test_the_summary_gives_each_measure_as_least_mean_largest() -> None:
    rows = [{"solver": "x", "placed": p, "travel_per_placed": t, "drop_penalties": d, "objective": o, "feasible": True}
            for p, t, d, o in ((220, 7.0, 100, 200), (222, 6.5, 90, 180), (221, 7.5, 80, 190))]
    rows.append({"solver": "x", "seed": 9, "status": "no plan", "placed": None})
    s = summary(rows)
    assert s["runs"] == 3 and s["all_feasible"] is True
    assert s["placed"] == [220, 221, 222]
    assert s["travel_per_placed"] == [6.5, 7.0, 7.5]
    assert s["drop_penalties"] == [80, 90, 100]
    assert s["objective"] == [180, 190, 200]
    assert summary([{"solver": "y", "placed": None}]) == {"solver": "y", "runs": 0}
