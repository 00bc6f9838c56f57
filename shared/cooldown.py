"""Per-person command cooldown, in memory only.

Two allowances per person. The configured one counts what reaches a community: a pointer
posted in a group, a moderator command. Answers only the person sees (advice, help, a
narrowing button's edit) have their own, :data:`PRIVATE_FACTOR` times larger: someone in a
panic who sends the same command again and again, or taps every button, is never asked to
wait, while a script still cannot make the bot flood its platform.

Keys are hashed with a random salt made at start, so even the process's memory holds no
platform user id, and nothing survives a restart.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import Callable

PRIVATE_FACTOR = 6
"""How much larger the allowance of private answers is (30 per 30 s by default)."""


class Cooldown:
    """Allows ``commands`` per ``seconds`` per person, refilling evenly (a token bucket);
    private answers ``PRIVATE_FACTOR`` times as many, in a bucket of their own."""

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

    def _key(self, user_key: str, private: bool) -> bytes:
        data = (("private:" if private else "community:") + user_key).encode()
        return hashlib.blake2b(data, key=self._salt, digest_size=16).digest()

    def wait_time(self, user_key: str, *, private: bool = False) -> float:
        """Take one command from the person's allowance: 0 if allowed, else seconds to wait.

        ``private``: an answer only the person sees, from the larger allowance.
        """
        if self._rate == float("inf"):
            return 0.0
        factor = PRIVATE_FACTOR if private else 1
        capacity, rate = self._capacity * factor, self._rate * factor
        key = self._key(user_key, private)
        now = self._clock()
        tokens, last = self._buckets.pop(key, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1 - tokens) / rate
        # Forget the least recently seen people first, so memory stays bounded.
        while len(self._buckets) > self._max_people:
            self._buckets.popitem(last=False)
        return wait
