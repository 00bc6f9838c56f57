"""Moderator commands: /setup, /pin-advice, /unpin-advice, allowed and refused at run time."""

from __future__ import annotations

from typing import Any

import pytest

from bots.discord import render
from bots.discord.app import DiscordBot
from shared.core import Core
from shared.models import Community, Settings
from tests.discord import spec
from tests.discord.fake import (
    BOT_NEEDS,
    CHANNEL_ID,
    EMBED_LINKS,
    GUILD_ID,
    MANAGE_GUILD,
    OTHER_CHANNEL_ID,
    PIN_MESSAGES,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeDiscord,
)

SERVER = Community("discord", str(GUILD_ID))
MEMBER = VIEW_CHANNEL | SEND_MESSAGES
ADMINISTRATOR = 1 << 3
MANAGE_MESSAGES = 1 << 13
BITS = {
    "view_channel": VIEW_CHANNEL,
    "send_messages": SEND_MESSAGES,
    "embed_links": EMBED_LINKS,
    "pin_messages": PIN_MESSAGES,
}


def notice(core: Core, locale: str, key: str, **values: str) -> str:
    return render.escape(core.text(locale, key, **values))


def said(body: dict[str, Any]) -> str:
    """The text of a one-embed answer (a notice has it as the description)."""
    embed = body["embeds"][0] if "embeds" in body else body["data"]["embeds"][0]
    return str(embed.get("description") or embed.get("title"))


# -- /setup ------------------------------------------------------------------------------


