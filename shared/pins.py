"""Pinned advice that keeps itself current.

Every post the bot pins on a moderator's command is recorded with the content version it
showed. When content or a community's settings change, :class:`Pins` finds the posts whose
version differs from what the bot would post now and has the platform edit them in place
(:meth:`Platform.edit`), paced per platform (``[pins] edits_per_second``, below the platform's
own limit so answers to people keep room) and at most one edit every few seconds in a
community (:mod:`shared.pace`). Edits overlap so the platform's latency does not slow the
pace; each is recorded as soon as it lands, so an interrupted refresh resumes where it stopped
without editing twice. Processes refreshing at the same time (several workers, or
``safety-bot refresh-pins`` beside ``safety-bot run``) claim each post in the store before
editing it (:meth:`Store.claim_pin`), so each post is edited by one of them, once. The pace is
the platform's for the whole bot, though, so a whole platform's refresh runs under a lease
across the fleet (:mod:`shared.lease`): one process at a time, the others waiting their turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from shared.advice import Advisor
from shared.config import PinsConfig
from shared.lease import LEASE_SECONDS, POLL_SECONDS, Lease
from shared.models import Community, PinnedPost
from shared.pace import COMMUNITY_INTERVAL, Pace
from shared.pins_edit import Counts, PostEditing
from shared.platform import Platform
from shared.replies import Replies
from shared.settings import SettingsCache, StoreGuard

log = logging.getLogger(__name__)

__all__ = ["Counts", "Pins"]
"""What adapters use: :class:`Counts` is shared.pins_edit's, kept importable here."""


