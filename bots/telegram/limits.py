"""Telegram's platform limits, as constants the renderer, the handlers and the tests share.

From the Bot API documentation (sendMessage, InlineKeyboardButton, BotCommand, deep linking);
the tests check every topic in every locale and region against these, so content can never
outgrow them. Keyboard sizes are not in the Bot API documentation: they are the limits
python-telegram-bot records (``telegram.constants.InlineKeyboardMarkupLimit``).
"""

from __future__ import annotations

import html
import re

MESSAGE_TEXT = 4096
"""Characters of a message's text after entity parsing (what the person sees)."""
CALLBACK_DATA_BYTES = 64
"""Callback data of an inline button: 1-64 bytes."""
DEEP_LINK_PAYLOAD = 64
"""``https://t.me/<bot>?start=<payload>``: at most 64 characters of ``A-Za-z0-9_-``."""
DEEP_LINK_CHARS = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
"""BotCommand.command: 1-32 lowercase English letters, digits and underscores."""
COMMAND_DESCRIPTION = 256
"""BotCommand.description: 1-256 characters."""
COMMANDS_PER_LIST = 100
"""At most 100 commands in one ``setMyCommands`` list."""
BUTTONS_PER_ROW = 8
KEYBOARD_BUTTONS = 100
LINK_SCHEMES = ("https://", "http://", "tg://")
"""URL buttons open HTTP(S) or tg:// links only: never tel: or sms:."""
HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
"""Tags HTML parse mode accepts; anything else is an error (no br, p or ul)."""
MESSAGES_PER_SECOND = 30
"""Telegram's flood limit for a whole bot: about 30 messages a second (20 a minute per group)."""
ROOM_FOR_ANSWERS = 5
"""Messages of every second that background calls (pinned-post edits) leave to answers: they
wait while the last second's messages were more than the rest (as ``[pins]
edits_per_second`` is at most 25 on Telegram)."""
BACKGROUND = "background"
"""``rate_limit_args`` marking a call nobody is waiting for (see ``RetryingRateLimiter``)."""

_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)(?:\s[^>]*)?>")


def strip_tags(text: str) -> str:
    """HTML-mode text without its tags (entities still escaped)."""
    return _TAG.sub("", text)


def visible_length(text: str) -> int:
    """Length of HTML-mode text as Telegram counts it: tags removed, entities decoded, in
    UTF-16 code units (Telegram's unit for lengths and offsets; never fewer than characters)."""
    plain = html.unescape(strip_tags(text))
    return len(plain.encode("utf-16-le")) // 2


def tags(text: str) -> set[str]:
    """Names of the HTML tags used in ``text``."""
    return {match.group(1).lower() for match in _TAG.finditer(text)}


def valid_button_url(url: str) -> bool:
    """Whether an inline keyboard button may open ``url``."""
    return url.startswith(LINK_SCHEMES) and len(url) > len("https://")


def valid_callback_data(data: str) -> bool:
    """Callback data is 1-64 bytes of UTF-8."""
    return 1 <= len(data.encode()) <= CALLBACK_DATA_BYTES
