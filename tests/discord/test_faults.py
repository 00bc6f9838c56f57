"""Discord's faults, through discord.py against the fake: rate limits and server errors on the
answer, dropped and invalidated gateway sessions, a slow core near the 3-second deadline, and
a thousand interactions through a mix of all of them. Every interaction is answered once."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from typing import Any

import discord
import pytest

from bots.app import TokenRejected
from bots.discord.app import DiscordBot
from shared.commands import Option
from shared.core import Core
from shared.models import Reply, Request
from tests.discord.conftest import TOKEN, running
from tests.discord.fake import APP_ID, DEFERRED, GUILD_ID, FakeDiscord
from tests.discord.test_interactions import PUBLIC, expected

REST_FAULTS = (429, 500, 502, 503)

pytestmark = pytest.mark.usefixtures("quick_identify")


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py waits a random delay, up to seconds, before connecting again; not here."""
    monkeypatch.setattr(discord.backoff.ExponentialBackoff, "delay", lambda self: 0.01)


async def ask(fake: FakeDiscord, name: str = "report", **options: str) -> dict[str, Any]:
    """Dispatch ``/name`` in the test server; the INTERACTION_CREATE payload."""
    payload = fake.interaction(name, options)
    await fake.dispatch("INTERACTION_CREATE", payload, GUILD_ID)
    return payload


def follow_up_path(payload: dict[str, Any]) -> str:
    return f"/webhooks/{APP_ID}/{payload['token']}"


async def answered(fake: FakeDiscord, *payloads: dict[str, Any]) -> None:
    await fake.wait_for(lambda: all(fake.answers[p["id"]] for p in payloads))


# -- REST: the answer meets a rate limit or a server error ----------------------------------


@pytest.mark.parametrize("step", ["callback", "follow-up"])
async def test_rate_limits_and_server_errors_on_the_answer_are_retried_and_answered_once(
    bot: DiscordBot, fake: FakeDiscord, core: Core, step: str
) -> None:
    """429 (after its retry_after), 500, 502, 503: discord.py sends the same answer again and
    the person gets it once. (A 429 on another route: test_errors.py.)"""
    if step == "follow-up":
        bot.defer_after = 0  # every answer is deferred, then sent as a follow-up
    payloads = [fake.interaction("report", {"region": "GB"}) for _ in REST_FAULTS]
    where = {}
    for payload, status in zip(payloads, REST_FAULTS, strict=True):
        where[payload["id"]] = (
            f"/interactions/{payload['id']}/" if step == "callback" else follow_up_path(payload)
        )
        fake.fail_plan[where[payload["id"]]] = [status]
        await fake.dispatch("INTERACTION_CREATE", payload, GUILD_ID)
    await answered(fake, *payloads)
    want = await expected(core, "report", {"region": "GB"})
    for payload in payloads:
        tries = fake.find("POST", contains=where[payload["id"]])
        assert len(tries) == 2, "one refused, one retried"
        assert tries[0].body == tries[1].body, "the retry is the same answer"
        if step == "callback":
            assert tries[1].body == want
        else:
            assert fake.acknowledged[payload["id"]] == DEFERRED
            assert tries[1].body["embeds"] == want["data"]["embeds"]
            assert tries[1].body["flags"] == 64
        assert fake.answers[payload["id"]] == 1
    assert fake.injected == Counter(REST_FAULTS)
    assert fake.duplicates == 0


async def test_a_second_callback_is_refused_as_discord_does(
    bot: DiscordBot, fake: FakeDiscord
) -> None:
    """The fake's own check: a duplicate answer would be seen (40060), not silently kept."""
    payload = await ask(fake)
    await answered(fake, payload)
    interaction = discord.Interaction(data=payload, state=bot.client._connection)
    with pytest.raises(discord.HTTPException) as refused:
        await interaction.response.send_message("again", ephemeral=True)
    assert refused.value.code == 40060
    assert (fake.duplicates, fake.answers[payload["id"]]) == (1, 1)


# -- the gateway: dropped, invalidated, refused ---------------------------------------------


