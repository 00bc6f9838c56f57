"""Several processes, one Discord bot (issue 15): two real ``safety-bot run`` processes,
``shard_count = 2`` and ``shard_ids`` [0] and [1], on one PostgreSQL, against one fake
Discord. Every interaction, for servers of both shards, is answered exactly once, by the
process of its shard (each process's ``/metrics`` counts its own answers); a server the bot is
removed from loses its rows; ``kill -9`` of one process mid-answer leaves the other answering
its shard's servers, and the database whole."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from shared.content import default_content_path
from shared.models import Community, Settings
from shared.store.postgres import PostgresStore
from tests.command import Running, assert_stopped_cleanly, closed_port, environment, leaks, start
from tests.discord.conftest import TOKEN
from tests.discord.fake import MANAGE_GUILD, FakeDiscord, guild, guilds_on
from tests.scrape import samples

SHARDS = 2
PER_SHARD = 3


def shard_config(folder: Path, url: str, shard: int, listen: str) -> Path:
    """A ``config.toml`` for the process running ``shard`` of :data:`SHARDS`."""
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(
        f"[discord]\nshard_count = {SHARDS}\nshard_ids = [{shard}]\n"
        f"[storage]\nurl = {json.dumps(url)}\n"
        f"[content]\npath = {json.dumps(str(default_content_path()))}\n"
        f"[metrics]\nlisten = {json.dumps(listen)}\n"
    )
    return path


async def answered(listen: str) -> float:
    """Answers the process serving metrics on ``listen`` sent on Discord."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://{listen}/metrics") as response,
    ):
        text = await response.text()
    return sum(
        s.value
        for s in samples(text)
        if s.name == "safety_bot_answers_total" and s.labels["platform"] == "discord"
    )


async def test_two_processes_share_one_bot_by_shard(tmp_path: Path, postgres_url: str) -> None:
    guilds = {shard: guilds_on(shard, SHARDS, PER_SHARD) for shard in range(SHARDS)}
    fake = FakeDiscord([guild(g) for ids in guilds.values() for g in ids])
    await fake.start()
    env = environment(discord=TOKEN, discord_port=fake.port)
    listens = [f"127.0.0.1:{closed_port()}" for _ in range(SHARDS)]
    processes: list[Running] = []
    try:
        for shard in range(SHARDS):
            config = shard_config(tmp_path / f"p{shard}", postgres_url, shard, listens[shard])
            processes.append(
                await start("run", "--config", str(config), env=env, cwd=config.parent)
            )
        for shard, process in enumerate(processes):
            await process.wait_for(lambda s: f"ready in {PER_SHARD} servers" in s, within=60)
            assert f"Discord: shards {shard} of {SHARDS}" in process.stderr
        assert sorted(s.shard for s in fake.live()) == [(0, SHARDS), (1, SHARDS)]

        # Every interaction answered once, by the process of its server's shard.
        payloads = [
            fake.interaction("about", guild_id=g) for ids in guilds.values() for g in ids * 2
        ]
        for payload in payloads:
            await fake.dispatch("INTERACTION_CREATE", payload, int(payload["guild_id"]))
        ids = [p["id"] for p in payloads]
        await fake.wait_for(lambda: all(fake.answers[i] for i in ids), within=30)
        assert all(fake.answers[i] == 1 for i in ids)
        assert fake.duplicates == 0
        for payload in payloads:
            shard = fake.shard_of(int(payload["guild_id"]), SHARDS)
            assert fake.routed[payload["id"]] == (shard, SHARDS)
        assert [await answered(listen) for listen in listens] == [2 * PER_SHARD] * SHARDS

        # Settings saved in both shards' servers; one server removes the bot: its rows go.
        async with await PostgresStore.open(postgres_url) as store:
            for ids in guilds.values():
                for g in ids:
                    await store.save_settings(Community("discord", str(g)), Settings("GB"))
            removed = guilds[1][0]
            del fake.guilds[removed]
            await fake.dispatch("GUILD_DELETE", {"id": str(removed)}, removed)
            await processes[1].wait_for(lambda s: "removed from a server" in s)
            assert "removed from a server" not in processes[0].stderr
            assert await store.get_settings(Community("discord", str(removed))) is None
            kept = [g for ids in guilds.values() for g in ids if g != removed]
            for g in kept:
                assert await store.get_settings(Community("discord", str(g))) == Settings("GB")

        # kill -9 the first process while it answers a /setup (its answer held back).
        victim = guilds[0][0]
        setup = fake.interaction(
            "setup", {"region": "US"}, guild_id=victim, permissions=MANAGE_GUILD
        )
        fake.hold("POST", f"/interactions/{setup['id']}/")
        await fake.dispatch("INTERACTION_CREATE", setup, victim)
        await fake.wait_for(lambda: fake.find("POST", contains=f"/interactions/{setup['id']}/"))
        processes[0].process.kill()
        await processes[0].process.wait()
        await fake.wait_for(lambda: len(fake.live()) == 1)
        # The other process answers its shard's servers, reads and writes.
        for g in guilds[1][1:]:
            body = await fake.interact("about", guild_id=g)
            assert body["data"]["flags"] == 64
            await fake.interact("setup", {"region": "US"}, guild_id=g, permissions=MANAGE_GUILD)
        async with await PostgresStore.open(postgres_url) as store:
            assert await store.get_settings(Community("discord", str(victim))) in (
                Settings("GB"),
                Settings("US"),
            ), "the killed process's write is there or not, never half"
            for g in guilds[1][1:]:
                assert await store.get_settings(Community("discord", str(g))) == Settings("US")
            for g in guilds[0][1:]:
                assert await store.get_settings(Community("discord", str(g))) == Settings("GB")
            assert str(removed) not in await store.communities("discord")
    finally:
        for process in processes:
            process.stop()
        results = [await process.finished() for process in processes]
        await fake.stop()
    assert_stopped_cleanly(results[1], TOKEN)  # the survivor
    assert not leaks(results[0].output, TOKEN)
    assert fake.protocol_errors == []
