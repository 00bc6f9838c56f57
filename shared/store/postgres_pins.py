"""A pinned post's rows on PostgreSQL: recorded, listed, claimed for an edit, edited, reported
and forgotten, and the lease that lets one process at a time refresh a platform's posts; the
part of :class:`~shared.store.postgres.PostgresStore` about pinned posts."""

from __future__ import annotations

from shared.models import Community, PinnedPost
from shared.store.postgres_pool import PostgresPool
from shared.store.schema import PIN_COLUMNS, now, pin_from_row, pin_key

_PIN_KEY = "platform = $1 AND community_id = $2 AND channel_id = $3 AND message_id = $4"
_NOW_MS = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
"""The server's time in milliseconds since 1970, as a claim and a lease count it."""


class PostgresPins(PostgresPool):
    """The pinned-post methods of :class:`~shared.store.interface.Store` on a
    :class:`~shared.store.postgres_pool.PostgresPool`."""

    async def add_pin(self, post: PinnedPost) -> None:
        """Record a pinned post (or replace the record of the same message)."""
        await self._run(
            lambda c: c.execute(
                "INSERT INTO pinned_posts (platform, community_id, channel_id, message_id,"
                " topic, content_version, updated_at, reported)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, 0)"
                " ON CONFLICT (platform, community_id, channel_id, message_id) DO UPDATE SET"
                " topic = excluded.topic, content_version = excluded.content_version,"
                " updated_at = excluded.updated_at, reported = 0",
                *pin_key(post),
                post.topic,
                post.content_version,
                post.updated_at or now(),
            )
        )

    async def remove_pins(self, community: Community, topic: str) -> list[PinnedPost]:
        """Forget the community's pinned posts of ``topic``; returns what was removed."""
        rows = await self._run(
            lambda c: c.fetch(
                "DELETE FROM pinned_posts WHERE platform = $1 AND community_id = $2"
                f" AND topic = $3 RETURNING {PIN_COLUMNS}",
                community.platform,
                community.id,
                topic,
            )
        )
        return [pin_from_row(row) for row in rows]

    async def pins(self, community: Community | None = None) -> list[PinnedPost]:
        """Pinned posts of one community, or of all when ``community`` is None."""
        query = f"SELECT {PIN_COLUMNS} FROM pinned_posts"
        args: tuple[str, ...] = ()
        if community is not None:
            query += " WHERE platform = $1 AND community_id = $2"
            args = (community.platform, community.id)
        query += " ORDER BY updated_at, message_id"
        rows = await self._run(lambda c: c.fetch(query, *args))
        return [pin_from_row(row) for row in rows]

    async def claim_pin(
        self, post: PinnedPost, content_version: str, claimant: str, seconds: float
    ) -> bool:
        """Claim the post for ``seconds`` if it is stale and nobody else's claim runs (see
        :meth:`~shared.store.interface.Store.claim_pin`)."""
        # The server's clock, the one clock processes on several machines share. Two claims at
        # once: the second waits for the first's row lock, then sees its claim and fails.
        status = await self._run(
            lambda c: c.execute(
                f"UPDATE pinned_posts SET claimed_by = $5, claimed_until = {_NOW_MS} + $7"
                f" WHERE {_PIN_KEY} AND content_version <> $6"
                f" AND (claimed_by IS NULL OR claimed_until < {_NOW_MS})",
                *pin_key(post),
                claimant,
                content_version,
                round(seconds * 1000),
            )
        )
        return str(status) == "UPDATE 1"

    async def release_pin(self, post: PinnedPost, claimant: str) -> None:
        """End ``claimant``'s claim on the post."""
        await self._run(
            lambda c: c.execute(
                "UPDATE pinned_posts SET claimed_by = NULL, claimed_until = 0"
                f" WHERE {_PIN_KEY} AND claimed_by = $5",
                *pin_key(post),
                claimant,
            )
        )

    async def pin_edited(self, post: PinnedPost, content_version: str) -> None:
        """The post now shows ``content_version``: record it (and clear ``reported`` and any
        claim)."""
        await self._run(
            lambda c: c.execute(
                "UPDATE pinned_posts SET content_version = $5, updated_at = $6, reported = 0,"
                f" claimed_by = NULL, claimed_until = 0 WHERE {_PIN_KEY}",
                *pin_key(post),
                content_version,
                now(),
            )
        )

    async def pin_reported(self, post: PinnedPost) -> None:
        """The moderators were told the post can no longer be edited."""
        await self._run(
            lambda c: c.execute(
                f"UPDATE pinned_posts SET reported = 1 WHERE {_PIN_KEY}", *pin_key(post)
            )
        )

    async def forget_pin(self, post: PinnedPost) -> None:
        """Forget one post (it was deleted on the platform)."""
        await self._run(
            lambda c: c.execute(f"DELETE FROM pinned_posts WHERE {_PIN_KEY}", *pin_key(post))
        )

    async def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Hold the lease ``name`` for ``seconds`` if it is free, expired or ``holder``'s (see
        :meth:`~shared.store.interface.Store.take_lease`)."""
        # The server's clock, as for claims. Two takers at once: the second waits for the
        # first's row (inserted or locked), then sees its lease running and fails.
        row = await self._run(
            lambda c: c.fetchval(
                f"INSERT INTO leases (lease, holder, until) VALUES ($1, $2, {_NOW_MS} + $3)"
                " ON CONFLICT (lease) DO UPDATE SET holder = excluded.holder,"
                " until = excluded.until"
                f" WHERE leases.until < {_NOW_MS} OR leases.holder = excluded.holder"
                " RETURNING 1",
                name,
                holder,
                round(seconds * 1000),
            )
        )
        return row is not None

    async def drop_lease(self, name: str, holder: str) -> None:
        """End ``holder``'s lease ``name``."""
        await self._run(
            lambda c: c.execute("DELETE FROM leases WHERE lease = $1 AND holder = $2", name, holder)
        )
