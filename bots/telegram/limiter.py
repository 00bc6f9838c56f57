"""Telegram's rate limits, and retries of what a network or Telegram's servers dropped.

Answers to people come first: pinned-post edits give way when the last second's messages
leave little room.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter

from bots.telegram import limits

log = logging.getLogger(__name__)

NETWORK_RETRIES = 3
RETRY_DELAY = 0.5
"""Seconds before the first retry after a network error or a 5xx; doubles each time."""
RATE_LIMIT_RETRIES = 3
"""Times a call is retried after a 429, each after the ``retry_after`` Telegram asks for."""


class RetryingRateLimiter(AIORateLimiter):
    """Telegram's rate limits (30 messages/s overall, 20/min per group) and 429
    ``retry_after`` from :class:`AIORateLimiter`, plus retries with backoff after network
    errors and 5xx answers, and answers before background work.

    A call marked :data:`~bots.telegram.limits.BACKGROUND` (a pinned-post edit) also waits
    while the messages of the last second leave less than
    :data:`~bots.telegram.limits.ROOM_FOR_ANSWERS` of Telegram's limit: when many people ask
    at once, edits give way instead of crowding answers into a 429.

    A timeout is not retried: Telegram may have sent the message already, and a person must
    never get the same answer twice (in a private chat, an apology comes instead). A
    connection broken before the answer is retried: nearly always a stale keep-alive
    connection Telegram never read, though if Telegram did read it, the answer comes twice.
    """

    def __init__(
        self,
        *,
        network_retries: int = NETWORK_RETRIES,
        retry_delay: float = RETRY_DELAY,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("max_retries", RATE_LIMIT_RETRIES)
        super().__init__(**kwargs)
        self._network_retries = network_retries
        self._retry_delay = retry_delay
        overall = kwargs.get("overall_max_rate", limits.MESSAGES_PER_SECOND)
        # Background calls may fill the last second up to this many messages (0: no limit).
        self._background_max = int(max(1, overall - limits.ROOM_FOR_ANSWERS)) if overall else 0
        self._recent: deque[float] = deque()
        """When each message of the last second went (or, for background, was let go)."""

    async def process_request(self, *args: Any, **kwargs: Any) -> Any:
        """Send one Bot API call through the rate limits, retrying network failures."""
        endpoint = kwargs.get("endpoint", "")
        if kwargs.get("rate_limit_args") == limits.BACKGROUND:
            kwargs["rate_limit_args"] = None
            await self._room_for_background()
        elif self._background_max and (kwargs.get("data") or {}).get("chat_id") is not None:
            kwargs["callback"] = self._counted(kwargs["callback"])
        attempt = 0
        while True:
            try:
                return await super().process_request(*args, **kwargs)
            except (BadRequest, TimedOut):
                raise
            except NetworkError as error:
                if attempt >= self._network_retries:
                    raise
                delay = self._retry_delay * 2**attempt
                attempt += 1
                log.warning(
                    "Telegram call %s failed (%s); retry %d in %.2f s",
                    endpoint,
                    type(error).__name__,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)

    def _counted(self, callback: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """``callback``, noting when each of its tries goes out."""

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self._recent.append(self._last_second())
            return await callback(*args, **kwargs)

        return counted

    def _last_second(self) -> float:
        """Now, with the messages older than a second forgotten."""
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - 1:
            self._recent.popleft()
        return now

    async def _room_for_background(self) -> None:
        """Wait until the last second's messages leave room for answers; then take a place."""
        if not self._background_max:
            return
        while True:
            now = self._last_second()
            if len(self._recent) < self._background_max:
                # Taken at once, before any other wait: background calls let go together
                # cannot overfill the second.
                self._recent.append(now)
                return
            await asyncio.sleep(self._recent[len(self._recent) - self._background_max] + 1 - now)
