"""A core Reply as Telegram shows it: HTML text, inline keyboards, deep links, callback data.

Pure functions, no network: the handlers send what :func:`payload` builds, and
``safety-bot ask --platform telegram --json`` prints it. Every string that comes from content
or from a person is escaped; the only markup is the bold title and headings and the italic
sources line.
"""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any, NamedTuple

from bots.telegram import limits
from shared.commands import canonical_name
from shared.layout import body_text, sources_text
from shared.models import Reply, ReplyKind

PLACEHOLDER_CHAT_ID = 0
"""``chat_id`` in payloads printed by ``safety-bot ask``, which has no chat: the bot puts the
private chat's id there (a person's private chat id equals their user id)."""
PARSE_MODE = "HTML"
SELECTED = "✓ "
"""Marks the region or age group the advice is showing."""
REGIONS_PER_ROW = 4
_NO_AGE = "-"
_NARROW = "n"


def escape(text: str) -> str:
    """Text made safe for HTML parse mode (``<``, ``>``, ``&``; quotes need no escaping
    outside attributes, and stay readable)."""
    return html.escape(text, quote=False)


def telegram_name(name: str) -> str:
    """A command's name as Telegram allows it: only lowercase letters, digits and ``_``."""
    return name.replace("-", "_")


def command(name: str) -> str:
    """A command as typed on Telegram: ``/help_threatened``."""
    return "/" + telegram_name(name)


def _bold(text: str) -> str:
    return f"<b>{text}</b>"


# Replies are immutable and the core reuses them, so their HTML is rendered once, not per
# command.
@lru_cache(maxsize=2048)
def text(reply: Reply) -> str:
    """The reply as HTML parse-mode text."""
    title = escape(reply.title)
    body = body_text(reply, escape=escape, heading=_bold, command=command)
    parts = [_bold(title) if body or reply.kind is ReplyKind.ADVICE else title]
    if body:
        parts.append(body)
    footer = sources_text(reply)
    if footer:
        parts.append(f"<i>{escape(footer)}</i>")
    return "\n\n".join(parts)


def messages(reply: Reply) -> list[str]:
    """The reply as one message, or, if content ever outgrew Telegram's limit, several.

    A safety net: the tests keep every topic in one message. Splits fall between blocks
    (paragraphs, sections), then between lines; each piece is valid HTML on its own.
    """
    return list(_messages(reply))


@lru_cache(maxsize=2048)
def _messages(reply: Reply) -> tuple[str, ...]:
    whole = text(reply)
    if limits.visible_length(whole) <= limits.MESSAGE_TEXT:
        return (whole,)
    return tuple(
        _pack([part for block in whole.split("\n\n") for part in _fit_block(block)], "\n\n")
    )


def _pack(parts: list[str], separator: str) -> list[str]:
    """Join consecutive parts with ``separator`` into as few messages as fit."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        joined = f"{current}{separator}{part}" if current else part
        if limits.visible_length(joined) <= limits.MESSAGE_TEXT:
            current = joined
        else:
            pieces.append(current)
            current = part
    if current:
        pieces.append(current)
    return [piece for piece in pieces if piece]


def _fit_block(block: str) -> list[str]:
    """A block cut into pieces that each fit in a message (by lines, then by characters)."""
    if limits.visible_length(block) <= limits.MESSAGE_TEXT:
        return [block]
    lines: list[str] = []
    for line in block.split("\n"):
        if limits.visible_length(line) > limits.MESSAGE_TEXT:
            # One line longer than a message: keep its words, drop its markup.
            plain = html.unescape(limits.strip_tags(line))
            step = limits.MESSAGE_TEXT // 2
            lines.extend(escape(plain[i : i + step]) for i in range(0, len(plain), step))
        else:
            lines.append(line)
    return _pack(lines, "\n")


# -- buttons ------------------------------------------------------------------------------


class Narrow(NamedTuple):
    """What a narrowing button asks for; values are as typed in the data, checked by the core."""

    topic: str
    region: str
    age: str | None
    locale: str


def narrow_data(topic: str, region: str, age: str | None, locale: str) -> str:
    """Callback data of a narrowing button: ``n:<topic>:<REGION>:<age or ->:<locale>``.

    Everything needed to rebuild the advice travels in the button; nothing is stored.
    """
    return ":".join((_NARROW, topic, region, age or _NO_AGE, locale))


def parse_narrow(data: str) -> Narrow | None:
    """The request in a narrowing button's data; None for anything else."""
    parts = data.split(":")
    if len(parts) != 5 or parts[0] != _NARROW:
        return None
    _, topic, region, age, locale = parts
    return Narrow(topic, region, None if age == _NO_AGE else age, locale)


