"""One stale pinned post's edit, made once however many refreshes and processes reach it.

Within a process, a refresh that finds another one editing the same post waits for it and
looks again (a ``/setup`` during the start-up refresh). Across processes, the post is first
claimed in the store (:meth:`Store.claim_pin`, one statement that succeeds for one process
only), and the claim ends when the edit is recorded or given up, or expires when its process
was killed mid-edit. :class:`shared.pins.Pins` builds on :class:`PostEditing`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass

from shared.advice import Advisor
from shared.models import Community, PinnedPost, Reply
from shared.pace import COMMUNITY_INTERVAL, Pace
from shared.platform import Outcome, Platform
from shared.replies import Replies
from shared.settings import SettingsCache

log = logging.getLogger(__name__)

CLAIM_SECONDS = 10 * COMMUNITY_INTERVAL
"""How long a process's claim on a post lasts: longer than an edit takes, retries included
(another process would edit the post a second time after it), short enough that the posts of
a process killed mid-edit are edited again soon."""

Key = tuple[Community, str, str]
"""A post: its community, channel and message."""


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

    def count(self, outcome: Outcome) -> None:
        """Count one post's outcome."""
        if outcome is Outcome.EDITED:
            self.edited += 1
        elif outcome is Outcome.GONE:
            self.gone += 1
        else:
            self.failed += 1


class PostEditing:
    """What each post shows and should show, and the edit of one post, claimed and recorded."""

    def __init__(self, settings: SettingsCache, advisor: Advisor, replies: Replies) -> None:
        self.settings = settings
        self.guard = settings.guard
        self.advisor = advisor
        self.replies = replies
        # What each post shows now, as far as this process knows: a post edited by one
        # refresh is not edited again by another running at the same time.
        self._shown: dict[Key, str] = {}
        self._editing: dict[Key, asyncio.Task[None]] = {}
        # Other processes refreshing the same posts: each post is edited by the one whose
        # claim in the store succeeds first. The id names this process to the store only.
        self.claimant = secrets.token_hex(8)
        self.claim_seconds = CLAIM_SECONDS

    async def current_version(self, post: PinnedPost) -> tuple[Reply, str]:
        """What the post should show now, and its content version."""
        settings = await self.settings.get(post.community)
        reply = self.advisor.community_post(post.topic, settings)
        return reply, self.advisor.content_version(reply)

    async def is_current(self, post: PinnedPost) -> bool:
        """Whether the post shows what the bot would post now (as far as this process knows)."""
        _reply, version = await self.current_version(post)
        return self._shown.get(_key(post), post.content_version) == version

    async def _edit(
        self,
        editor: Platform,
        post: PinnedPost,
        counts: Counts,
        pace: Pace,
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
                outcome = await self._claimed_edit(editor, post, pace, broken)
            finally:
                del self._editing[key]
        except Exception:
            # Only the store raises here.
            self.guard.store_failed("record a refreshed pinned post")
            counts.failed += 1
            broken.set()
            return
        finally:
            pace.slots.release()
        if outcome is not None:  # None: current already, or another process's to edit
            counts.count(outcome)

    async def _claimed_edit(
        self, editor: Platform, post: PinnedPost, pace: Pace, broken: asyncio.Event
    ) -> Outcome | None:
        """Edit the post if it is still stale and this process claims it first; None when it
        was current, or another process claimed it (that process edits it, or, killed
        mid-edit, leaves a claim that expires, so a later refresh edits it), or recording
        broke meanwhile."""
        store = self.guard.store
        assert store is not None
        reply, version = await self.current_version(post)
        if self._shown.get(_key(post), post.content_version) == version:
            return None
        if not await store.claim_pin(post, version, self.claimant, self.claim_seconds):
            return None
        if broken.is_set():  # while claiming: an edit made now could not be recorded either
            await store.release_pin(post, self.claimant)
            return None
        return await self._refresh_one(editor, post, reply, version, pace)

    async def _refresh_one(
        self, editor: Platform, post: PinnedPost, reply: Reply, version: str, pace: Pace
    ) -> Outcome:
        store = self.guard.store
        assert store is not None
        try:
            outcome = await editor.edit(post, reply)
        except Exception:
            log.exception("could not edit a pinned post")
            outcome = Outcome.FAILED
        if outcome is Outcome.EDITED:
            self._shown[_key(post)] = version
            await store.pin_edited(post, version)  # which ends the claim
            return outcome
        if outcome is Outcome.GONE:
            self._shown.pop(_key(post), None)
            await store.forget_pin(post)
            return outcome
        if outcome is Outcome.FORBIDDEN and not post.reported:
            settings = await self.settings.get(post.community)
            notice = self.replies.for_members(settings, "pin_cannot_edit")
            await pace.wait(None)  # a message like an edit: it takes a turn too
            try:
                told = await editor.report(post, notice)
            except Exception:
                log.exception("could not tell moderators about a post the bot cannot edit")
                told = False
            # Told or not (the bot may not post there either), they are never asked twice.
            await store.pin_reported(post)
            log.info("a pinned post can no longer be edited (moderators told: %s)", told)
        # Not edited: the next refresh, in any process, tries again.
        await store.release_pin(post, self.claimant)
        return outcome


def _key(post: PinnedPost) -> Key:
    return (post.community, post.channel_id, post.message_id)
