"""Work that one process at a time does across the whole fleet, under a lease in the store.

A platform's rate limit is the bot's, not a process's: Telegram allows about 30 messages a
second for the whole bot, however many webhook workers it runs; Discord 50 requests a second
for all its shard sets. Work that spends that limit at a steady pace (refreshing every pinned
post of a platform) therefore runs under a :class:`Lease`: at most one process holds it, so
the pace of one process is the pace of the fleet. The others wait for it, looking again every
:data:`POLL_SECONDS` (a refresh is not urgent to the second). The holder renews it while it
works; a holder that was killed leaves a lease that expires after :data:`LEASE_SECONDS`.

The lease never stands between people and advice: when the store fails, the work goes on
without it (the failure is logged once a minute), as it did before leases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Self

from shared.settings import StoreGuard

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
"""How long a lease lasts unless renewed: long enough that a busy event loop renews it in
time (every third of it), short enough that a killed holder's work resumes elsewhere soon."""
POLL_SECONDS = 2.0
"""Seconds between two looks at a lease another process holds."""


class Lease:
    """``async with Lease(guard, name, holder):`` waits until ``holder`` holds the lease
    ``name`` in the store, renews it in the background, and drops it at the end (also when
    cancelled or failing). :attr:`held` is cleared while the lease is lost to another process
    (this one was too slow to renew it), so the work can pause until it is taken again."""

    def __init__(
        self,
        guard: StoreGuard,
        name: str,
        holder: str,
        *,
        seconds: float = LEASE_SECONDS,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.guard = guard
        self.name = name
        self.holder = holder
        self.seconds = seconds
        self.poll = poll
        self.held = asyncio.Event()
        self._renewing: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        try:
            await self._wait_for_turn()
        except BaseException:
            # Cancelled while waiting: the take may have landed just before.
            await asyncio.shield(self._drop())
            raise
        self._renewing = asyncio.create_task(self._renew())
        return self

    async def __aexit__(self, *_exception: object) -> None:
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewing
        # Shielded: a cancel of the work still frees the lease for the other processes at
        # once, instead of when it expires.
        await asyncio.shield(self._drop())

    async def _wait_for_turn(self) -> None:
        told = False
        while not await self._take():
            if not told:
                log.info("another process holds the lease %s: waiting for it", self.name)
                told = True
            await asyncio.sleep(self.poll)
        self.held.set()

    async def _renew(self) -> None:
        """Renew the lease every third of its length (look for it again every
        :attr:`poll` seconds while lost)."""
        while True:
            await asyncio.sleep(self.seconds / 3 if self.held.is_set() else self.poll)
            if await self._take():
                self.held.set()
            elif self.held.is_set():
                log.warning("lost the lease %s to another process: pausing", self.name)
                self.held.clear()

    async def _take(self) -> bool:
        """Whether this process may work now: it holds the lease, or the store failed."""
        store = self.guard.store
        if store is None:  # no store, no other process sharing it
            return True
        try:
            return await store.take_lease(self.name, self.holder, self.seconds)
        except Exception:
            self.guard.store_failed("take the refresh lease")
            return True

    async def _drop(self) -> None:
        store = self.guard.store
        if store is None:
            return
        try:
            await store.drop_lease(self.name, self.holder)
        except Exception:
            self.guard.store_failed("drop the refresh lease")