def keyboard(reply: Reply) -> list[list[dict[str, str]]]:
    """Inline keyboard rows: one link button per row, then region and age choices.

    Choices appear only on advice in a private chat: pressing one edits that message, which
    in a group would change it for everyone.
    """
    rows = [[{"text": b.label, "url": b.url}] for b in reply.buttons]
    if reply.kind is not ReplyKind.ADVICE or not reply.private or reply.topic is None:
        return rows
    topic = reply.topic
    age = reply.age.value if reply.age is not None else None
    if len(reply.regions) > 1:
        buttons = [
            {
                "text": (SELECTED if code == reply.region else "") + code,
                "callback_data": narrow_data(topic, code, age, reply.locale),
            }
            for code in reply.regions
        ]
        rows += [buttons[i : i + REGIONS_PER_ROW] for i in range(0, len(buttons), REGIONS_PER_ROW)]
    if reply.ages:
        row = []
        for choice, label in reply.ages:
            chosen = reply.age is choice
            # Pressing the chosen age again shows both age groups again.
            wanted = None if chosen else choice.value
            row.append(
                {
                    "text": (SELECTED if chosen else "") + label,
                    "callback_data": narrow_data(topic, reply.region, wanted, reply.locale),
                }
            )
        rows.append(row)
    return rows


def reply_markup(rows: list[list[dict[str, str]]]) -> dict[str, Any] | None:
    """An InlineKeyboardMarkup, or None when there are no buttons."""
    return {"inline_keyboard": rows} if rows else None


def payload(reply: Reply, chat_id: int | str = PLACEHOLDER_CHAT_ID) -> dict[str, Any]:
    """The exact ``sendMessage`` body the bot sends for ``reply`` (its first message)."""
    return message_payload(chat_id, messages(reply)[0], keyboard(reply))


def message_payload(
    chat_id: int | str, html_text: str, rows: list[list[dict[str, str]]]
) -> dict[str, Any]:
    """A ``sendMessage`` body: HTML text without link previews, and the keyboard if any."""
    body: dict[str, Any] = {
        "chat_id": chat_id,
        "text": html_text,
        "parse_mode": PARSE_MODE,
        "link_preview_options": {"is_disabled": True},
    }
    markup = reply_markup(rows)
    if markup is not None:
        body["reply_markup"] = markup
    return body


# -- deep links ---------------------------------------------------------------------------


class Start(NamedTuple):
    """What a ``/start`` deep-link payload asks for."""

    command: str
    region: str | None
    language: str | None


def start_payload(name: str, region: str | None = None, language: str | None = None) -> str:
    """``help_threatened-GB-fr``: the command, and the group's region and language if any.

    The private chat has no group, so the group's choices travel in the link.
    """
    parts = [telegram_name(name)]
    if region:
        parts.append(region)
        if language:
            parts.append(language)
    return "-".join(parts)[: limits.DEEP_LINK_PAYLOAD]


def parse_start(payload: str) -> Start:
    """The parts of a ``/start`` payload (unchecked: the core validates them).

    A payload typed by hand with the hyphenated name (``help-threatened-GB``) works too.
    """
    parts = payload.split("-")
    if len(parts) > 1 and canonical_name("-".join(parts[:2])) is not None:
        parts = ["-".join(parts[:2]), *parts[2:]]
    region = parts[1] if len(parts) > 1 and parts[1] else None
    language = parts[2] if len(parts) > 2 and parts[2] else None
    return Start(parts[0], region, language)


def deep_link(bot_username: str, payload: str) -> str:
    """``https://t.me/<bot>?start=<payload>``: opens the private chat and sends ``/start``."""
    return f"https://t.me/{bot_username}?start={payload}"
