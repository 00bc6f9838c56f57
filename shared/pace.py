"""The pace of pinned-post edits on one platform: below its own limit, so answers to people
keep room, and at most one edit every few seconds in a community."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.models import Community

COMMUNITY_INTERVAL = 3.0
"""Seconds between two edits in one community: Telegram allows 20 messages a minute in a
group, Discord 5 messages every 5 seconds in a channel."""
EDITS_IN_FLIGHT = 16
"""Edits waiting for the platform's answer at once, per platform: enough that its latency
does not cap the pace (20 edits a second at 200 ms each need 4), few enough to leave the HTTP
connections to answers for people."""
_FORGET_TURNS_AFTER = 1024
"""Communities whose next turn is kept; past turns are dropped beyond this many."""


@dataclass
class Pace:
    """Spaces the edits of one platform: one every ``every`` seconds, one every
    ``per_community`` seconds in a community, at most :data:`EDITS_IN_FLIGHT` unanswered.

    Turns are booked, so refreshes running together share the pace; no two are booked closer
    than ``every``, and a late wake-up does not push back the turns after it, so the rate holds
    on a busy machine.
    """

    every: float
    per_community: float
    clock: Callable[[], float] = time.monotonic
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(EDITS_IN_FLIGHT))
    _next: float = 0.0
    _community_next: dict[Community, float] = field(default_factory=dict)

    async def wait(self, community: Community | None) -> None:
        """Wait for a turn to send one message (in ``community``, if given)."""
        # First the community's own turn, without holding up the others (looked at again
        # after each wait: a refresh running at the same time may have taken it)...
        while (  # noqa: ASYNC110 - waiting for a time, not for an event
            community is not None
            and (delay := self._community_next.get(community, 0.0) - self.clock()) > 0
        ):
            await asyncio.sleep(delay)
        # ...then the platform's next free turn, booked at once.
        now = self.clock()
        start = max(self._next, now)
        self._next = start + self.every
        if community is not None:
            if len(self._community_next) > _FORGET_TURNS_AFTER:
                self._community_next = {c: t for c, t in self._community_next.items() if t > now}
            self._community_next[community] = start + self.per_community
        if start > now:
            await asyncio.sleep(start - now)

    async def turn(self, community: Community) -> None:
        """A free slot (released by the caller once its edit is answered) and the next turn
        to edit in ``community``."""
        await self.slots.acquire()
        try:
            await self.wait(community)
        except BaseException:
            self.slots.release()
            raise
