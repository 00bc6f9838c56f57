"""Community settings behind the store: the store's calls guarded, settings cached.

Every call to the store goes through :class:`StoreGuard`: a failure (a locked, full or missing
database, PostgreSQL away) is counted, logged at most once a minute, and answered with a
fallback, so people still get advice with the default settings. :class:`SettingsCache` keeps
each community's settings after their first read, and drops them when another process changes
them (see :meth:`Store.watch`).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from shared.metrics import Metrics
from shared.models import Community, Settings
from shared.store import Store

log = logging.getLogger(__name__)

STORE_ERROR_INTERVAL = 60.0
"""Seconds between two log records of a failing store (each failure is counted)."""
MAX_CACHED_COMMUNITIES = 100_000
Stored = TypeVar("Stored")


class StoreGuard:
    """The store as the core calls it: None without one (the console's sandbox), and every
    failure logged at most once a minute and counted, never raised to a person."""

    def __init__(
        self,
        store: Store | None,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self._clock = clock
        self._last_error = -STORE_ERROR_INTERVAL
        self._unlogged = 0

    def store_failed(self, action: str) -> None:
        """Log a storage failure at most once a minute, so a broken disk cannot flood the log
        (``action`` is one of :data:`shared.metrics.STORE_ACTIONS`)."""
        self.metrics.store_failed(action)
        now = self._clock()
        if now - self._last_error < STORE_ERROR_INTERVAL:
            self._unlogged += 1
            return
        log.exception(
            "storage failed to %s (%d more failures since the last report); "
            "answering with defaults",
            action,
            self._unlogged,
        )
        self._last_error = now
        self._unlogged = 0

    async def guarded(self, action: str, work: Awaitable[Stored], failed: Stored) -> Stored:
        """``work``'s result, or ``failed`` when the store raised (logged, once a minute)."""
        try:
            return await work
        except Exception:
            self.store_failed(action)
            return failed


class SettingsCache:
    """Each community's settings, read from the store once and kept (the least recently used
    are dropped past :data:`MAX_CACHED_COMMUNITIES`); and the operator's values."""

    def __init__(self, guard: StoreGuard) -> None:
        self.guard = guard
        self._settings: OrderedDict[Community, Settings] = OrderedDict()
        # Counts changes made by other processes, so that a read that was under way while
        # one arrived is not cached (it may be from before the change).
        self._changes = 0

    async def get(self, community: Community | None) -> Settings:
        """A community's settings; cached after the first read, defaults if the store fails."""
        if community is None:
            return Settings()
        cached = self._settings.get(community)
        if cached is not None:
            return cached
        store = self.guard.store
        if store is None:
            return Settings()
        changes = self._changes
        try:
            found = await store.get_settings(community) or Settings()
        except Exception:
            self.guard.store_failed("read settings")
            return Settings()
        if changes == self._changes:
            self._remember(community, found)
        return found

    def changed(self, community: Community | None) -> None:
        """Another process changed ``community``'s settings or deleted it (None: any
        community may have changed): its next command reads them again."""
        self._changes += 1
        if community is None:
            self._settings.clear()
        else:
            self._settings.pop(community, None)

    def _remember(self, community: Community, settings: Settings) -> None:
        self._settings[community] = settings
        self._settings.move_to_end(community)
        while len(self._settings) > MAX_CACHED_COMMUNITIES:
            self._settings.popitem(last=False)

    async def save(self, community: Community, settings: Settings) -> bool:
        """Save a community's settings; False (and logged) when the store failed."""
        store = self.guard.store
        if store is None:
            self._remember(community, settings)
            return True
        try:
            await store.save_settings(community, settings)
        except Exception:
            self.guard.store_failed("save settings")
            return False
        self._remember(community, settings)
        return True

    async def forget(self, community: Community) -> None:
        """The bot left a community: delete every stored row of it (logged if the store
        failed)."""
        self._settings.pop(community, None)
        store = self.guard.store
        if store is not None:
            await self.guard.guarded("forget a community", store.delete_community(community), None)

    async def moved(self, old: Community, new: Community) -> None:
        """A community got a new id (a Telegram group became a supergroup): its settings move
        with it. When the store fails, the old row is kept rather than the settings lost."""
        settings = await self.get(old)
        if settings != Settings() and not await self.save(new, settings):
            return
        await self.forget(old)

    async def reconcile(self, platform: str, keep: Callable[[str], bool]) -> int:
        """Forget every stored community of ``platform`` that ``keep`` does not keep (the bot
        was removed while it was offline); returns how many. A failing store is logged, and
        the next start tries again."""
        store = self.guard.store
        if store is None:
            return 0
        try:
            stored = await store.communities(platform)
        except Exception:
            self.guard.store_failed("reconcile stored servers with joined ones")
            return 0
        forgotten = 0
        for community_id in stored:
            if not keep(community_id):
                await self.forget(Community(platform, community_id))
                forgotten += 1
        return forgotten

    async def meta(self, key: str) -> str | None:
        """An operator value from the store; None when unset, without a store, or when the
        store failed (logged)."""
        store = self.guard.store
        if store is None:
            return None
        return await self.guard.guarded("read an operator value", store.get_meta(key), None)

    async def set_meta(self, key: str, value: str) -> bool:
        """Store an operator value; False (and logged) when the store failed."""
        store = self.guard.store
        if store is None:
            return True
        return await self.guard.guarded(
            "save an operator value", done(store.set_meta(key, value)), False
        )


async def done(work: Awaitable[None]) -> bool:
    """True once ``work`` is done (for store writes that return nothing)."""
    await work
    return True
