"""Every person-facing command, through discord.py's gateway and HTTP code, against the fake.

Each answer must be the core's reply rendered by ``bots.discord.render`` (so ``safety-bot ask
--platform discord --json`` prints exactly what is sent), ephemeral, with no mentions.
"""

from __future__ import annotations

from typing import Any

import pytest

from bots.discord import render
from bots.discord.app import DiscordBot
from shared.commands import COMMANDS, Audience, Option
from shared.core import Core
from shared.models import Community, Request, Settings
from tests.discord import spec
from tests.discord.fake import GUILD_ID, MANAGE_GUILD, FakeDiscord

PUBLIC = [c for c in COMMANDS if c.audience is Audience.EVERYONE]
SERVER = Community("discord", str(GUILD_ID))
LOCALES = ("en-US", "fr")


async def expected(
    core: Core,
    name: str,
    options: dict[str, str] | None = None,
    *,
    locale: str = "en-US",
    community: Community | None = SERVER,
) -> dict[str, Any]:
    """What the bot must send: the core's reply to the same request, rendered."""
    request = Request(
        command=name,
        options=options or {},
        user_locale=locale,
        community=community,
        is_private_chat=community is None,
    )
    return render.payload(await core.handle(request))


def reply_of(core: Core, topic: str, locale: str, region: str, age: Any = None) -> Any:
    return core.advice(topic, locale, region, age)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("command", [c.name for c in PUBLIC])
async def test_every_command_answers_privately_without_options(
    bot: DiscordBot, fake: FakeDiscord, core: Core, command: str, locale: str
) -> None:
    body = await fake.interact(command, locale=locale)
    assert body == await expected(core, command, locale=locale)
    assert body["type"] == 4
    assert body["data"]["flags"] == 64, "answers to a person are ephemeral"
    assert body["data"]["allowed_mentions"] == {"parse": []}
    assert len(body["data"]["embeds"]) == 1


async def test_advice_embed_has_title_numbered_steps_sources_and_link_buttons(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    body = await fake.interact("help-threatened")
    reply = core.advice("help-threatened", "en", core.config.default_region, None)
    embed = body["data"]["embeds"][0]
    assert embed["title"] == render.escape(reply.title)
    assert "1. " in embed["description"]
    assert "2. " in embed["description"]
    assert embed["footer"]["text"].startswith(reply.sources_label + ": ")
    buttons = [b for row in body["data"]["components"] for b in row["components"]]
    assert [b["url"] for b in buttons] == [b.url for b in reply.buttons]
    assert all(b["type"] == 2 and b["style"] == 5 for b in buttons)
    assert all(len(row["components"]) <= 5 for row in body["data"]["components"])


@pytest.mark.parametrize("command", [c.name for c in PUBLIC if Option.REGION in c.options])
async def test_every_region_choice(
    bot: DiscordBot, fake: FakeDiscord, core: Core, command: str
) -> None:
    for region in core.content.regions:
        body = await fake.interact(command, {"region": region})
        assert body == await expected(core, command, {"region": region})
        topic = next(c.topic for c in COMMANDS if c.name == command)
        assert body == render.payload(reply_of(core, topic, "en", region))


@pytest.mark.parametrize("command", [c.name for c in PUBLIC if Option.AGE in c.options])
async def test_every_age_choice_alone_and_with_a_region(
    bot: DiscordBot, fake: FakeDiscord, core: Core, command: str
) -> None:
    for age in ("under18", "adult"):
        for options in ({"age": age}, {"age": age, "region": "GB"}):
            body = await fake.interact(command, options)
            assert body == await expected(core, command, options)
    under = await fake.interact(command, {"age": "under18"})
    everyone = await fake.interact(command)
    assert under != everyone, "choosing an age changes the tools shown"


async def test_region_is_the_servers_unless_the_person_chose_one(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    default = core.config.default_region
    body = await fake.interact("report")
    assert body == render.payload(reply_of(core, "report", "en", default))
    await core.save_settings(SERVER, Settings(region="GB"))
    body = await fake.interact("report")
    assert body == render.payload(reply_of(core, "report", "en", "GB"))
    body = await fake.interact("report", {"region": "AU"})
    assert body == render.payload(reply_of(core, "report", "en", "AU"))


async def test_language_is_the_persons_else_the_servers_else_english(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    region = core.config.default_region
    french = render.payload(reply_of(core, "image-shared", "fr", region))
    english = render.payload(reply_of(core, "image-shared", "en", region))
    assert french != english
    assert await fake.interact("image-shared", locale="fr") == french
    assert await fake.interact("image-shared", locale="en-GB") == english
    # A language the content does not have: the server's setting, else English.
    assert await fake.interact("image-shared", locale="de") == english
    await core.save_settings(SERVER, Settings(language="fr"))
    assert await fake.interact("image-shared", locale="de") == french
    assert await fake.interact("image-shared", locale="en-US") == english


async def test_direct_messages_work_with_the_default_region(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    await core.save_settings(SERVER, Settings(region="GB", language="fr"))
    for locale in LOCALES:
        body = await fake.interact("help-threatened", guild_id=None, locale=locale)
        assert body == await expected(core, "help-threatened", locale=locale, community=None)
        assert body["data"]["flags"] == 64
        default = core.config.default_region
        language = "fr" if locale == "fr" else "en"
        assert body == render.payload(reply_of(core, "help-threatened", language, default))


async def test_user_installed_app_in_a_server_without_the_bot(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    """The person installed the app; the server never added the bot: nothing of the server's
    settings applies, and the answer is still private."""
    await core.save_settings(SERVER, Settings(region="GB"))
    body = await fake.interact("report", installed_in_guild=False)
    assert body == render.payload(reply_of(core, "report", "en", core.config.default_region))
    assert body["data"]["flags"] == 64
    body = await fake.interact("report", {"region": "NZ"}, installed_in_guild=False)
    assert body == render.payload(reply_of(core, "report", "en", "NZ"))


async def test_every_callback_body_conforms_to_discords_spec(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    spec.require_spec()
    for command in PUBLIC:
        for locale in LOCALES:
            options: dict[str, str] = {}
            if Option.REGION in command.options:
                options["region"] = "US"
            if Option.AGE in command.options:
                options["age"] = "adult"
            spec.assert_callback(await fake.interact(command.name, locale=locale))
            spec.assert_callback(await fake.interact(command.name, options, locale=locale))


async def test_the_cooldown_counts_each_person_privately(fake: FakeDiscord, core: Core) -> None:
    import dataclasses

    from tests.discord.conftest import running

    strict = dataclasses.replace(core.config, cooldown_commands=2, cooldown_seconds=60)
    limited = Core(core.content, core.store, strict)
    async with running(DiscordBot(limited, guild_ready_timeout=0.05)):
        await fake.interact_deferred("unpin-advice", permissions=1 << 51)
        await fake.interact("setup", permissions=MANAGE_GUILD)
        body = await fake.interact("setup", permissions=MANAGE_GUILD)
        # Advice only the person sees does not count against the cooldown.
        advice = [await fake.interact("report") for _ in range(3)]
    assert all(
        a["data"]["embeds"][0]["title"] == advice[0]["data"]["embeds"][0]["title"] for a in advice
    )
    assert body["data"]["flags"] == 64
    waiting = body["data"]["embeds"][0]["description"]
    before, after = limited.text("en", "cooldown", seconds="\0").split("\0")
    assert waiting.startswith(render.escape(before))
    assert waiting.endswith(render.escape(after))
