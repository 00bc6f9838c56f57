"""Pinned advice that keeps itself current.

Every post the bot pins on a moderator's command is recorded with the content version it
showed. When content or a community's settings change, :class:`Pins` finds the posts whose
version differs from what the bot would post now and has the platform's :class:`PostEditor`
edit them in place, paced per platform (``[pins] edits_per_second``, below the platform's own
limit so answers to people keep room) and at most one edit every few seconds in a community.
Edits overlap so the platform's latency does not slow the pace; each is recorded as soon as it
lands, so an interrupted refresh resumes where it stopped without editing twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from shared.models import Community, Line, PinnedPost, Reply, ReplyKind, Section

if TYPE_CHECKING:
    from shared.core import Core

log = logging.getLogger(__name__)

COMMUNITY_INTERVAL = 3.0
"""Seconds between two edits in one community: Telegram allows 20 messages a minute in a
group, Discord 5 messages every 5 seconds in a channel."""
EDITS_IN_FLIGHT = 16
"""Edits waiting for the platform's answer at once, per platform: enough that its latency
does not cap the pace (20 edits a second at 200 ms each need 4), few enough to leave the HTTP
connections to answers for people."""
_FORGET_TURNS_AFTER = 1024
"""Communities whose next turn is kept; past turns are dropped beyond this many."""


class Outcome(StrEnum):
    """What the platform answered to an edit."""

    EDITED = "edited"
    """The post shows the new version (also when it already did)."""
    GONE = "gone"
    """The post, or its channel, no longer exists: a moderator deleted it."""
    FORBIDDEN = "forbidden"
    """The bot may no longer edit the post (or see its channel)."""
    FAILED = "failed"
    """Anything else (an outage, a timeout): tried again on the next refresh."""


class PostEditor(Protocol):
    """What a platform adapter provides so the core can keep its pinned posts current."""

    platform: str

    async def edit(self, post: PinnedPost, reply: Reply) -> Outcome:
        """Replace the post's content with ``reply``, keeping it pinned."""
        ...

    async def report(self, post: PinnedPost, reply: Reply) -> bool:
        """Post ``reply`` (a notice for moderators) where ``post`` is, if the bot may; True
        when it was posted."""
        ...

    def place(self, post: PinnedPost) -> str | None:
        """The post's channel as moderators know it (``#rules``), or None for "the group"."""
        ...


@dataclass
class Counts:
    """The outcome of one refresh."""

    checked: int = 0
    edited: int = 0
    gone: int = 0
    failed: int = 0

    def add(self, other: Counts) -> None:
        """Add another refresh's counts to these."""
        self.checked += other.checked
        self.edited += other.edited
        self.gone += other.gone
        self.failed += other.failed


@dataclass
class _Pace:
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


