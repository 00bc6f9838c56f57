"""Command registration: built from the core's table, localized, within Discord's limits,
conformant to Discord's spec, and synced only when the definition changed."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bots.discord import limits
from bots.discord.app import META_KEY, DiscordBot, sync_commands
from bots.discord.commands import ContentTranslator, definition, definition_hash
from bots.discord.platform import DiscordConfig
from shared.commands import COMMANDS, TOPICS, Audience, Option
from shared.core import Core
from tests.discord import spec
from tests.discord.conftest import TOKEN, running
from tests.discord.fake import APP_ID, FakeDiscord

MANAGE_GUILD = 1 << 5
PIN_MESSAGES = 1 << 51


async def registration(core: Core) -> list[dict[str, Any]]:
    """What the bot sends to Discord for its commands, without any network."""
    bot = DiscordBot(core)
    await bot.tree.set_translator(ContentTranslator(core))
    return await definition(bot.tree)


@pytest.fixture
async def commands(core: Core) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in await registration(core)}


def options_of(command: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in command["options"]}


async def test_every_command_of_the_core_is_registered(commands: dict[str, Any]) -> None:
    assert list(commands) == [c.name for c in COMMANDS]
    for command in COMMANDS:
        registered = options_of(commands[command.name])
        assert [o for o in registered if o != "channel"] == [o.value for o in command.options]


async def test_descriptions_and_names_come_from_the_content_in_english_and_french(
    commands: dict[str, Any], core: Core
) -> None:
    for name, command in commands.items():
        assert command["description"] == core.command_description("en", name)
        french = core.command_description("fr", name)
        if french != command["description"]:
            assert command["description_localizations"]["fr"] == french
        assert command["name_localizations"] == {}, "command names are the same everywhere"
    region = options_of(commands["help-threatened"])["region"]
    assert region["description"] == core.text("en", "option_region_help")
    assert region["description_localizations"].get("fr", region["description"]) == core.text(
        "fr", "option_region_help"
    )
    french_name = core.text("fr", "option_region").lower()
    if french_name != "region" and limits.valid_command_name(french_name):
        assert region["name_localizations"]["fr"] == french_name


async def test_choices_for_region_age_topic_and_language(
    commands: dict[str, Any], core: Core
) -> None:
    report = options_of(commands["report"])
    regions = report["region"]["choices"]
    assert [c["value"] for c in regions] == list(core.content.regions)
    gb = core.content.region("GB")
    assert next(c for c in regions if c["value"] == "GB")["name"] == gb.names["en"]
    ages = report["age"]["choices"]
    assert [c["value"] for c in ages] == ["under18", "adult"]
    assert [c["name"] for c in ages] == [
        core.text("en", "age_under18"),
        core.text("en", "age_adult"),
    ]
    for choice, key in zip(ages, ("age_under18", "age_adult"), strict=True):
        assert choice["name_localizations"].get("fr", choice["name"]) == core.text("fr", key)
    topics = options_of(commands["pin-advice"])["topic"]["choices"]
    assert [c["value"] for c in topics] == list(TOPICS)
    languages = options_of(commands["setup"])["language"]["choices"]
    assert [c["value"] for c in languages] == list(core.content.locales)


async def test_options_are_never_required_except_what_to_pin(commands: dict[str, Any]) -> None:
    for name, command in commands.items():
        for option in command["options"]:
            required = (name, option["name"]) == ("pin-advice", "topic")
            assert bool(option.get("required")) is required, (name, option["name"])
    channel = options_of(commands["pin-advice"])["channel"]
    assert channel["type"] == 7
    assert channel["channel_types"] == [0, 5]


async def test_everyone_can_use_advice_anywhere_moderators_only_in_servers(
    commands: dict[str, Any],
) -> None:
    for command in COMMANDS:
        registered = commands[command.name]
        if command.audience is Audience.EVERYONE:
            assert registered["contexts"] == [0, 1, 2], "servers, DMs with the bot, group DMs"
            assert registered["integration_types"] == [0, 1], "server and user installs"
            assert registered["default_member_permissions"] is None
        else:
            assert registered["contexts"] == [0]
            assert registered["integration_types"] == [0]
    assert commands["setup"]["default_member_permissions"] == MANAGE_GUILD
    assert commands["pin-advice"]["default_member_permissions"] == PIN_MESSAGES
    assert commands["unpin-advice"]["default_member_permissions"] == PIN_MESSAGES


def localized(item: dict[str, Any], key: str) -> list[str]:
    return [item[key], *(item.get(f"{key}_localizations") or {}).values()]


async def test_every_command_is_within_discords_limits_in_every_locale(
    commands: dict[str, Any], core: Core
) -> None:
    assert len(commands) <= limits.GLOBAL_COMMANDS
    for name, command in commands.items():
        for text in localized(command, "name"):
            assert limits.valid_command_name(text), text
        for text in localized(command, "description"):
            assert 1 <= len(text) <= limits.COMMAND_DESCRIPTION, (name, text)
        # The untruncated text from the content fits too (fit() is only a safety net).
        for locale in core.content.locales:
            assert len(core.command_description(locale, name)) <= limits.COMMAND_DESCRIPTION
        assert len(command["options"]) <= limits.COMMAND_OPTIONS
        total = max(map(len, localized(command, "name"))) + max(
            map(len, localized(command, "description"))
        )
        for option in command["options"]:
            for text in localized(option, "name"):
                assert limits.valid_command_name(text), (name, text)
            for text in localized(option, "description"):
                assert 1 <= len(text) <= limits.COMMAND_DESCRIPTION, (name, text)
            total += max(map(len, localized(option, "name")))
            total += max(map(len, localized(option, "description")))
            choices = option.get("choices") or []
            assert len(choices) <= limits.OPTION_CHOICES
            for choice in choices:
                for text in localized(choice, "name"):
                    assert 1 <= len(text) <= limits.CHOICE_NAME, (name, text)
                assert 1 <= len(choice["value"]) <= limits.CHOICE_VALUE
                total += max(map(len, localized(choice, "name"))) + len(choice["value"])
        assert total <= limits.COMMAND_TOTAL, name


def test_the_command_name_rule() -> None:
    for good in ("help-threatened", "région", "âge", "for_parents", "o'clock", "q1"):
        assert limits.valid_command_name(good)
    for bad in ("", "Help", "two words", "x" * 33, "slash/", "emoji🙂"):
        assert not limits.valid_command_name(bad)


async def test_registration_conforms_to_discords_spec(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    spec.require_spec()
    sent = fake.find("PUT", f"/applications/{APP_ID}/commands")
    assert len(sent) == 1
    assert sent[0].body == await registration(core)
    spec.assert_commands(sent[0].body)
    for command in sent[0].body:
        spec.assert_valid(command, {"$ref": "#/components/schemas/ApplicationCommandUpdateRequest"})


async def test_commands_are_synced_only_when_their_definition_changed(
    fake: FakeDiscord, core: Core
) -> None:
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        pass
    assert fake.sync_count == 1
    key = META_KEY.format(application_id=APP_ID)
    assert await core.store.get_meta(key) == definition_hash(await registration(core))  # type: ignore[union-attr]

    for _ in range(2):  # restarts with the same definition
        async with running(DiscordBot(core, guild_ready_timeout=0.05)):
            pass
    assert fake.sync_count == 1

    # A new default language changes every description: synced once more.
    changed = Core(core.content, core.store, dataclasses.replace(core.config, default_locale="fr"))
    async with running(DiscordBot(changed, guild_ready_timeout=0.05)):
        pass
    assert fake.sync_count == 2
    sent = fake.find("PUT", "/commands")[-1].body
    assert sent[0]["description"] == core.command_description("fr", sent[0]["name"])


async def test_sync_commands_syncs_even_when_unchanged(fake: FakeDiscord, core: Core) -> None:
    core = Core(
        core.content,
        core.store,
        dataclasses.replace(
            core.config, platforms={**core.config.platforms, "discord": DiscordConfig(token=TOKEN)}
        ),
    )
    assert await sync_commands(core) == len(COMMANDS)
    assert await sync_commands(core) == len(COMMANDS)
    assert fake.sync_count == 2
    assert not fake.sessions, "syncing needs no gateway connection"


async def test_a_failed_sync_is_retried_on_the_next_start(fake: FakeDiscord, core: Core) -> None:
    fake.fail_next[("PUT", "/commands")] = 403
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        pass
    key = META_KEY.format(application_id=APP_ID)
    assert await core.store.get_meta(key) is None  # type: ignore[union-attr]
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        pass
    assert fake.sync_count == 1
    assert len(fake.find("PUT", "/commands")) == 2


def test_every_option_of_the_table_has_a_discord_form() -> None:
    assert {o for c in COMMANDS for o in c.options} <= set(Option)
