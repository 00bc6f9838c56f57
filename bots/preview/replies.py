"""Every reply the bot can give, rendered by the functions the bots send with, and measured
against each platform's limits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bots.console import render as console
from bots.discord import limits as discord_limits
from bots.discord import render as discord
from bots.preview.facts import Fact, resource_facts, shown_resources
from bots.telegram import limits as telegram_limits
from bots.telegram import render as telegram
from shared.commands import BY_NAME, TOPICS, Option
from shared.content import Content, Resource
from shared.core import Core
from shared.layout import FIRST_SCREEN, FIRST_STEP_WITHIN, body_text
from shared.models import Age, Reply

AGES: tuple[Age | None, ...] = (None, Age.UNDER18, Age.ADULT)
NO_AGE = "any"
"""File-name part of a reply where the person gave no age."""
BUDGETED_TOPIC = "help-threatened"
"""The topic a frightened person reads first, held to one screen."""
LANGUAGE_TAGS = {"fr": "fr-CA"}
"""BCP 47 tags of the content's locales where the code alone says less (messages/README.md:
French is Canadian French). Browsers and screen readers read ``lang`` to pick a voice."""


def language_tag(locale: str) -> str:
    """The ``lang`` attribute of text in ``locale``."""
    return LANGUAGE_TAGS.get(locale, locale)


@dataclass(frozen=True, slots=True)
class Combination:
    """What a person can ask for: a topic, in a language, for a region and an age group."""

    topic: str
    locale: str
    region: str
    age: Age | None

    @property
    def age_part(self) -> str:
        """The age as it appears in file names: ``under18``, ``adult`` or ``any``."""
        return self.age.value if self.age is not None else NO_AGE

    @property
    def path(self) -> str:
        """Where its page is, relative to the site's root."""
        return f"replies/{self.topic}/{self.locale}/{self.region}-{self.age_part}.html"

    def order(self) -> tuple[int, str, str, int]:
        """Sort key: topics in command order, then language, region and age group."""
        topic = TOPICS.index(self.topic) if self.topic in TOPICS else len(TOPICS)
        return (topic, self.locale, self.region, AGES.index(self.age))

    def ask_arguments(self) -> list[str]:
        """The ``safety-bot ask`` arguments that give the same reply."""
        arguments = [f"/{self.topic}", "--region", self.region, "--locale", self.locale]
        if self.age is not None:
            arguments += ["--age", self.age.value]
        return arguments


def takes_age(topic: str) -> bool:
    """Whether a person can narrow ``topic`` to an age group."""
    return Option.AGE in BY_NAME[topic].options


def combinations(content: Content) -> Iterator[Combination]:
    """Every reply a person can get: each topic in each language for each region (a
    community's setting, or the person's choice), and each age group where the topic takes
    one."""
    for topic in TOPICS:
        for locale in content.locales:
            for region in content.regions:
                for age in AGES if takes_age(topic) else (None,):
                    yield Combination(topic, locale, region, age)


@dataclass(frozen=True, slots=True)
class Limit:
    """One measure of a reply against a limit: ``used`` must not exceed ``limit``."""

    what: str
    used: int
    limit: int
    unit: str = "characters"

    @property
    def over(self) -> bool:
        """Whether the reply breaks this limit (the platform would cut or refuse it)."""
        return self.used > self.limit


@dataclass(frozen=True, slots=True)
class DiscordView:
    """The interaction callback body Discord gets, and its measures."""

    payload: dict[str, Any]
    limits: list[Limit]

    @property
    def embed(self) -> dict[str, Any]:
        """The one embed of the message."""
        embed: dict[str, Any] = self.payload["data"]["embeds"][0]
        return embed

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Link buttons, in order, across the action rows."""
        rows = self.payload["data"].get("components", [])
        return [button for row in rows for button in row["components"]]

    @property
    def ephemeral(self) -> bool:
        """Whether only the person who asked sees the message."""
        return bool(self.payload["data"].get("flags", 0) & discord.EPHEMERAL)

    @property
    def colour(self) -> str:
        """The embed's colour bar as CSS."""
        return f"#{self.embed.get('color', 0):06x}"


@dataclass(frozen=True, slots=True)
class TelegramView:
    """The messages the bot sends on Telegram (the keyboard goes with the last), and their
    measures."""

    messages: list[str]
    keyboard: list[list[dict[str, str]]]
    limits: list[Limit]


