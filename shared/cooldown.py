"""Per-person command cooldown, in memory only.

Keys are hashed with a random salt made at start, so even the process's memory holds no
platform user id, and nothing survives a restart.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import Callable


class Cooldown:
    """Allows ``commands`` per ``seconds`` per person, refilling evenly (a token bucket)."""

    def __init__(
        self,
        commands: int,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_people: int = 100_000,
    ) -> None:
        self._capacity = float(commands)
        self._rate = commands / seconds if seconds > 0 else float("inf")
        self._clock = clock
        self._max_people = max_people
        self._salt = os.urandom(16)
        self._buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    def _key(self, user_key: str) -> bytes:
        return hashlib.blake2b(user_key.encode(), key=self._salt, digest_size=16).digest()

    def wait_time(self, user_key: str) -> float:
        """Take one command from the person's allowance: 0 if allowed, else seconds to wait."""
        if self._rate == float("inf"):
            return 0.0
        key = self._key(user_key)
        now = self._clock()
        tokens, last = self._buckets.pop(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - last) * self._rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1 - tokens) / self._rate
        # Forget the least recently seen people first, so memory stays bounded.
        while len(self._buckets) > self._max_people:
            self._buckets.popitem(last=False)
        return wait
