"""Solver parameters and objective weights as data.

Defaults live in ``optimizer/params.toml`` so a centre can tune them without code, and every
run records the parameters it used (``SolveStats.parameters``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Literal

from optimizer.model import Weights


@dataclass(frozen=True)
class Progress:
    """What a long solve reports each time it finds a better plan."""

    solutions_found: int
    best_cost: int
    visits_placed: int
    visits_total: int
    elapsed_s: float


@dataclass(frozen=True)
class SolveParams:
    """How to search.  Deterministic for a given ``seed`` and ``solution_limit``.

    A wall-clock ``time_limit_s`` makes the result depend on the machine's speed; tests
    use ``solution_limit`` (number of improving solutions) instead.
    """

    time_limit_s: float | None = 10.0
    """The run time of ``solve`` when it is given no stopping criterion: it becomes one
    (``stop.MaxRuntime``), which every phase then shares; None: no limit."""
    solution_limit: int | None = None
    seed: int = 0
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    arc_cost: Literal["travel_time", "distance"] = "travel_time"
    """What the routing arc cost counts: travel minutes (home care) or ``problem.distances``
    (Solomon's distance objective)."""
    guided_local_search_lambda: float = 0.3
    use_full_propagation: bool = False
    safety_time_limit_s: float = 20.0
    """Without a time limit, OR-Tools still stops after this long: a search that finds no
    solution (pathological first-solution failures) must not run forever.  Runs that stop
    on ``solution_limit`` first stay deterministic."""
    rr_first_share: float = 0.2
    """Share of OR-Tools' time for its first guided local search; the rest goes to ruin and
    recreate rounds around it (remove ``rr_remove`` visits near a random one, let a short
    guided local search re-insert them, keep the plan if it is better)."""
    rr_remove: int = 12
    rr_round_s: float = 0.5
    rr_method: str = "ortools"
    """Ruin-and-recreate engine: "ortools" (rounds of warm-started guided local search) or
    "sisr" (string removals, ``optimizer.vrptw_search``) when the problem is a plain VRPTW;
    other problems always use "ortools"."""
    sisr_t0: float = 3.0
    """SISR start temperature, relative to the mean arc cost of its start plan."""
    sisr_tf: float = 0.3
    """SISR final temperature, relative to the mean arc cost of its start plan."""
    sisr_avg_removed: float = 10.0
    """SISR: mean number of visits removed per round."""
    sisr_polish_s: float = 1.0
    """SISR: seconds kept at the end for a guided local search from the SISR plan."""
    lns_share: float = 1.0
    """Share of the time limit for our own large-neighbourhood search (the rest: OR-Tools) on
    general days; linked days take ``lns_share_linked`` unless this is 0 (OR-Tools alone).
    0.5 until 2026-12-07; 1.0 since the LNS's annealing is scaled to the plan's routing cost
    (``lns.annealing_scale``).  On the 1x Kielce day at 10 s, eight seeds each (benchmarks/README,
    "The annealing's temperature"): with 1.0 instead of 0.8, mandatory visits left out 4.25 -> 3.9
    on average and the objective 57.2 -> 53.3 M; on the peers' visits and objective 7.37 -> 6.97
    travel minutes a placed visit.  OR-Tools' share went to its guided local search and
    ruin-and-recreate rounds (the ``rr_*`` settings), whose plan the LNS then had to take over
    or could not re-time at all; by default those now run on no day (linked days get one
    long guided local search, Solomon its own settings)."""
    lns_share_linked: float = 0.5
    """The LNS share on linked days: at least ``linked_threshold`` of the visits linked (pairs,
    dependencies, two-person).  Such days also get one long OR-Tools guided local search
    (no OR-Tools ruin-and-recreate rounds) and, without breaks and two-person visits, OR-Tools'
    own PATH_CHEAPEST_ARC first plan instead of our construction (``ortools_start``);
    measured on HHCRSP instances, benchmarks/tuning/LOG_HHCRSP.md."""
    linked_threshold: float = 0.2
    linked_search: bool = True
    """On plain linked days (``optimizer.linked_search.plain_linked_day``: at least
    ``linked_threshold`` of the visits linked, every visit mandatory, no breaks, rides,
    capacities or preferences) search with the compiled ruin and recreate
    (``optimizer/_linked.c``) alone instead of OR-Tools and our LNS: on the published
    Mankowska days it reaches the best known values within about 1 % in 10 s
    (benchmarks/README.md, issue #19).  Ignored when the module was not built."""
    ortools_start: str = "auto"
    """Where OR-Tools' search starts: "construction" (our sync-aware first plan), "own"
    (OR-Tools' first-solution heuristic), "auto" (own on linked days without breaks and
    two-person visits, else construction)."""
    ortools_model: str = "full"
    """Which OR-Tools model searches: "full" (every visit droppable at its price, links
    relaxed by big-M terms while a visit is out) or "strict" (every visit served, plain
    link constraints, ``VehicleVar != VehicleVar`` for pairs, started from our construction;
    used only when every visit is mandatory and the construction placed them all, else
    "full").  Measured on HHCRSP days (LOG_HHCRSP.md, "Strict model"): neither is better
    on every instance, so the default stays "full"."""
    lns_iterations: int | None = None
    """Cap on LNS rounds; without a time limit it defaults to 100 (deterministic runs)."""
    max_visits_per_area: int = 600
    """Above this many visits the day is split into areas solved separately (see decompose)."""
    explain: bool = True
    """Compute a reason for every unplaced visit (insertion tests against the final plan)."""
    on_progress: Callable[[Progress], None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name, allowed in (("ortools_model", ("full", "strict")),
                              ("ortools_start", ("auto", "own", "construction"))):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"search parameter {name} = {value!r}: expected one of {', '.join(allowed)}")

    def recorded(self) -> dict[str, Any]:
        """The parameters as plain data, for the solution's record."""
        out = {}
        for f in dataclasses.fields(self):
            if f.name == "on_progress":
                continue
            out[f.name] = getattr(self, f.name)
        return out


def _defaults_toml() -> dict[str, Any]:
    text = resources.files("optimizer").joinpath("params.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_weights(path: Path | None = None) -> Weights:
    """Weights from a TOML file (``[weights]`` table), falling back to the packaged defaults."""
    data = _defaults_toml().get("weights", {})
    if path is not None:
        data = {**data, **tomllib.loads(path.read_text(encoding="utf-8")).get("weights", {})}
    known = {f.name for f in dataclasses.fields(Weights)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown weight(s) in [weights]: {', '.join(unknown)}")
    return Weights(**{k: int(v) for k, v in data.items()})


def load_params(path: Path | None = None, **overrides: Any) -> SolveParams:
    """Search parameters from a TOML file (``[search]`` table) plus keyword overrides."""
    data = _defaults_toml().get("search", {})
    if path is not None:
        data = {**data, **tomllib.loads(path.read_text(encoding="utf-8")).get("search", {})}
    known = {f.name for f in dataclasses.fields(SolveParams)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown search parameter(s) in [search]: {', '.join(unknown)}")
    return SolveParams(**{**data, **overrides})
