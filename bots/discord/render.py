"""A core :class:`Reply` as Discord shows it: one embed and rows of link buttons.

Pure functions, no network and no event loop: the adapter sends :func:`embed` and
:func:`buttons` through discord.py, and ``safety-bot ask --platform discord --json`` prints
:func:`payload`, the exact interaction callback body discord.py sends for them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import discord

from bots.discord import limits
from shared.layout import body_text, sources_text
from shared.models import Reply, ReplyKind

# Calm colours; the words carry the meaning, colour only tells advice from notices.
COLOURS = {
    ReplyKind.ADVICE: 0x3B82F6,
    ReplyKind.NOTICE: 0x64748B,
    ReplyKind.REFUSAL: 0xD97706,
    ReplyKind.ERROR: 0x64748B,
}
EPHEMERAL = 1 << 6
CHANNEL_MESSAGE = 4
"""Interaction callback type: reply with a message."""
NO_MENTIONS: dict[str, Any] = {"parse": []}
# The "@" of @everyone, @here and <@id>, <@!id>, <@&id> (discord.py's escape_mentions only
# knows ids of 17-20 digits); a zero-width space after it breaks the mention.
_MENTION = re.compile(r"@(?=everyone|here|[!&]?\d)")


def escape(text: str) -> str:
    """Dynamic text shown literally: Discord markdown characters escaped, and mentions
    (``@everyone``, ``<@id>``, ``<@&id>``) broken, so text a person typed never reads as a
    ping."""
    return _MENTION.sub("@\u200b", discord.utils.escape_markdown(text))


def _bold(text: str) -> str:
    return f"**{text}**"


# Replies are immutable and the core reuses them, so their text is rendered once, not per
# command (escaping was the largest cost of an answer in a profile of make bench).
@lru_cache(maxsize=2048)
def description(reply: Reply) -> str:
    """The embed description: notice, summary, numbered steps, sections and closing."""
    return body_text(reply, escape=escape, heading=_bold)


@lru_cache(maxsize=2048)
def footer(reply: Reply) -> str:
    """``Sources: host, host`` (footers show no markdown, so nothing is escaped)."""
    return sources_text(reply)


def embed(reply: Reply) -> discord.Embed:
    """The reply as one embed, within Discord's limits.

    A reply with a body has the title as embed title; a short notice (title only) becomes the
    description, which allows more characters and reads as a sentence.
    """
    body = description(reply)
    title: str | None = limits.fit(escape(reply.title), limits.EMBED_TITLE)
    if not body:
        body, title = escape(reply.title), None
    foot = limits.fit(footer(reply), limits.EMBED_FOOTER)
    room = limits.EMBED_TOTAL - len(title or "") - len(foot)
    result = discord.Embed(
        title=title,
        description=limits.fit(body, min(limits.EMBED_DESCRIPTION, room)),
        colour=COLOURS[reply.kind],
    )
    if foot:
        result.set_footer(text=foot)
    return result


def buttons(reply: Reply) -> list[discord.ui.Button[Any]]:
    """Link buttons for the reply's resources, five to a row, at most five rows.

    Only web links become buttons (platforms refuse tel: and sms:); phone numbers stay in the
    text.
    """
    result: list[discord.ui.Button[Any]] = []
    for button in reply.buttons:
        if len(result) == limits.BUTTONS_PER_ROW * limits.ACTION_ROWS:
            break
        if not button.url.startswith(limits.LINK_SCHEMES) or len(button.url) > limits.BUTTON_URL:
            continue
        result.append(
            discord.ui.Button(
                label=limits.fit(button.label, limits.BUTTON_LABEL),
                url=button.url,
                row=len(result) // limits.BUTTONS_PER_ROW,
            )
        )
    return result


def components(reply: Reply) -> list[dict[str, Any]]:
    """The action rows of :func:`buttons`, as discord.py serialises them."""
    rows: list[dict[str, Any]] = []
    for index, button in enumerate(buttons(reply)):
        if index % limits.BUTTONS_PER_ROW == 0:
            rows.append({"type": 1, "components": []})
        rows[-1]["components"].append(button.to_component_dict())
    return rows


def message(reply: Reply, *, ephemeral: bool) -> dict[str, Any]:
    """The message discord.py sends for this reply as an interaction response."""
    data: dict[str, Any] = {"tts": False, "content": None, "embeds": [embed(reply).to_dict()]}
    rows = components(reply)
    if rows:
        data["components"] = rows
    if ephemeral:
        data["flags"] = EPHEMERAL
    data["allowed_mentions"] = NO_MENTIONS
    return data


def payload(reply: Reply) -> dict[str, Any]:
    """The exact interaction callback body for this reply: a message, ephemeral if private."""
    return {"type": CHANNEL_MESSAGE, "data": message(reply, ephemeral=reply.private)}


def text(reply: Reply) -> str:
    """The reply roughly as Discord shows it, for reading in a terminal."""
    shown = embed(reply)
    parts = [f"**{shown.title}**"] if shown.title else []
    if shown.description:
        parts.append(shown.description)
    if reply.buttons:
        parts.append("  ".join(f"[{b.label}]({b.url})" for b in buttons(reply)))
    if shown.footer.text:
        parts.append(shown.footer.text)
    return "\n\n".join(parts)
