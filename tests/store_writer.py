"""A process that writes settings until it is killed, for tests/test_lifecycle.py.

``python -m tests.store_writer DATABASE COMMUNITIES FIRST`` saves, through the real
:class:`SqliteStore`, generation after generation of settings for communities ``0`` to
``COMMUNITIES - 1``: generation ``g`` is region ``R<g>`` and language ``L<g>``, so a row mixing
two generations would show. It prints ``writing`` once generation ``FIRST`` is complete.
"""

from __future__ import annotations

import asyncio
import sys

from shared.models import Community, Settings
from shared.store import SqliteStore

PLATFORM = "test"


def generation(settings: Settings) -> int:
    """The generation a row was written in; ValueError if its region and language differ."""
    region, language = settings.region or "", settings.language or ""
    if region[1:] != language[1:] or not region.startswith("R") or not language.startswith("L"):
        raise ValueError(f"a mixed row: {settings}")
    return int(region[1:])


async def write(path: str, communities: int, first: int) -> None:
    """Write generations from ``first`` on, forever."""
    async with await SqliteStore.open(path) as store:
        number = first
        while True:
            settings = Settings(f"R{number}", f"L{number}")
            for index in range(communities):
                await store.save_settings(Community(PLATFORM, str(index)), settings)
            if number == first:
                print("writing", flush=True)
            number += 1


if __name__ == "__main__":
    asyncio.run(write(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