async def test_a_dropped_connection_resumes_and_gets_what_it_missed(
    bot: DiscordBot, fake: FakeDiscord
) -> None:
    """Close 4000 (unknown error): RESUME with the session id and last sequence, even when the
    first reconnection is refused (502, then discord.py's backoff); missed events replay."""
    session = fake.sessions[0]
    seen = session.sequence
    fake.refuse_connections = 1
    await fake.drop(4000)
    missed = await ask(fake)  # dispatched while the bot is away
    await answered(fake, missed)
    assert fake.refused == 1
    assert session.resumed_from == [seen], "resumed from the last event it had"
    assert session.replayed == 1, "the interaction sent while away was replayed"
    after = await ask(fake, "about")
    await answered(fake, after)
    assert len(fake.sessions) == 1, "no new IDENTIFY"
    assert (fake.answers[missed["id"]], fake.answers[after["id"]]) == (1, 1)
    assert not bot.client.is_closed()


@pytest.mark.parametrize("how", ["invalid session", "close 4009"])
async def test_an_ended_session_identifies_again(
    bot: DiscordBot, fake: FakeDiscord, how: str
) -> None:
    """INVALID_SESSION (d false) makes discord.py IDENTIFY at once; after close 4009 (session
    timed out) it tries RESUME first, which Discord answers with INVALID_SESSION."""
    first = fake.sessions[0]
    await fake.invalidate(code=4009 if how == "close 4009" else None)
    await fake.wait_for(lambda: len(fake.sessions) == 2)
    second = fake.sessions[1]
    assert second.session_id != first.session_id
    assert second.identify["intents"] == first.identify["intents"]
    assert fake.invalid_resumes == (1 if how == "close 4009" else 0)
    payload = await ask(fake, "help-threatened")
    await answered(fake, payload)
    assert fake.answers[payload["id"]] == 1
    assert payload in [m["d"] for m in second.sent], "sent on the new session"
    assert not bot.client.is_closed()


async def test_a_gateway_down_at_start_is_waited_out(fake: FakeDiscord, core: Core) -> None:
    """The first connections refused (502): the bot tries again with backoff and serves, where
    discord.py alone would end the run with an AttributeError (Rapptz/discord.py#10520)."""
    fake.refuse_connections = 2
    async with running(DiscordBot(core, guild_ready_timeout=0.05)) as bot:
        payload = await ask(fake)
        await answered(fake, payload)
        assert not bot.client.is_closed()
    assert (fake.refused, fake.connections, len(fake.sessions)) == (2, 3, 1)


