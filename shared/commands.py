"""The command table: one definition of every command, read by every adapter.

Names are canonical with hyphens (``help-threatened``); a platform that allows no hyphen writes
them its own way (Telegram: ``help_threatened``). Descriptions are content, per locale, in
``messages/locales/*.toml`` under ``[commands]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Audience(StrEnum):
    """Who may use a command."""

    EVERYONE = "everyone"
    MODERATORS = "moderators"


class Option(StrEnum):
    """Options a command can take; every one is optional."""

    REGION = "region"
    AGE = "age"
    TOPIC = "topic"
    LANGUAGE = "language"


@dataclass(frozen=True, slots=True)
class Command:
    """One command: its name, the topic it answers (if any), who may use it and its options."""

    name: str
    audience: Audience = Audience.EVERYONE
    topic: str | None = None
    options: tuple[Option, ...] = ()


_ADVICE_OPTIONS = (Option.REGION, Option.AGE)

COMMANDS: tuple[Command, ...] = (
    Command("help-threatened", topic="help-threatened", options=_ADVICE_OPTIONS),
    Command("image-shared", topic="image-shared", options=_ADVICE_OPTIONS),
    Command("privacy-tips", topic="privacy-tips"),
    Command("report", topic="report", options=_ADVICE_OPTIONS),
    Command("resources", topic="resources", options=_ADVICE_OPTIONS),
    Command("for-parents", topic="for-parents", options=(Option.REGION,)),
    Command("about", topic="about"),
    Command("help"),
    Command("setup", Audience.MODERATORS, options=(Option.REGION, Option.LANGUAGE)),
    Command("pin-advice", Audience.MODERATORS, options=(Option.TOPIC,)),
    Command("unpin-advice", Audience.MODERATORS, options=(Option.TOPIC,)),
    Command("pinned", Audience.MODERATORS),
)

BY_NAME: dict[str, Command] = {command.name: command for command in COMMANDS}

TOPICS: tuple[str, ...] = tuple(c.topic for c in COMMANDS if c.topic is not None)


def canonical_name(typed: str) -> str | None:
    """Map what a person typed (``/Help_Threatened``, ``help-threatened@bot``) to a command name."""
    name = typed.strip().lstrip("/").split("@", 1)[0].lower().replace("_", "-")
    return name if name in BY_NAME else None
