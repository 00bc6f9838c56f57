"""Several processes, one Discord bot: one burst of interactions across the servers of two
shards, answered by one ``safety-bot run`` process running both shards, then by two processes
running one shard each (``[discord] shard_count = 2``, ``shard_ids`` [0] and [1]).

The bots are the real command, started as an operator would (:mod:`tests.command`), against
one fake Discord in this process; they share one store: a PostgreSQL database when one is
given (what a fleet uses), else one SQLite file. The figure is the burst's interactions over
the seconds from its first dispatch to its last answer, once every interaction has been
answered exactly once (a duplicate or a missing answer fails the run).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from benchmarks.e2e import FIRST_USER
from shared.content import default_content_path
from tests.command import Running, environment, start
from tests.discord.conftest import TOKEN
from tests.discord.fake import PERSON, FakeDiscord, guild, guilds_on

SHARDS = 2
SERVERS_PER_SHARD = 8
LAYOUTS = {"1 process": [[0, 1]], "2 processes": [[0], [1]]}
"""The shards each process runs, per layout."""
READY_WITHIN = 60.0
ANSWERED_WITHIN = 120.0


def _config(folder: Path, shard_ids: list[int], store: str) -> Path:
    storage = (
        f"url = {json.dumps(store)}"
        if store.startswith("postgresql://")
        else f"database = {json.dumps(store)}"
    )
    path = folder / f"shards-{'-'.join(map(str, shard_ids))}.toml"
    path.write_text(
        f"[discord]\nshard_count = {SHARDS}\nshard_ids = {json.dumps(shard_ids)}\n"
        f"[storage]\n{storage}\n"
        f"[content]\npath = {json.dumps(str(default_content_path()))}\n"
        # The burst is many people at once; the cooldown is per person, each is new.
        '[logging]\nlevel = "WARNING"\n'
    )
    return path


@contextlib.asynccontextmanager
async def _fleet(
    fake: FakeDiscord, folder: Path, layout: list[list[int]], store: str
) -> AsyncIterator[list[Running]]:
    """The processes of ``layout``, each connected and ready, for the block."""
    env = environment(discord=TOKEN, discord_port=fake.port)
    running: list[Running] = []
    try:
        for shard_ids in layout:
            config = _config(folder, shard_ids, store)
            running.append(await start("run", "--config", str(config), env=env, cwd=folder))
        await fake.wait_for(lambda: len(fake.live()) == SHARDS, within=READY_WITHIN)
        await fake.wait_for(_all_ready(fake), within=READY_WITHIN)
        yield running
    finally:
        for process in running:
            process.stop()
        for process in running:
            await process.finished()


def _all_ready(fake: FakeDiscord) -> Callable[[], bool]:
    """Whether every live session has been sent all of its servers (READY, GUILD_CREATEs)."""

    def ready() -> bool:
        for session in fake.live():
            shard, count = session.shard
            mine = sum(1 for g in fake.guilds if fake.shard_of(g, count) == shard)
            created = sum(1 for m in session.sent if m["t"] == "GUILD_CREATE")
            if created < mine:
                return False
        return True

    return ready


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user and system, Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def burst(
    fake: FakeDiscord, interactions: int, first_user: int, bots: list[Running]
) -> dict[str, Any]:
    """Dispatch ``interactions`` /help-threatened, one per new person, round-robin over the
    servers (so over both shards); wait for every answer."""
    servers = sorted(fake.guilds)
    payloads = []
    for index in range(interactions):
        person = {**PERSON, "id": str(first_user + index)}
        guild_id = servers[index % len(servers)]
        payloads.append(fake.interaction("help-threatened", guild_id=guild_id, person=person))
    ids = [p["id"] for p in payloads]
    pids = [bot.process.pid for bot in bots]
    bots_cpu = [cpu_seconds(pid) for pid in pids]
    started, cpu = time.perf_counter(), time.process_time()
    for payload in payloads:
        await fake.dispatch("INTERACTION_CREATE", payload, int(payload["guild_id"]))
    await fake.wait_for(lambda: all(fake.answers[i] for i in ids), within=ANSWERED_WITHIN)
    seconds = time.perf_counter() - started
    fake_cpu = (time.process_time() - cpu) / seconds
    bots_cpu = [
        (cpu_seconds(pid) - before) / seconds for pid, before in zip(pids, bots_cpu, strict=True)
    ]
    wrong = sum(1 for i in ids if fake.answers[i] != 1) + fake.duplicates
    if wrong or fake.protocol_errors:
        raise AssertionError(
            f"{wrong} interactions not answered exactly once; {fake.protocol_errors}"
        )
    by_shard = [0] * SHARDS
    for i in ids:
        by_shard[fake.routed[i][0]] += 1
    return {
        "interactions": interactions,
        "seconds": seconds,
        "interactions_per_second": interactions / seconds,
        "per_shard": by_shard,
        # The fake's CPU time over the burst's seconds: near 100 %, the fake (one process,
        # one core) is what limits the figure, not the bots.
        "fake_cpu": fake_cpu,
        "bots_cpu": bots_cpu,
    }


async def fleet_run(
    folder: Path, interactions: int, database_url: Callable[[], str] | None
) -> dict[str, dict[str, Any]]:
    """One burst per layout (:data:`LAYOUTS`), each on a fresh fake and a fresh store."""
    found: dict[str, dict[str, Any]] = {}
    first_user = FIRST_USER
    for name, layout in LAYOUTS.items():
        servers = [
            g for shard in range(SHARDS) for g in guilds_on(shard, SHARDS, SERVERS_PER_SHARD)
        ]
        fake = FakeDiscord([guild(g) for g in servers])
        await fake.start()
        sub = folder / name.replace(" ", "-")
        sub.mkdir()
        store = database_url() if database_url else str(sub / "fleet.sqlite3")
        try:
            async with _fleet(fake, sub, layout, store) as bots:
                # A warm-up burst: every server's settings cached, every code path loaded.
                await burst(fake, len(servers) * 4, first_user, bots)
                first_user += len(servers) * 4
                found[name] = await burst(fake, interactions, first_user, bots)
                first_user += interactions
        finally:
            await fake.stop()
        found[name]["store"] = "postgresql" if database_url else "sqlite"
    return found
