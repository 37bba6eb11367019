"""Per-user rate limits on costly reads (search): a sliding window kept in
memory by each web process, with a bound on how many users it remembers.

Limits are per process: with N gunicorn workers a user gets at most N times the
limit, which is what they are for (no one user can starve the others), not an
exact quota. Sign-in throttling, which must hold across processes, is in the
database (portal/auth/signin.py).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from portal.errors import TooManyRequests

MAX_TRACKED_KEYS = 10_000


class RateLimit:
    def __init__(self, what: str, limit: int, per_seconds: float,
                 clock: Callable[[], float] = time.monotonic):
        self.what, self.limit, self.per_seconds, self.clock = what, limit, per_seconds, clock
        self._hits: OrderedDict[object, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: object) -> None:
        """Count one use by `key`; over the limit raises TooManyRequests (429, Retry-After)."""
        now = self.clock()
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and hits[0] <= now - self.per_seconds:
                hits.popleft()
            self._hits[key] = hits  # most recently used last
            while len(self._hits) > MAX_TRACKED_KEYS:
                self._hits.popitem(last=False)
            if len(hits) >= self.limit:
                retry_after = hits[0] + self.per_seconds - now
                raise TooManyRequests(
                    f"Too many {self.what} in a short time; try again in {max(1, round(retry_after))} s.",
                    retry_after=retry_after)
            hits.append(now)