@dataclass(frozen=True, slots=True)
class ShownResource:
    """A resource the reply shows, with its name in the reply's language and its facts."""

    resource: Resource
    name: str
    facts: list[Fact]


@dataclass(frozen=True, slots=True)
class ReplyView:
    """One reply as every platform shows it, with what a reviewer checks beside it."""

    combination: Combination
    reply: Reply
    discord: DiscordView
    telegram: TelegramView
    console: str
    resources: list[ShownResource]
    budget: list[Limit] = field(default_factory=list)
    """The first-screen budget, for the topic held to one screen; empty for the others."""

    @property
    def lang(self) -> str:
        """The reply's ``lang`` attribute."""
        return language_tag(self.reply.locale)

    @property
    def over(self) -> list[tuple[str, Limit]]:
        """Every limit this reply breaks, with the platform it breaks it on."""
        measures = [("Discord", m) for m in self.discord.limits]
        measures += [("Telegram", m) for m in self.telegram.limits]
        measures += [("First screen", m) for m in self.budget]
        return [(where, m) for where, m in measures if m.over]


def reply_view(core: Core, combination: Combination, today: date) -> ReplyView:
    """The reply for ``combination`` as Discord, Telegram and the console show it."""
    c = combination
    reply = core.advice(c.topic, c.locale, c.region, c.age)
    return ReplyView(
        combination=c,
        reply=reply,
        discord=DiscordView(discord.payload(reply), _discord_limits(reply)),
        telegram=TelegramView(
            telegram.messages(reply), telegram.keyboard(reply), _telegram_limits(reply)
        ),
        console=console.text(reply),
        resources=[
            ShownResource(
                resource,
                core.content.resource_text(resource, c.locale).name,
                resource_facts(core, resource, c.locale, today),
            )
            for resource in shown_resources(core.content, reply)
        ],
        budget=_budget(reply) if c.topic == BUDGETED_TOPIC else [],
    )


def _discord_limits(reply: Reply) -> list[Limit]:
    # Measured before the renderer's safety-net cut, so text that outgrew a limit shows.
    title = discord.escape(reply.title)
    description = discord.description(reply)
    footer = discord.footer(reply)
    labels = [len(b.label) for b in reply.buttons]
    return [
        Limit("Title", len(title), discord_limits.EMBED_TITLE),
        Limit("Description", len(description), discord_limits.EMBED_DESCRIPTION),
        Limit("Footer", len(footer), discord_limits.EMBED_FOOTER),
        Limit(
            "Embed in all",
            len(title) + len(description) + len(footer),
            discord_limits.EMBED_TOTAL,
        ),
        Limit(
            "Link buttons",
            len(reply.buttons),
            discord_limits.BUTTONS_PER_ROW * discord_limits.ACTION_ROWS,
            "buttons",
        ),
        Limit("Longest button label", max(labels, default=0), discord_limits.BUTTON_LABEL),
    ]


def _telegram_limits(reply: Reply) -> list[Limit]:
    rows = telegram.keyboard(reply)
    data = [len(b["callback_data"].encode()) for row in rows for b in row if "callback_data" in b]
    return [
        Limit(
            "Message text",
            telegram_limits.visible_length(telegram.text(reply)),
            telegram_limits.MESSAGE_TEXT,
            "characters (UTF-16)",
        ),
        Limit(
            "Keyboard buttons",
            sum(len(row) for row in rows),
            telegram_limits.KEYBOARD_BUTTONS,
            "buttons",
        ),
        Limit(
            "Widest keyboard row",
            max((len(row) for row in rows), default=0),
            telegram_limits.BUTTONS_PER_ROW,
            "buttons",
        ),
        Limit(
            "Longest callback data",
            max(data, default=0),
            telegram_limits.CALLBACK_DATA_BYTES,
            "bytes",
        ),
    ]


def _budget(reply: Reply) -> list[Limit]:
    body = body_text(reply)
    first_step = body.find("1. ")
    return [
        Limit("Body (summary, steps, resources)", len(body), FIRST_SCREEN),
        Limit(
            "First step begins at character",
            (first_step if first_step >= 0 else len(body)) + 1,
            FIRST_STEP_WITHIN,
            "",
        ),
    ]
