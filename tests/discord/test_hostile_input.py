"""Property tests for Discord: whatever option values arrive (text, mentions, markdown, other
types), no exception escapes and no reply can ping anyone: every payload says
``allowed_mentions: {"parse": []}``, has no content, and shows no raw ``@everyone``,
``@here``, user or role mention; every embed stays within Discord's limits.

Calls the adapter's pure steps (option_values, the core, the renderer), no network, so
`make test` stays fast; `make fuzz` runs them with the long profile.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.discord import limits, render
from bots.discord.commands import CHANNEL, option_values
from shared.commands import COMMANDS
from shared.core import Core
from shared.models import Community, Request
from tests.discord.fake import GUILD_ID

MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d+>")
"""What Discord would turn into a ping in message text."""
PINGS = ["@everyone", "@here", "<@800000000000000001>", "<@!800000000000000001>", "<@&6000001>"]
texts = st.one_of(
    st.sampled_from(["GB", "us", "fr", "adult", "under18", "report", *PINGS]),
    st.lists(st.sampled_from([*PINGS, "**", "`", "[x](https://example.org)", " "]), max_size=6).map(
        "".join
    ),
    st.text(max_size=120),
)
values = st.one_of(texts, st.integers(), st.none(), st.booleans(), st.builds(object))
options = st.dictionaries(
    st.sampled_from(["region", "age", "topic", "language", CHANNEL, "other"]), values, max_size=5
)
discord_locales = st.one_of(st.sampled_from(["en-US", "en-GB", "fr", "de", "pt-BR"]), st.text())


def assert_cannot_ping(data: dict[str, Any]) -> None:
    """No content, no mentions allowed, no raw mention in any embed text, within limits."""
    assert data["allowed_mentions"] == {"parse": []}
    assert not data.get("content")
    total = 0
    for embed in data["embeds"]:
        shown = [embed.get("title") or "", embed.get("description") or ""]
        shown.append((embed.get("footer") or {}).get("text") or "")
        for field in embed.get("fields", []):
            shown += [field["name"], field["value"]]
        for text in shown:
            assert not MENTION.search(text), text
        assert len(shown[0]) <= limits.EMBED_TITLE
        assert len(shown[1]) <= limits.EMBED_DESCRIPTION
        total += sum(map(len, shown))
    assert total <= limits.EMBED_TOTAL


@given(
    name=st.sampled_from([c.name for c in COMMANDS]),
    given_options=options,
    locale=discord_locales,
    in_server=st.booleans(),
    moderator=st.booleans(),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_option_values_never_ping(
    hostile_core: Core,
    name: str,
    given_options: dict[str, Any],
    locale: str,
    in_server: bool,
    moderator: bool,
) -> None:
    chosen = option_values(given_options)
    assert all(isinstance(value, str) for value in chosen.values())
    assert CHANNEL not in chosen
    request = Request(
        command=name,
        options=chosen,
        user_locale=locale,
        community=Community("discord", str(GUILD_ID)) if in_server else None,
        is_moderator=moderator,
        is_private_chat=not in_server,
    )
    reply = asyncio.run(hostile_core.handle(request))
    assert_cannot_ping(render.payload(reply)["data"])
    assert_cannot_ping(render.message(reply, ephemeral=False))
