"""A solver child runs below the API's CPU priority (benchmarks/README "Mixed load": one solve
beside the API cost the phones 1.6 s a request at the same priority)."""

from __future__ import annotations

import multiprocessing
import os

from dispatch.jobs.child import lower_priority
from dispatch.settings import Settings


def _report_niceness(nice: int, queue: "multiprocessing.Queue[int]") -> None:
    queue.put(lower_priority(nice))


def _niceness_in_a_spawned_child(nice: int) -> int:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_report_niceness, args=(nice, queue))
    child.start()
    try:
        return queue.get(timeout=60)
    finally:
        child.join(30)


def test_a_solver_child_lowers_its_priority_by_the_setting_and_the_parent_keeps_its_own() -> None:
    parent = os.nice(0)
    assert Settings().solver_nice == 10
    assert _niceness_in_a_spawned_child(10) == min(parent + 10, 19)
    assert os.nice(0) == parent  # only the child changed


def test_zero_keeps_the_parents_priority() -> None:
    assert _niceness_in_a_spawned_child(0) == os.nice(0)
