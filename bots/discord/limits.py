"""Discord's platform limits, as constants the renderer and the tests share.

From Discord's documentation (embeds, components, application commands); the tests check
every topic in every locale and region against these, so content can never outgrow them.
"""

from __future__ import annotations

import unicodedata

EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_TOTAL = 6000
"""Characters across title, description, fields, footer and author of all embeds of a message."""
EMBEDS_PER_MESSAGE = 10
MESSAGE_CONTENT = 2000

BUTTONS_PER_ROW = 5
ACTION_ROWS = 5
BUTTON_LABEL = 80
BUTTON_URL = 512
LINK_SCHEMES = ("https://", "http://", "discord://")

COMMAND_NAME = 32
COMMAND_DESCRIPTION = 100
COMMAND_OPTIONS = 25
OPTION_CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100
COMMAND_TOTAL = 8000
"""Name + description + option names, descriptions and choices of one command, counting the
longest localization of each."""
GLOBAL_COMMANDS = 100

ELLIPSIS = "…"


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis; a safety net, never the plan."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def valid_command_name(name: str) -> bool:
    """Discord's rule for command and option names: ``^[-_'\\p{L}\\p{N}]{1,32}$``, lowercase.

    Letters must be lowercase where the script has case (``name.lower() == name``).
    """
    if not 1 <= len(name) <= COMMAND_NAME or name != name.lower():
        return False
    return all(c in "-_'" or unicodedata.category(c)[0] in "LN" for c in name)


def embed_length(embed: dict[str, object]) -> int:
    """Characters of an embed dict that count towards :data:`EMBED_TOTAL`."""
    total = len(str(embed.get("title") or "")) + len(str(embed.get("description") or ""))
    footer = embed.get("footer")
    if isinstance(footer, dict):
        total += len(str(footer.get("text") or ""))
    author = embed.get("author")
    if isinstance(author, dict):
        total += len(str(author.get("name") or ""))
    fields = embed.get("fields")
    if isinstance(fields, list):
        for field in fields:
            total += len(str(field.get("name") or "")) + len(str(field.get("value") or ""))
    return total