class Pins(PostEditing):
    """Finds and refreshes stale pinned posts, on the platforms attached to it."""

    def __init__(
        self, settings: SettingsCache, advisor: Advisor, replies: Replies, config: PinsConfig
    ) -> None:
        super().__init__(settings, advisor, replies)
        self.config = config
        self.platforms: dict[str, Platform] = {}
        self._paces: dict[str, Pace] = {}
        self._fixed: tuple[float, float] | None = None
        self._tasks: set[asyncio.Task[Counts]] = set()
        # A whole platform's refresh holds the platform's lease (the claimant holds it) and,
        # within this process, its lock: two of them at once would edit at twice the pace.
        self.lease_seconds = LEASE_SECONDS
        self.lease_poll = POLL_SECONDS
        self._whole: dict[str, asyncio.Lock] = {}

    def attach(self, platform: Platform) -> None:
        """Let the core edit posts on ``platform`` (its adapter calls this once)."""
        self.platforms[platform.platform] = platform

    def pace(self, every: float, per_community: float) -> None:
        """Space edits ``every`` seconds apart on each platform and ``per_community`` seconds
        apart in a community, instead of the configured pace (tests make both zero)."""
        self._fixed = (every, per_community)
        self._paces.clear()

    def _pace(self, platform: str) -> Pace:
        pace = self._paces.get(platform)
        if pace is None:
            every, per_community = self._fixed or (
                1 / self.config.rate(platform),
                COMMUNITY_INTERVAL,
            )
            pace = self._paces[platform] = Pace(every, per_community)
        return pace

    # -- refreshing -------------------------------------------------------------------------

    async def refresh(
        self,
        platform: str,
        *,
        community: Community | None = None,
        include: Callable[[Community], bool] | None = None,
    ) -> Counts:
        """Edit every stale post of ``platform`` (of one community, or of those ``include``
        accepts) in place; returns the counts. Cancelling stops after the edits under way.

        Without ``community``, it first waits for the platform's lease (``pins:<platform>``),
        so across the fleet one such refresh runs at a time, at the configured pace; a
        community's few posts (after ``/setup``) are refreshed at once."""
        if community is not None:
            free = asyncio.Event()  # a community's refresh takes no lease: never waits
            free.set()
            return await self._refresh(platform, community, include, free)
        lease = Lease(
            self.guard,
            f"pins:{platform}",
            self.claimant,
            seconds=self.lease_seconds,
            poll=self.lease_poll,
        )
        async with self._whole.setdefault(platform, asyncio.Lock()), lease:
            counts = await self._refresh(platform, None, include, lease.held)
            # Handed over at this process's next turn, not before: the next holder's first
            # edit keeps the pace after this one's last.
            await self._pace(platform).wait(None)
            return counts

    async def _refresh(
        self,
        platform: str,
        community: Community | None,
        include: Callable[[Community], bool] | None,
        held: asyncio.Event,
    ) -> Counts:
        """:meth:`refresh`, editing only while ``held`` is set."""
        editor = self.platforms[platform]
        counts = Counts()
        # Read once the lease is held: what the previous holder edited is current by now.
        posts = await _stored(self.guard, platform, community, include)
        pace = self._pace(platform)
        # Set when the store could not record an edit: an edit it cannot record would be
        # made again at every start, so no more are made until it works again.
        broken = asyncio.Event()
        edits: set[asyncio.Task[None]] = set()
        try:
            for post in _interleaved(posts):
                if broken.is_set():
                    break
                counts.checked += 1
                if await self.is_current(post):
                    continue
                await held.wait()
                await pace.turn(post.community)
                # Each edit is a task of its own (the platform's latency does not slow the
                # pace) that a cancel does not reach: it is recorded once it lands.
                task = asyncio.create_task(self._edit(editor, post, counts, pace, broken))
                edits.add(task)
                task.add_done_callback(edits.discard)
            if edits:
                await asyncio.wait(edits)
        except asyncio.CancelledError:
            # The edits under way land and are recorded.
            if edits:
                await asyncio.wait(edits)
            raise
        if counts.edited or counts.gone or counts.failed:
            log.info(
                "%s pinned posts: %d checked, %d edited, %d gone, %d failed",
                platform,
                counts.checked,
                counts.edited,
                counts.gone,
                counts.failed,
            )
        return counts

    # -- in the background ------------------------------------------------------------------

    def start(
        self,
        platform: str,
        *,
        community: Community | None = None,
        include: Callable[[Community], bool] | None = None,
    ) -> None:
        """:meth:`refresh` in the background (on start, after ``/setup``); failures are logged."""
        task = asyncio.create_task(self.refresh(platform, community=community, include=include))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def rerender(self, community: Community) -> None:
        """A community's settings changed: refresh its posts now, in the background."""
        if community.platform in self.platforms and self.guard.store is not None:
            self.start(community.platform, community=community)

    def _done(self, task: asyncio.Task[Counts]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("refreshing pinned posts failed", exc_info=task.exception())

    async def settle(self) -> None:
        """Wait for the background refreshes to finish (tests)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Stop the background refreshes after the post in hand (on shutdown); the next start
        carries on from there."""
        for task in self._tasks:
            task.cancel()
        await self.settle()

    # -- for operators ----------------------------------------------------------------------

    async def summary(self, platforms: Iterable[str] = ()) -> dict[str, dict[str, int]]:
        """For operators: posts, stale posts and posts the bot can no longer edit, per
        platform (each of ``platforms`` listed even without posts); no community is named."""
        found = {name: _no_posts() for name in platforms}
        store = self.guard.store
        if store is None:
            return found
        for post in await store.pins():
            figures = found.setdefault(post.community.platform, _no_posts())
            figures["posts"] += 1
            _reply, version = await self.current_version(post)
            if post.content_version != version:
                figures["stale"] += 1
                figures["cannot_edit"] += post.reported
        return found


async def _stored(
    guard: StoreGuard,
    platform: str,
    community: Community | None,
    include: Callable[[Community], bool] | None,
) -> list[PinnedPost]:
    """The stored posts a refresh looks at (none when the store fails: logged)."""
    store = guard.store
    if store is None:
        return []
    try:
        stored = await store.pins(community)
    except Exception:
        guard.store_failed("read pinned posts")
        return []
    return [
        p
        for p in stored
        if p.community.platform == platform and (include is None or include(p.community))
    ]


def _no_posts() -> dict[str, int]:
    return {"posts": 0, "stale": 0, "cannot_edit": 0}


def _interleaved(posts: list[PinnedPost]) -> list[PinnedPost]:
    """Posts with communities taking turns: the first of each, then the second of each..."""
    turn: dict[Community, int] = {}
    ranked = []
    for post in posts:
        turn[post.community] = turn.get(post.community, -1) + 1
        ranked.append((turn[post.community], post))
    return [post for _, post in sorted(ranked, key=lambda pair: pair[0])]
