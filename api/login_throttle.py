"""Failed logins slow down guessing: after too many for one username, a pause.

A password guesser tries many passwords for one account; an office behind one address
has many users mistyping.  So the limit is per username (5 failures in 15 minutes, then
429 with Retry-After until the oldest failure leaves the window) and, much higher, per
client address (50), which only an attack reaches.  A successful login clears the
username's failures.  Kept in the process (the API runs as one process per site; a
multi-process deployment would move this to Redis, which the machine has).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable

USER_LIMIT = 5
ADDRESS_LIMIT = 50
WINDOW_S = 15 * 60


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic, window_s: float = WINDOW_S) -> None:
        self._clock = clock
        self._window = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self._window:
            q.popleft()
        return q

    def wait_s(self, username: str, address: str | None) -> int:
        """Seconds until a login may be tried again (0: now)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key, limit in self._keys(username, address):
                q = self._recent(key, now)
                if len(q) >= limit:
                    wait = max(wait, q[len(q) - limit] + self._window - now)
        return math.ceil(wait)

    def failed(self, username: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key, _ in self._keys(username, address):
                self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username.lower()}", None)

    @staticmethod
    def _keys(username: str, address: str | None) -> list[tuple[str, int]]:
        keys = [(f"user:{username.lower()}", USER_LIMIT)]
        if address:
            keys.append((f"address:{address}", ADDRESS_LIMIT))
        return keys
