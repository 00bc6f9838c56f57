"""An in-memory chat platform: every step of :class:`shared.platform.Platform`, kept in dicts
and answered as a test tells it. It drives the core's moderation flow and the refresh of
pinned posts through every branch without a network; the adapters' own tests prove the real
implementations against the fake Telegram and Discord."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence

from shared.models import PinnedPost, Reply
from shared.platform import Outcome, Refused


class MemoryPlatform:
    """A platform that keeps posts in dicts and answers each step as told."""

    platform = "memory"

    def __init__(self) -> None:
        # Posting, pinning, unpinning.
        self.lacking: list[str] = []
        """What :meth:`missing_rights` answers."""
        self.refused: dict[str, tuple[str, ...]] = {}
        """Steps (``"post"``, ``"pin"``) refused with these rights."""
        self.broken: dict[str, Exception] = {}
        """Steps that raise this error (an outage)."""
        self.pieces = 1
        """Messages one post takes (Telegram splits advice too long for one)."""
        self.steps: list[str] = []
        """Every step asked for, in order: ``"missing_rights"``, ``"post"``, ``"pin"``..."""
        self.posts: dict[str, tuple[str, Reply]] = {}
        """Messages on the platform: id -> (channel, what it shows)."""
        self.pinned: list[str] = []
        self.unpinned: list[str] = []
        self.deleted: list[str] = []
        self._ids = itertools.count(1)
        # Editing (the refresh of pinned posts).
        self.shown: dict[str, Reply] = {}
        self.edits: list[str] = []
        self.reports: list[tuple[str, Reply]] = []
        self.answer: dict[str, Outcome] = {}
        self.may_report = True
        self.gate: asyncio.Event | None = None
        self.asked = asyncio.Event()
        """Set once an edit was asked for (before it waits at the gate)."""
        self.in_flight = 0
        self.started: list[float] = []

    def _step(self, name: str) -> None:
        self.steps.append(name)
        if name in self.broken:
            raise self.broken[name]
        if name in self.refused:
            raise Refused(*self.refused[name])

    async def working(self) -> None:
        self._step("working")

    async def missing_rights(self, channel: str) -> Sequence[str]:
        self._step("missing_rights")
        return list(self.lacking)

    async def post(self, channel: str, reply: Reply) -> Sequence[str]:
        self._step("post")
        ids = [f"p{next(self._ids)}" for _ in range(self.pieces)]
        for message in ids:
            self.posts[message] = (channel, reply)
        return ids

    async def pin(self, channel: str, message: str) -> None:
        self._step("pin")
        self.pinned.append(message)

    async def delete(self, channel: str, messages: Sequence[str]) -> None:
        self.steps.append("delete")
        for message in messages:
            self.posts.pop(message, None)
            self.deleted.append(message)

    async def unpin(self, posts: Sequence[PinnedPost]) -> None:
        self._step("unpin")
        self.unpinned += [post.message_id for post in posts]

    async def edit(self, post: PinnedPost, reply: Reply) -> Outcome:
        self.asked.set()
        self.started.append(asyncio.get_running_loop().time())
        self.in_flight += 1
        try:
            if self.gate is not None:
                await self.gate.wait()
        finally:
            self.in_flight -= 1
        outcome = self.answer.get(post.message_id, Outcome.EDITED)
        if outcome is Outcome.EDITED:
            self.shown[post.message_id] = reply
            self.edits.append(post.message_id)
        return outcome

    async def report(self, post: PinnedPost, reply: Reply) -> bool:
        if self.may_report:
            self.reports.append((post.channel_id, reply))
        return self.may_report

    def place(self, post: PinnedPost) -> str | None:
        return f"#{post.channel_id}"
