"""The instances of the side-by-side benchmark, as carepath problems, and the sets that run.

Solomon instances go through ``benchmarks.solomon`` (the same scaled integer matrices
carepath solves: travel times x100 rounded up, distances x1000); Kielce days through the
fixtures generator (seed 2026) and dispatch's scenario->problem builder, exactly as
``benchmarks.kielce`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.solomon import SHARED

OFFLINE_SPEEDS = {"walk": 4.5, "public_transport": 15.0, "car": 30.0}
ROAD_FACTOR = 1.35
DEMO_VISITS = 286
"""Visits on the 1x demo day; scaling sizes are reached by scaling the generator."""

SOLOMON_DEFAULT = ("C101", "C204", "R101", "R108", "R112", "R205", "RC105", "RC208")
"""Representative subset: README's 10 s set (R101 R108 RC105 R205 RC208 C204) plus C101, R112."""


@dataclass(frozen=True)
class BenchSet:
    """What one invocation runs; ``name`` is recorded with the results."""

    name: str
    solomon: tuple[str, ...]
    solomon_limit: float
    kielce: tuple[tuple[float, float], ...]
    """(scale, time limit s) per home-care day."""
    scaling: tuple[int, ...]
    solvers: tuple[str, ...] = ("carepath", "ortools", "vroom", "pyvrp")
    notes: list[str] = field(default_factory=list)
    kielce_extra: tuple[str, ...] = ("carepath_given", "carepath_travel")
    """Solvers run on the home-care days only (carepath on the peers' visits, with its own objective and with
    theirs: like-for-like placed and travel)."""
    areas: tuple[tuple[float, float], ...] = ()
    """(scale, time limit s) per split day planned by a queued job with 1 and 2 ``carepath worker``
    processes on PostgreSQL (``benchmarks.areas``; issue #19 item 3)."""


def scaling_limit(visits: int) -> float:
    """Time limit of a scaling run: ~1 s per 60 visits, at least 2 s, at most 90 s (the 10,000-visit run overran 150 s by up to 200 s of explanations and repair, which left the default run no margin under 30 min)."""
    return float(min(90, max(2, round(visits / 60))))


def all_solomon(root: Path = SHARED) -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in root.glob("*.txt")))


def bench_set(name: str) -> BenchSet:
    if name == "quick":
        return BenchSet("quick", ("C204", "R101", "RC208"), 5.0, ((1.0, 5.0),), (100, 300))
    if name == "default":
        return BenchSet("default", SOLOMON_DEFAULT, 10.0, ((1.0, 10.0), (10.0, 60.0), (30.0, 90.0)),
                        (100, 300, 1000, 3000, 10000), areas=((10.0, 60.0), (30.0, 180.0)))
    if name == "full":
        return BenchSet("full", all_solomon(), 10.0, ((1.0, 30.0), (10.0, 120.0), (30.0, 300.0)),
                        (100, 300, 1000, 3000, 10000), areas=((10.0, 60.0), (30.0, 180.0)))
    raise ValueError(f"unknown set {name!r}: quick, default or full")


def solomon_problem(name: str, root: Path = SHARED):
    from benchmarks.solomon import read_instance, to_problem

    inst = read_instance(root / f"{name}.txt")
    return inst, to_problem(inst)


def kielce_problem(scale: float):
    """The demo day's problem at ``scale`` x the demo population."""
    from fixtures.problem import problem_for_day
    from dispatch.providers.travel import GeodesicProvider
    from fixtures.generator import BENCHMARK_PROFILE, generate

    scenario = generate(2026, profile=BENCHMARK_PROFILE, scale=scale)
    return problem_for_day(scenario, scenario.demo_date, GeodesicProvider(OFFLINE_SPEEDS, ROAD_FACTOR)).problem
