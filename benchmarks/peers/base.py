"""What a peer is and what one run of it returns; the registry of peers by name.

Peers are imported lazily by name so that a missing optional package (pyvroom, pyvrp)
only affects its own rows.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Literal, Protocol

from optimizer import Problem, Solution

Objective = Literal["travel", "distance"]
"""What the arcs cost: travel minutes (home care) or ``problem.distances`` (Solomon)."""


@dataclass
class PeerRun:
    """One peer's answer to one problem, already in carepath's terms.

    ``left_out`` counts the visits the peer was not given because it cannot express them
    (reason -> count); they appear in ``solution.unassigned``.  ``not_modelled`` names rules
    of the problem the peer was given in a weaker form or not at all (the checker then
    decides whether its plan still holds).
    """

    solution: Solution | None
    solve_s: float
    """Wall time of the peer's own solve call (conversions excluded)."""
    total_s: float
    """Wall time including the conversion into the peer's input and back."""
    status: str = "ok"
    left_out: dict[str, int] = field(default_factory=dict)
    not_modelled: tuple[str, ...] = ()
    first_feasible_s: float | None = None
    """When the peer reports it: time to its first complete plan."""


class Peer(Protocol):
    name: str

    def missing(self) -> str | None:
        """Why this peer cannot run here (package not installed), or None."""

    def settings(self, time_limit: float) -> str:
        """Exactly what the peer is given besides the problem, for the results' record."""

    def solve(self, problem: Problem, time_limit: float, objective: Objective, seed: int = 0) -> PeerRun:
        """Solve with one thread and the given wall-clock limit."""


_MODULES = {
    "carepath": "benchmarks.peers.carepath_peer",
    "carepath_given": "benchmarks.peers.carepath_given_peer",
    "carepath_travel": "benchmarks.peers.carepath_travel_peer",
    "ortools": "benchmarks.peers.ortools_peer",
    "vroom": "benchmarks.peers.vroom_peer",
    "pyvrp": "benchmarks.peers.pyvrp_peer",
}


def peer_names() -> list[str]:
    return list(_MODULES)


def get_peer(name: str) -> Peer:
    """The peer object; its module imports its solver package only when solving."""
    if name not in _MODULES:
        raise KeyError(f"unknown peer {name!r}; known: {', '.join(_MODULES)}")
    return importlib.import_module(_MODULES[name]).PEER


def package_missing(module: str, pip_name: str) -> str | None:
    """``"not installed (pip install X)"`` when ``module`` cannot be imported, else None."""
    try:
        importlib.import_module(module)
    except ImportError:
        return f"not installed (pip install {pip_name}, or pip install -e '.[bench]')"
    return None
