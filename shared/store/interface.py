"""What the core needs from storage (:class:`Store`), the error every store raises when its
database cannot be used, and the stand-in for a database that could not be opened.

Nothing here takes a user id or message text: only communities, settings, pinned posts and
the leases processes take turns with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from shared.models import Community, PinnedPost, Settings

Changed = Callable[[Community | None], None]
"""Called by :meth:`Store.watch` with a community another process changed (its settings saved,
or it was deleted), or with None when any community may have changed."""


class StoreUnavailable(Exception):
    """The database cannot be used: it could not be opened, or its file was moved or deleted
    while open."""


class Store(Protocol):
    """What the core needs from storage."""

    async def get_settings(self, community: Community) -> Settings | None:
        """The community's settings, or None when it never set any."""
        ...

    async def save_settings(self, community: Community, settings: Settings) -> None:
        """Create or replace the community's settings."""
        ...

    async def delete_community(self, community: Community) -> None:
        """Delete every row of the community, in one transaction."""
        ...

    async def communities(self, platform: str) -> list[str]:
        """Ids of every community of ``platform`` that has any stored row."""
        ...

    async def add_pin(self, post: PinnedPost) -> None:
        """Record a pinned post (or replace the record of the same message)."""
        ...

    async def remove_pins(self, community: Community, topic: str) -> list[PinnedPost]:
        """Forget the community's pinned posts of ``topic``; returns what was removed."""
        ...

    async def pins(self, community: Community | None = None) -> list[PinnedPost]:
        """Pinned posts of one community, or of all when ``community`` is None."""
        ...

    async def claim_pin(
        self, post: PinnedPost, content_version: str, claimant: str, seconds: float
    ) -> bool:
        """Claim the post for ``seconds`` to edit it to ``content_version``, in one statement:
        True only when its recorded version differs from ``content_version`` and no other
        claim on it is running (none, or expired). ``claimant`` is a random id of the
        process."""
        ...

    async def release_pin(self, post: PinnedPost, claimant: str) -> None:
        """End ``claimant``'s claim on the post (its edit failed or was refused)."""
        ...

    async def pin_edited(self, post: PinnedPost, content_version: str) -> None:
        """The post now shows ``content_version``: record it (and clear ``reported`` and any
        claim)."""
        ...

    async def pin_reported(self, post: PinnedPost) -> None:
        """The moderators were told the post can no longer be edited."""
        ...

    async def forget_pin(self, post: PinnedPost) -> None:
        """Forget one post (it was deleted on the platform)."""
        ...

    async def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Hold the lease ``name`` for ``seconds`` from now, in one statement: True when it was
        free, expired, or already ``holder``'s (then renewed); False while another holder's
        runs. ``holder`` is a random id of the process."""
        ...

    async def drop_lease(self, name: str, holder: str) -> None:
        """End ``holder``'s lease ``name`` (another holder's is left alone)."""
        ...

    async def get_meta(self, key: str) -> str | None:
        """An operator value, such as the hash of the last synced command list."""
        ...

    async def set_meta(self, key: str, value: str) -> None:
        """Store an operator value."""
        ...

    async def watch(self, changed: Changed) -> None:
        """Call ``changed`` for each community another process changes, until cancelled."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...


class UnavailableStore:
    """Stands in for a database that could not be opened: every call raises
    :class:`StoreUnavailable`, so the core answers with default settings and tells moderators
    that their changes were not saved."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def _fail(self) -> StoreUnavailable:
        return StoreUnavailable(self.reason)

    async def get_settings(self, community: Community) -> Settings | None:
        """Always fails."""
        raise self._fail()

    async def save_settings(self, community: Community, settings: Settings) -> None:
        """Always fails."""
        raise self._fail()

    async def delete_community(self, community: Community) -> None:
        """Always fails."""
        raise self._fail()

    async def communities(self, platform: str) -> list[str]:
        """Always fails."""
        raise self._fail()

    async def add_pin(self, post: PinnedPost) -> None:
        """Always fails."""
        raise self._fail()

    async def remove_pins(self, community: Community, topic: str) -> list[PinnedPost]:
        """Always fails."""
        raise self._fail()

    async def pins(self, community: Community | None = None) -> list[PinnedPost]:
        """Always fails."""
        raise self._fail()

    async def claim_pin(
        self, post: PinnedPost, content_version: str, claimant: str, seconds: float
    ) -> bool:
        """Always fails."""
        raise self._fail()

    async def release_pin(self, post: PinnedPost, claimant: str) -> None:
        """Always fails."""
        raise self._fail()

    async def pin_edited(self, post: PinnedPost, content_version: str) -> None:
        """Always fails."""
        raise self._fail()

    async def pin_reported(self, post: PinnedPost) -> None:
        """Always fails."""
        raise self._fail()

    async def forget_pin(self, post: PinnedPost) -> None:
        """Always fails."""
        raise self._fail()

    async def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Always fails."""
        raise self._fail()

    async def drop_lease(self, name: str, holder: str) -> None:
        """Always fails."""
        raise self._fail()

    async def get_meta(self, key: str) -> str | None:
        """Always fails."""
        raise self._fail()

    async def set_meta(self, key: str, value: str) -> None:
        """Always fails."""
        raise self._fail()

    async def watch(self, changed: Changed) -> None:
        """Nothing can change: waits until cancelled."""
        await asyncio.Event().wait()

    async def close(self) -> None:
        """Nothing to release."""
