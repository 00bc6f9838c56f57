"""What the core asks of a chat platform to moderate a community: the steps of posting,
pinning, unpinning and keeping advice current. The flow itself (which step when, and what
happens when one fails) is the core's (:mod:`shared.moderation`, :mod:`shared.pins`); each
adapter implements these steps and nothing else of it.

Rights are named by content keys: ``permission_<right>`` is the right's name in a language.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from shared.models import PinnedPost, Reply


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


class Refused(Exception):
    """The platform refused a step because the bot lacks ``rights`` there."""

    def __init__(self, *rights: str) -> None:
        super().__init__(", ".join(rights))
        self.rights = rights


class Platform(Protocol):
    """One platform's side of moderation. ``channel`` is where a post goes (a Discord channel,
    a Telegram group) and ``message`` a message id, as the platform writes them."""

    platform: str
    """The platform's name, as in :attr:`Community.platform`."""

    async def working(self) -> None:
        """The flow is about to change things, which may take a while (the store, the
        platform's rate limits): a platform that must hear back within a deadline (Discord,
        3 s) tells the person the bot is working on it."""
        ...

    async def missing_rights(self, channel: str) -> Sequence[str]:
        """The rights the bot lacks to post and pin advice in ``channel``, in the order a
        moderator would grant them (none: it may)."""
        ...

    async def post(self, channel: str, reply: Reply) -> Sequence[str]:
        """Post ``reply`` in ``channel``, silently; returns its messages' ids (the first is
        the one to pin). Raises :class:`Refused` when the platform does not let the bot."""
        ...

    async def pin(self, channel: str, message: str) -> None:
        """Pin a message, silently. Raises :class:`Refused` when the bot may not."""
        ...

    async def delete(self, channel: str, messages: Sequence[str]) -> None:
        """Remove the bot's messages (those already gone, or that it may not remove, are
        skipped: it never raises for them)."""
        ...

    async def unpin(self, posts: Sequence[PinnedPost]) -> None:
        """Unpin the bot's posts (one deleted by hand, or that the bot may no longer unpin,
        is skipped)."""
        ...

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
