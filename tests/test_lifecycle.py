"""The process lifecycle: a writer killed with SIGKILL leaves a sound database with every row
whole, and ``safety-bot run`` (the console, with no token) stops cleanly on SIGTERM or SIGINT
while its input is still open, closing the database and exiting 0."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from shared.models import Community, Settings
from shared.store import SqliteStore
from tests.conftest import PROJECT
from tests.faults import integrity, leftovers
from tests.store_writer import PLATFORM, generation
from tests.test_cli import BIN

COMMUNITIES = 200
TOKENS = ("TELEGRAM_TOKEN", "DISCORD_TOKEN")
KILL_AFTER = (0.02, 0.07, 0.15)
"""Seconds between "writing" and SIGKILL, one per round: a few places in the write loop."""


async def generations(path: Path) -> list[int]:
    """Each community's generation, reopening the database as the bot would after a crash."""
    async with await SqliteStore.open(path) as store:
        rows = [await store.get_settings(Community(PLATFORM, str(i))) for i in range(COMMUNITIES)]
    return [generation(row or Settings()) for row in rows]


async def test_sigkill_while_writing_leaves_every_row_whole(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = 0
    for delay in KILL_AFTER:
        writer = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.store_writer",
            str(path),
            str(COMMUNITIES),
            str(first),
            cwd=PROJECT,
            stdout=asyncio.subprocess.PIPE,
        )
        assert writer.stdout is not None
        assert await asyncio.wait_for(writer.stdout.readline(), 30) == b"writing\n"
        await asyncio.sleep(delay)
        writer.kill()
        assert await writer.wait() == -signal.SIGKILL
        assert integrity(path) == "ok"
        found = await generations(path)  # ValueError on a row mixing two generations
        # Rows are written in order, one transaction each: every one committed is kept, so
        # the last generation covers a prefix of the communities and the rest have the one
        # before; a lost or half-applied write would break that shape.
        newest = found[0]
        assert newest >= first
        assert found == sorted(found, reverse=True)
        assert set(found) <= {newest, newest - 1}
        print(
            f"killed after generation {newest}: {found.count(newest)} of {COMMUNITIES}"
            " communities already rewritten"
        )
        first = newest + 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
async def test_console_stops_on_signal_and_closes_the_database(
    tmp_path: Path, signum: signal.Signals
) -> None:
    # The console keeps its settings in a database only when one is configured.
    (tmp_path / "config.toml").write_text('[storage]\ndatabase = "safety-bot.sqlite3"\n')
    process = await asyncio.create_subprocess_exec(
        str(BIN),
        "run",
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k not in TOKENS},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(b"/setup region:GB\n")
    await process.stdin.drain()
    answered = b""
    while b"GB" not in answered:
        answered += await asyncio.wait_for(process.stdout.readline(), 30)
    process.send_signal(signum)  # the input stays open: the console must not wait for it
    returncode = await asyncio.wait_for(process.wait(), 30)
    process.stdin.close()
    stderr = await process.stderr.read() if process.stderr else b""
    assert returncode == 0, stderr.decode()
    assert f"stopping on signal {signum.name}" in stderr.decode()
    database = tmp_path / "safety-bot.sqlite3"
    assert leftovers(tmp_path) == []
    assert integrity(database) == "ok"
    async with await SqliteStore.open(database) as store:
        assert await store.get_settings(Community("console", "local")) == Settings("GB", None)