async def test_a_gateway_down_is_logged_in_one_line_per_try(
    fake: FakeDiscord, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    """Without ``--debug``, each failed try to reach the gateway is one line with its cause,
    not discord.py's traceback; with it, the traceback is kept."""
    fake.refuse_connections = 2
    caplog.set_level(logging.INFO)  # the root logger's level, as without --debug
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        pass
    tries = [r for r in caplog.records if r.name == "discord.client" and "reconnect" in r.msg]
    assert len(tries) == 2
    for record in tries:
        assert record.exc_info is None
        assert record.exc_text is None
        assert record.levelname == "WARNING"
        assert "(could not reach Discord: WSServerHandshakeError: 502" in record.getMessage()
    caplog.clear()
    fake.refuse_connections = 1
    caplog.set_level(logging.DEBUG)
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        pass
    [kept] = [r for r in caplog.records if r.name == "discord.client" and "reconnect" in r.msg]
    assert kept.exc_info is not None


async def test_a_refused_token_ends_the_run_with_an_error(fake: FakeDiscord, core: Core) -> None:
    """Close 4004 (authentication failed) cannot be retried: ``run`` raises an error naming
    the token's variable, with no reconnect loop."""
    fake.identify_close = 4004
    bot = DiscordBot(core, guild_ready_timeout=0.05)
    with pytest.raises(TokenRejected, match="DISCORD_TOKEN") as rejected:
        await asyncio.wait_for(bot.run(TOKEN), 10)
    assert isinstance(rejected.value.__cause__, discord.ConnectionClosed)
    assert rejected.value.__cause__.code == 4004
    assert fake.connections == 1, "no second try"
    assert not fake.sessions
    assert bot.client.is_closed()


# -- the 3-second deadline -------------------------------------------------------------------


async def test_a_slow_core_defers_first_then_answers_in_a_follow_up(
    bot: DiscordBot, fake: FakeDiscord, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the core is slow (a locked store), the bot acknowledges within the deadline with a
    private "thinking" defer; the answer follows once the core has it."""
    release = asyncio.Event()
    handle = core.handle

    async def slow(request: Request, platform: object = None) -> Reply:
        await release.wait()
        return await handle(request, platform)

    monkeypatch.setattr(core, "handle", slow)
    bot.defer_after = 0.05
    payload = await ask(fake, "image-shared", region="GB")
    deferred = await fake.wait_for(lambda: fake.find("POST", "/callback", payload["id"]))
    assert deferred[0].body == {"type": DEFERRED, "data": {"flags": 64}}
    assert not fake.answers[payload["id"]], "deferred before the core answered"
    release.set()
    await answered(fake, payload)
    follow_up = fake.find("POST", contains=follow_up_path(payload))[0].body
    monkeypatch.setattr(core, "handle", handle)
    want = await expected(core, "image-shared", {"region": "GB"})
    assert follow_up["embeds"] == want["data"]["embeds"]
    assert follow_up["flags"] == 64
    assert len(fake.find("POST", "/callback", payload["id"])) == 1
    assert fake.answers[payload["id"]] == 1


# -- everything at once ----------------------------------------------------------------------

MIX = 1000
FAULT_SHARE = 0.1
DROPS_AT = (300, 700)
SLOW = "privacy-tips"
"""The command whose core call is slow in the mix: always deferred, answered by follow-up."""


def mixed_options(core: Core, rng: random.Random, options: tuple[Option, ...]) -> dict[str, str]:
    values = {Option.REGION: sorted(core.content.regions), Option.AGE: ["under18", "adult"]}
    return {o.value: rng.choice(values[o]) for o in options if rng.random() < 0.5}


async def test_a_thousand_interactions_through_faults_are_each_answered_once(
    bot: DiscordBot, fake: FakeDiscord, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everyone-commands with random options, locales, servers and DMs; one in ten meets a 429
    or 5xx on its first callback, some slow ones on their follow-up too; the gateway drops
    twice. Every interaction gets exactly one answer and the bot keeps running."""
    rng = random.Random(8)
    handle = core.handle

    async def sometimes_slow(request: Request, platform: object = None) -> Reply:
        if request.command == SLOW:
            await asyncio.sleep(bot.defer_after * 2)
        return await handle(request, platform)

    monkeypatch.setattr(core, "handle", sometimes_slow)
    bot.defer_after = 0.5
    planned: Counter[int] = Counter()
    payloads = []
    session = fake.sessions[0]
    for index in range(MIX):
        command = rng.choice(PUBLIC)
        payload = fake.interaction(
            command.name,
            mixed_options(core, rng, command.options),
            locale=rng.choice(["en-US", "fr"]),
            guild_id=rng.choice([GUILD_ID, None]),
        )
        targets = []
        if rng.random() < FAULT_SHARE:
            targets.append(f"/interactions/{payload['id']}/")  # its answer, or its defer
        if command.name == SLOW and rng.random() < FAULT_SHARE * 3:
            targets.append(follow_up_path(payload))
        for target in targets:
            status = rng.choice(REST_FAULTS)
            fake.fail_plan[target] = [status]
            planned[status] += 1
        if index in DROPS_AT:
            back = DROPS_AT.index(index)  # each drop after the bot is back from the last
            await fake.wait_for(lambda back=back: len(session.resumed_from) == back)
            await fake.drop(4000)
        await fake.dispatch(
            "INTERACTION_CREATE", payload, GUILD_ID if "guild_id" in payload else None
        )
        payloads.append(payload)
    await fake.wait_for(lambda: len(fake.answers) == MIX, within=30)
    while invoking := [t for t in asyncio.all_tasks() if t.get_name() == "CommandTree-invoker"]:
        await asyncio.wait(invoking)  # every command finished: a duplicate would be in by now
    answers = Counter(fake.answers[p["id"]] for p in payloads)
    deferred = sum(kind == DEFERRED for kind in fake.acknowledged.values())
    print(
        f"\n{MIX} interactions; faults injected {dict(sorted(fake.injected.items()))}"
        f" + {len(DROPS_AT)} gateway closes 4000 ({session.replayed} events replayed);"
        f" answers per interaction {dict(answers)}; {deferred} deferred;"
        f" duplicates {fake.duplicates}"
    )
    assert answers == {1: MIX}, "every interaction answered, none twice"
    assert fake.duplicates == 0
    assert fake.injected == planned, "every planned fault happened"
    assert sum(planned.values()) >= MIX * FAULT_SHARE * 0.8
    assert fake.sessions == [session], "resumed every time"
    assert len(session.resumed_from) == len(DROPS_AT)
    assert deferred >= sum(p["data"]["name"] == SLOW for p in payloads)
    assert not bot.client.is_closed(), "the bot kept running"
