"""What is stored, the same on both databases: the tables and their columns, the numbered
migrations that create them (``sql/``), and a pinned post's row."""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

from shared.models import Community, PinnedPost

TABLES: dict[str, tuple[tuple[str, ...], int]] = {
    "community_settings": (("platform", "community_id", "region", "language", "updated_at"), 2),
    "pinned_posts": (
        (
            "platform",
            "community_id",
            "channel_id",
            "message_id",
            "topic",
            "content_version",
            "updated_at",
            "reported",
        ),
        4,
    ),
    "meta": (("key", "value"), 1),
}
"""Every table with data, for copying a deployment: its columns, and how many of the first
ones are its primary key. A pinned post's claim (``claimed_by``, ``claimed_until``) and the
``leases`` table are not copied: they belong to running processes of the source."""
Row = tuple[Any, ...]

PIN_COLUMNS = (
    "platform, community_id, channel_id, message_id, topic, content_version, updated_at, reported"
)
"""The columns of a pinned post, in the order :func:`pin_from_row` reads them."""

DIALECTS = ("sqlite", "postgres")


def migrations(dialect: str = "sqlite") -> list[tuple[int, str]]:
    """Numbered schema migrations shipped in ``shared/store/sql`` (``0001_name.sql``).

    One list of versions serves both databases: ``0001_name.postgres.sql`` replaces
    ``0001_name.sql`` on PostgreSQL where the SQL differs (SQLite's ``WITHOUT ROWID``).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; known: {DIALECTS}")
    folder = resources.files("shared.store.sql")
    scripts: dict[str, str] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".sql") and entry.name[:4].isdigit():
            scripts[entry.name] = entry.read_text(encoding="utf-8")
    found = []
    for name, script in scripts.items():
        stem, _, suffix = name.removesuffix(".sql").partition(".")
        if suffix:
            continue  # an override, taken below in place of its base file
        override = scripts.get(f"{stem}.{dialect}.sql")
        found.append((int(name[:4]), override if override is not None else script))
    return sorted(found)


def pin_from_row(row: Any) -> PinnedPost:
    """A pinned post from its row (columns as in :data:`PIN_COLUMNS`)."""
    return PinnedPost(
        Community(row[0], row[1]), row[2], row[3], row[4], row[5], int(row[6]), bool(row[7])
    )


def pin_key(post: PinnedPost) -> tuple[str, str, str, str]:
    """The primary key of a pinned post's row."""
    return (post.community.platform, post.community.id, post.channel_id, post.message_id)


def now() -> int:
    """The ``updated_at`` of a row written now."""
    return int(time.time())


def now_ms() -> int:
    """Milliseconds since 1970, as a claim on a pinned post and a lease count them."""
    return time.time_ns() // 1_000_000