class Pins:
    """Finds and refreshes stale pinned posts; lists a community's posts for moderators."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.editors: dict[str, PostEditor] = {}
        self._paces: dict[str, _Pace] = {}
        self._fixed: tuple[float, float] | None = None
        # What each post shows now, as far as this process knows: a post edited by one
        # refresh is not edited again by another running at the same time.
        self._shown: dict[tuple[Community, str, str], str] = {}
        self._editing: dict[tuple[Community, str, str], asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Counts]] = set()

    def attach(self, editor: PostEditor) -> None:
        """Let the core edit posts on ``editor``'s platform (the adapter calls this once)."""
        self.editors[editor.platform] = editor

    def pace(self, every: float, per_community: float) -> None:
        """Space edits ``every`` seconds apart on each platform and ``per_community`` seconds
        apart in a community, instead of the configured pace (tests make both zero)."""
        self._fixed = (every, per_community)
        self._paces.clear()

    def _pace(self, platform: str) -> _Pace:
        pace = self._paces.get(platform)
        if pace is None:
            every, per_community = self._fixed or (
                1 / self.core.config.pins.rate(platform),
                COMMUNITY_INTERVAL,
            )
            pace = self._paces[platform] = _Pace(every, per_community)
        return pace

    async def current_version(self, post: PinnedPost) -> tuple[Reply, str]:
        """What the post should show now, and its content version."""
        settings = await self.core.settings(post.community)
        reply = self.core.community_post(post.topic, settings)
        return reply, self.core.content_version(reply)

    async def refresh(
        self,
        platform: str,
        *,
        community: Community | None = None,
        include: Callable[[Community], bool] | None = None,
    ) -> Counts:
        """Edit every stale post of ``platform`` (of one community, or of those ``include``
        accepts) in place; returns the counts. Cancelling stops after the edits under way."""
        editor = self.editors[platform]
        store = self.core.store
        counts = Counts()
        if store is None:
            return counts
        try:
            stored = await store.pins(community)
        except Exception:
            self.core.store_failed("read pinned posts")
            return counts
        posts = [
            p
            for p in stored
            if p.community.platform == platform and (include is None or include(p.community))
        ]
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
                _reply, version = await self.current_version(post)
                if self._shown.get(_key(post), post.content_version) == version:
                    continue
                await pace.slots.acquire()
                try:
                    await pace.wait(post.community)
                except BaseException:
                    pace.slots.release()
                    raise
                # Each edit is a task of its own (the platform's latency does not slow the
                # pace) that a cancel does not reach: it is recorded once it lands.
                task = asyncio.create_task(self._edit(editor, post, counts, pace, broken))
                edits.add(task)
                task.add_done_callback(edits.discard)
            if edits:
                await asyncio.wait(edits)
        except asyncio.CancelledError:
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

    async def _edit(
        self,
        editor: PostEditor,
        post: PinnedPost,
        counts: Counts,
        pace: _Pace,
        broken: asyncio.Event,
    ) -> None:
        """One post, in its turn: edited (if still stale) and recorded; frees its slot."""
        key = _key(post)
        try:
            if broken.is_set():
                return
            # Another refresh (``/setup`` during the start-up one) may be editing this very
            # post: wait for it, then look again, so the post is edited once, to the newest.
            while (other := self._editing.get(key)) is not None:
                await asyncio.wait({other})
            me = asyncio.current_task()
            assert me is not None
            self._editing[key] = me
            try:
                reply, version = await self.current_version(post)
                if self._shown.get(key, post.content_version) == version:
                    return
                outcome = await self._refresh_one(editor, post, reply, version, pace)
            finally:
                del self._editing[key]
        except Exception:
            # Only the store raises here.
            self.core.store_failed("record a refreshed pinned post")
            counts.failed += 1
            broken.set()
            return
        finally:
            pace.slots.release()
        if outcome is Outcome.EDITED:
            counts.edited += 1
        elif outcome is Outcome.GONE:
            counts.gone += 1
        else:
            counts.failed += 1

    async def _refresh_one(
        self, editor: PostEditor, post: PinnedPost, reply: Reply, version: str, pace: _Pace
    ) -> Outcome:
        store = self.core.store
        assert store is not None
        try:
            outcome = await editor.edit(post, reply)
        except Exception:
            log.exception("could not edit a pinned post")
            outcome = Outcome.FAILED
        if outcome is Outcome.EDITED:
            self._shown[_key(post)] = version
            await store.pin_edited(post, version)
        elif outcome is Outcome.GONE:
            self._shown.pop(_key(post), None)
            await store.forget_pin(post)
        elif outcome is Outcome.FORBIDDEN and not post.reported:
            notice = await self._notice(post.community, "pin_cannot_edit")
            await pace.wait(None)  # a message like an edit: it takes a turn too
            try:
                told = await editor.report(post, notice)
            except Exception:
                log.exception("could not tell moderators about a post the bot cannot edit")
                told = False
            # Told or not (the bot may not post there either), they are never asked twice.
            await store.pin_reported(post)
            log.info("a pinned post can no longer be edited (moderators told: %s)", told)
        return outcome

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
        if community.platform in self.editors and self.core.store is not None:
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

    async def _notice(self, community: Community, key: str, **values: str) -> Reply:
        settings = await self.core.settings(community)
        locale = self.core.locale_for(None, settings)
        return Reply(
            title=self.core.text(locale, key, **values),
            kind=ReplyKind.NOTICE,
            locale=locale,
            private=False,
        )

    async def listing(self, community: Community, locale: str) -> Reply:
        """``/pinned``: the community's posts, where they are, when updated, whether current."""
        store = self.core.store
        try:
            posts = await store.pins(community) if store is not None else []
        except Exception:
            self.core.store_failed("list pinned posts")
            return self.core.error_reply(locale)
        if not posts:
            return Reply(
                title=self.core.text(locale, "pinned_none"), kind=ReplyKind.NOTICE, locale=locale
            )
        editor = self.editors.get(community.platform)
        lines = []
        for post in posts:
            _reply, version = await self.current_version(post)
            if self._shown.get(_key(post), post.content_version) == version:
                state = "pinned_current"
            elif post.reported:
                state = "pinned_cannot_edit"
            else:
                state = "pinned_stale"
            place = editor.place(post) if editor is not None else None
            purpose = self.core.text(
                locale,
                "pinned_line",
                place=place or self.core.text(locale, "pinned_this_group"),
                updated=_date(post.updated_at),
                state=self.core.text(locale, state),
            )
            lines.append(Line(post.topic, purpose))
        return Reply(
            title=self.core.text(locale, "pinned_title"),
            summary=self.core.text(locale, "pinned_summary"),
            sections=(Section(self.core.text(locale, "pinned_heading"), tuple(lines), True),),
            kind=ReplyKind.NOTICE,
            locale=locale,
        )

    async def summary(self, platforms: Iterable[str] = ()) -> dict[str, dict[str, int]]:
        """For operators: posts, stale posts and posts the bot can no longer edit, per
        platform (each of ``platforms`` listed even without posts); no community is named."""
        found = {name: _no_posts() for name in platforms}
        store = self.core.store
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


def _no_posts() -> dict[str, int]:
    return {"posts": 0, "stale": 0, "cannot_edit": 0}


def _key(post: PinnedPost) -> tuple[Community, str, str]:
    return (post.community, post.channel_id, post.message_id)


def _interleaved(posts: list[PinnedPost]) -> list[PinnedPost]:
    """Posts with communities taking turns: the first of each, then the second of each..."""
    turn: dict[Community, int] = {}
    ranked = []
    for post in posts:
        turn[post.community] = turn.get(post.community, -1) + 1
        ranked.append((turn[post.community], post))
    return [post for _, post in sorted(ranked, key=lambda pair: pair[0])]


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
