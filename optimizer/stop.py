"""When a solve ends: stopping criteria, one object passed down to every phase.

Like PyVRP's ``pyvrp/stop`` (``MaxRuntime``, ``MaxIterations``, ``MultipleCriteria``): a
criterion is called (``stop()``) and says whether to end now.  ``solve`` takes one, built by
the caller from what it knows (a time limit, a job's cancel flag), and hands each phase a
part of it: an area's search ends at the area's share of the time, the explanations at the
overall deadline, and a cancel ends them all.  A criterion may read a monotonic clock (that
is its job); tests pass a clock of their own, so nothing waits on wall time.

Besides ``__call__`` a criterion answers ``remaining()`` (seconds left, None without a
deadline), ``fraction()`` (share of its budget used, for the searches' cooling schedules;
None when it cannot tell) and ``within(seconds)`` (itself, ending at the latest ``seconds``
from now on the same clock).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

Clock = Callable[[], float]
"""Seconds on a monotonic clock (``time.monotonic`` unless a test gives its own)."""


class StoppingCriterion:
    """Base of the criteria: never stops on its own."""

    clock: Clock = staticmethod(time.monotonic)  # type: ignore[assignment]

    def __call__(self) -> bool:
        return False

    def remaining(self) -> float | None:
        """Seconds until this criterion's deadline, None if it has none."""
        return None

    def fraction(self) -> float | None:
        """Share of this criterion's budget used (0..1), None if it cannot tell."""
        return None

    @property
    def cancelled(self) -> bool:
        """Whether a cancel (not a deadline or an iteration limit) stops it."""
        return False

    def within(self, seconds: float) -> StoppingCriterion:
        """This criterion, or ``seconds`` from now on its clock, whichever comes first."""
        return FirstOf(self, MaxRuntime(max(0.0, seconds), self.clock))


class NoLimit(StoppingCriterion):
    """Run until the work is done (deterministic runs end on solution or iteration limits)."""


class MaxRuntime(StoppingCriterion):
    """Stop ``seconds`` after this object was made, on ``clock``."""

    def __init__(self, seconds: float, clock: Clock = time.monotonic) -> None:
        if seconds < 0:
            raise ValueError(f"a run time limit must not be negative, got {seconds}")
        self.clock = clock  # type: ignore[assignment]
        self.seconds = seconds
        self.started = clock()
        self.deadline = self.started + seconds

    def __call__(self) -> bool:
        return self.clock() >= self.deadline

    def remaining(self) -> float | None:
        return max(0.0, self.deadline - self.clock())

    def fraction(self) -> float | None:
        if self.seconds <= 0:
            return 1.0
        return min(1.0, (self.clock() - self.started) / self.seconds)


class MaxIterations(StoppingCriterion):
    """Stop on the call after ``count`` calls: a loop that asks once per round runs ``count``
    rounds (deterministic, whatever the machine)."""

    def __init__(self, count: int) -> None:
        if count < 0:
            raise ValueError(f"an iteration limit must not be negative, got {count}")
        self.count = count
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls > self.count

    def fraction(self) -> float | None:
        return min(1.0, self.calls / max(1, self.count))


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


class Cancel(StoppingCriterion):
    """Stop once ``flag`` is set (a ``threading.Event``: a planning job's cancel)."""

    def __init__(self, flag: CancelFlag) -> None:
        self.flag = flag

    def __call__(self) -> bool:
        return self.flag.is_set()

    @property
    def cancelled(self) -> bool:
        return self.flag.is_set()


class FirstOf(StoppingCriterion):
    """Stop as soon as any of ``criteria`` does (PyVRP's ``MultipleCriteria``)."""

    def __init__(self, *criteria: StoppingCriterion) -> None:
        self.criteria = criteria
        clocks = [c.clock for c in criteria if isinstance(c, (MaxRuntime, FirstOf))]
        self.clock = clocks[0] if clocks else time.monotonic  # type: ignore[assignment]

    def __call__(self) -> bool:
        # Every criterion is asked (an iteration limit counts each call), none skipped.
        return any([c() for c in self.criteria])

    def remaining(self) -> float | None:
        left = [r for r in (c.remaining() for c in self.criteria) if r is not None]
        return min(left) if left else None

    def fraction(self) -> float | None:
        done = [f for f in (c.fraction() for c in self.criteria) if f is not None]
        return max(done) if done else None

    @property
    def cancelled(self) -> bool:
        return any(c.cancelled for c in self.criteria)


def from_limit(seconds: float | None, clock: Clock = time.monotonic) -> StoppingCriterion:
    """The criterion of a plain time limit in seconds (None: no limit)."""
    return NoLimit() if seconds is None else MaxRuntime(seconds, clock)