async def test_setup_saves_region_and_language_for_a_moderator(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    body = await fake.interact(
        "setup", {"region": "GB", "language": "fr"}, permissions=MEMBER | MANAGE_GUILD
    )
    assert body["data"]["flags"] == 64
    assert said(body) == notice(core, "en", "setup_saved", region="GB", language="fr")
    assert await core.store.get_settings(SERVER) == Settings("GB", "fr")  # type: ignore[union-attr]
    spec.require_spec()
    spec.assert_callback(body)


async def test_setup_without_options_shows_the_current_settings(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    body = await fake.interact("setup", permissions=ADMINISTRATOR)
    shown = notice(core, "en", "setup_current", region=core.config.default_region, language="en")
    assert said(body) == shown


@pytest.mark.parametrize("permissions", [MEMBER, MEMBER | MANAGE_MESSAGES | PIN_MESSAGES])
async def test_setup_is_refused_without_manage_server(
    bot: DiscordBot, fake: FakeDiscord, core: Core, permissions: int
) -> None:
    """default_member_permissions only hides a command; the check at run time counts."""
    body = await fake.interact("setup", {"region": "GB"}, permissions=permissions)
    assert body["data"]["flags"] == 64
    assert said(body) == notice(core, "en", "refused_moderator", command="setup")
    assert await core.store.get_settings(SERVER) is None  # type: ignore[union-attr]


async def test_setup_is_refused_in_direct_messages(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    body = await fake.interact("setup", {"region": "GB"}, guild_id=None)
    assert said(body) == notice(core, "en", "refused_private", command="setup")


# -- /pin-advice -----------------------------------------------------------------------------


async def pin(fake: FakeDiscord, options: dict[str, Any], **kw: Any) -> tuple[Any, Any]:
    kw.setdefault("permissions", MEMBER | PIN_MESSAGES)
    return await fake.interact_deferred("pin-advice", options, **kw)


async def test_pin_advice_posts_pins_and_records_the_topic(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    await core.save_settings(SERVER, Settings(region="GB", language="fr"))
    callback, followup = await pin(fake, {"topic": "report"})
    # Answered at once (deferred, privately), then the confirmation in the person's language.
    assert callback == {"type": 5, "data": {"flags": 64}}
    assert said(followup) == notice(core, "en", "pin_done")
    assert followup["flags"] == 64

    posted = fake.find("POST", f"/channels/{CHANNEL_ID}/messages")
    assert len(posted) == 1
    post = core.community_post("report", Settings("GB", "fr"))
    assert (post.locale, post.region) == ("fr", "GB"), "a post uses the server's settings"
    assert posted[0].body["embeds"] == [render.embed(post).to_dict()]
    assert posted[0].body["components"] == render.components(post)
    assert posted[0].body["allowed_mentions"] == {"parse": []}
    assert "flags" not in posted[0].body or not posted[0].body["flags"] & 64

    message_id = fake.requests[fake.requests.index(posted[0]) + 1].path.rsplit("/", 1)[-1]
    assert fake.find("PUT", f"/channels/{CHANNEL_ID}/messages/pins/{message_id}")
    pins = await core.store.pins(SERVER)  # type: ignore[union-attr]
    assert [(p.channel_id, p.message_id, p.topic) for p in pins] == [
        (str(CHANNEL_ID), message_id, "report")
    ]
    assert pins[0].content_version == core.content_version(post)

    spec.require_spec()
    spec.assert_callback(callback)
    spec.assert_message(posted[0].body)
    spec.assert_followup(followup)


async def test_pin_advice_in_another_channel_checks_the_bots_rights_there(
    fake: FakeDiscord, core: Core
) -> None:
    from tests.discord.conftest import running
    from tests.discord.fake import guild, text_channel

    fake.guilds[GUILD_ID] = guild(
        channels=[
            text_channel(CHANNEL_ID, GUILD_ID, "general"),
            text_channel(OTHER_CHANNEL_ID, GUILD_ID, "rules", deny=SEND_MESSAGES),
        ]
    )
    async with running(DiscordBot(core, guild_ready_timeout=0.05)):
        chosen = {"topic": "resources", "channel": OTHER_CHANNEL_ID}
        granted = {OTHER_CHANNEL_ID: MEMBER | PIN_MESSAGES}
        callback, followup = await pin(fake, chosen, resolved_channels=granted)
        assert followup is None
        assert said(callback) == notice(
            core, "en", "pin_missing_right", right=core.text("en", "permission_send_messages")
        )
        assert not fake.find("POST", "/messages")

        # The person may pin here but not in the channel they chose.
        refused = {OTHER_CHANNEL_ID: MEMBER}
        callback, _ = await pin(fake, chosen, resolved_channels=refused)
        assert said(callback) == notice(core, "en", "refused_moderator", command="pin-advice")


async def test_pin_advice_in_another_channel_posts_there(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    chosen = {"topic": "privacy-tips", "channel": OTHER_CHANNEL_ID}
    granted = {OTHER_CHANNEL_ID: MEMBER | PIN_MESSAGES}
    _, followup = await pin(fake, chosen, resolved_channels=granted, permissions=MEMBER)
    assert said(followup) == notice(core, "en", "pin_done")
    assert fake.find("POST", f"/channels/{OTHER_CHANNEL_ID}/messages")
    assert fake.find("PUT", contains=f"/channels/{OTHER_CHANNEL_ID}/messages/pins/")
    pins = await core.store.pins(SERVER)  # type: ignore[union-attr]
    assert [(p.channel_id, p.topic) for p in pins] == [(str(OTHER_CHANNEL_ID), "privacy-tips")]


@pytest.mark.parametrize("lacking", list(BITS))
async def test_pin_advice_names_exactly_the_missing_bot_permission(
    bot: DiscordBot, fake: FakeDiscord, core: Core, lacking: str
) -> None:
    for locale, language in (("en-US", "en"), ("fr", "fr")):
        callback, followup = await pin(
            fake, {"topic": "report"}, app_permissions=BOT_NEEDS & ~BITS[lacking], locale=locale
        )
        assert followup is None
        assert callback["data"]["flags"] == 64
        right = core.text(language, f"permission_{lacking}")
        assert said(callback) == notice(core, language, "pin_missing_right", right=right)
    assert not fake.find("POST", "/messages")
    assert not fake.find("PUT", contains="/pins/")


async def test_pin_advice_names_every_missing_permission_but_not_implied_ones(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    def names(*keys: str) -> str:
        return ", ".join(core.text("en", f"permission_{key}") for key in keys)

    callback, _ = await pin(fake, {"topic": "report"}, app_permissions=EMBED_LINKS)
    # Without View Channel, Discord denies everything else in the channel: name the cause.
    assert said(callback) == notice(core, "en", "pin_missing_right", right=names("view_channel"))
    callback, _ = await pin(fake, {"topic": "report"}, app_permissions=VIEW_CHANNEL)
    # Without Send Messages, Embed Links is denied too: name what to grant.
    right = names("send_messages", "pin_messages")
    assert said(callback) == notice(core, "en", "pin_missing_right", right=right)


async def test_a_pin_refused_by_discord_removes_the_post_and_names_the_right(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    """Discord refuses the pin after the post went up (the bot's rights changed, or its cache
    was behind): the post is deleted, nothing is recorded, and the moderator is told which
    right is missing, as on Telegram; no post is left behind unpinned and unknown."""
    fake.fail_next[("PUT", "")] = 403
    callback, followup = await pin(fake, {"topic": "report"})
    assert callback["type"] == 5
    right = core.text("en", "permission_pin_messages")
    assert said(followup) == notice(core, "en", "pin_missing_right", right=right)
    assert followup["flags"] == 64
    [posted] = fake.find("POST", f"/channels/{CHANNEL_ID}/messages")
    message_id = next(iter(fake.posts))
    assert posted.body["embeds"], "it was posted"
    assert fake.find("DELETE", f"/channels/{CHANNEL_ID}/messages/{message_id}")
    assert await core.store.pins(SERVER) == []  # type: ignore[union-attr]


async def test_a_post_refused_by_discord_names_the_right(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    fake.fail_next[("POST", f"/channels/{CHANNEL_ID}/messages")] = 403
    _, followup = await pin(fake, {"topic": "report"})
    right = core.text("en", "permission_send_messages")
    assert said(followup) == notice(core, "en", "pin_missing_right", right=right)
    assert not fake.find("PUT", contains="/pins/")
    assert await core.store.pins(SERVER) == []  # type: ignore[union-attr]


@pytest.mark.parametrize("permissions", [MEMBER, MEMBER | MANAGE_MESSAGES | MANAGE_GUILD])
async def test_pin_advice_is_refused_without_pin_messages(
    bot: DiscordBot, fake: FakeDiscord, core: Core, permissions: int
) -> None:
    callback, followup = await pin(fake, {"topic": "report"}, permissions=permissions)
    assert followup is None
    assert said(callback) == notice(core, "en", "refused_moderator", command="pin-advice")
    assert not fake.find("POST", "/messages")
    assert await core.store.pins(SERVER) == []  # type: ignore[union-attr]


async def test_pin_advice_for_every_topic_in_both_languages(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    from shared.commands import TOPICS

    for language in ("en", "fr"):
        await core.save_settings(SERVER, Settings(language=language))
        for topic in TOPICS:
            _, followup = await pin(fake, {"topic": topic})
            assert said(followup) == notice(core, "en", "pin_done")
            post = core.community_post(topic, Settings(language=language))
            body = fake.find("POST", f"/channels/{CHANNEL_ID}/messages")[-1].body
            assert body["embeds"] == [render.embed(post).to_dict()]
    assert len(await core.store.pins(SERVER)) == 2 * len(TOPICS)  # type: ignore[union-attr]


# -- /unpin-advice ---------------------------------------------------------------------------


async def test_unpin_advice_unpins_and_forgets_one_topic_or_all(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    for topic in ("report", "resources", "report"):
        await pin(fake, {"topic": topic})
    moderator = MEMBER | PIN_MESSAGES
    _, followup = await fake.interact_deferred(
        "unpin-advice", {"topic": "report"}, permissions=moderator
    )
    assert said(followup) == notice(core, "en", "unpin_done")
    assert len(fake.find("DELETE", contains="/pins/")) == 2
    assert [p.topic for p in await core.store.pins(SERVER)] == ["resources"]  # type: ignore[union-attr]

    _, followup = await fake.interact_deferred("unpin-advice", permissions=moderator)
    assert said(followup) == notice(core, "en", "unpin_done")
    assert len(fake.find("DELETE", contains="/pins/")) == 3
    assert await core.store.pins(SERVER) == []  # type: ignore[union-attr]

    _, followup = await fake.interact_deferred("unpin-advice", permissions=moderator)
    assert said(followup) == notice(core, "en", "unpin_none")


async def test_unpin_advice_when_the_post_is_gone(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    await pin(fake, {"topic": "report"})
    fake.fail_next[("DELETE", "")] = 404
    _, followup = await fake.interact_deferred(
        "unpin-advice", {"topic": "report"}, permissions=MEMBER | PIN_MESSAGES
    )
    assert said(followup) == notice(core, "en", "unpin_done")
    assert await core.store.pins(SERVER) == []  # type: ignore[union-attr]


async def test_unpin_advice_is_refused_without_pin_messages(
    bot: DiscordBot, fake: FakeDiscord, core: Core
) -> None:
    await pin(fake, {"topic": "report"})
    body = await fake.interact("unpin-advice", permissions=MEMBER | MANAGE_MESSAGES)
    assert said(body) == notice(core, "en", "refused_moderator", command="unpin-advice")
    assert body["data"]["flags"] == 64
    assert not fake.find("DELETE")
    assert len(await core.store.pins(SERVER)) == 1  # type: ignore[union-attr]
