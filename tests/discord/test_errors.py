"""When something breaks: a short private apology, a log without people in it."""

from __future__ import annotations

import logging

import pytest

from bots.discord import render
from bots.discord.app import DiscordBot
from shared.core import Core
from shared.models import Request
from tests.discord import spec
from tests.discord.conftest import TOKEN
from tests.discord.fake import CHANNEL_ID, GUILD_ID, PIN_MESSAGES, USER_ID, FakeDiscord

SECRET_OPTION = "region-typed-by-a-person"


async def test_an_exception_in_a_command_gets_a_private_apology_and_a_clean_log(
    bot: DiscordBot,
    fake: FakeDiscord,
    core: Core,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: Request, platform: object = None) -> None:
        raise RuntimeError("the store exploded")

    monkeypatch.setattr(core, "handle", broken)
    caplog.set_level(logging.INFO)
    for locale, language in (("en-US", "en"), ("fr", "fr")):
        body = await fake.interact("report", {"region": SECRET_OPTION}, locale=locale)
        assert body == render.payload(core.error_reply(language))
        assert body["data"]["flags"] == 64
    assert "/report failed: RuntimeError" in caplog.text
    assert "the store exploded" in caplog.text, "the error itself is logged"
    for private in (str(USER_ID), SECRET_OPTION, TOKEN, "interaction-token"):
        assert private not in caplog.text, private
    spec.require_spec()
    spec.assert_callback(body)


async def test_an_exception_after_deferring_is_apologised_for_in_the_follow_up(
    bot: DiscordBot, fake: FakeDiscord, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    # The pin fails after the checks passed and the post went up, with an error that is no
    # refusal (a refusal names the missing right: tests/discord/test_moderation.py).
    fake.fail_next[("PUT", "")] = 404
    callback, followup = await fake.interact_deferred(
        "pin-advice", {"topic": "report"}, permissions=PIN_MESSAGES
    )
    assert callback["type"] == 5
    assert followup["embeds"] == render.message(core.error_reply("en"), ephemeral=True)["embeds"]
    assert followup["flags"] == 64
    assert "/pin-advice failed: NotFound" in caplog.text
    assert str(USER_ID) not in caplog.text
    [posted] = fake.posts
    assert fake.find("DELETE", f"/channels/{CHANNEL_ID}/messages/{posted}"), "no orphan post"


async def test_rate_limits_are_left_to_discord_py(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    """A 429 is waited out and retried by the library; the bot adds nothing of its own."""
    fake.fail_next[("POST", f"/channels/{CHANNEL_ID}/messages")] = 429
    _, followup = await fake.interact_deferred(
        "pin-advice", {"topic": "report"}, permissions=PIN_MESSAGES
    )
    assert len(fake.find("POST", f"/channels/{CHANNEL_ID}/messages")) == 2
    assert followup["embeds"][0]["description"] == render.escape(core.text("en", "pin_done"))


async def test_nothing_about_people_is_logged_even_at_debug(
    fake: FakeDiscord, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    """discord.py logs whole events at DEBUG; the adapter keeps its loggers above that."""
    from tests.discord.conftest import running

    caplog.set_level(logging.DEBUG)
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        await fake.interact("report", {"region": "GB"})
        await fake.interact("setup", {"region": "GB"}, permissions=1 << 5)
    assert caplog.text, "the bot does log"
    for private in (str(USER_ID), TOKEN, "interaction-token", f'"guild_id": "{GUILD_ID}"'):
        assert private not in caplog.text, private
