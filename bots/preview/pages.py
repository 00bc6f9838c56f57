"""The preview site's pages: Jinja2 templates (autoescaped) rendered with what each page shows
and the helpers the templates call (labels, links between replies)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from bots.preview.facts import AGE_WORDS, Fact, resource_facts
from bots.preview.markup import discord_markdown, telegram_html
from bots.preview.replies import (
    AGES,
    Combination,
    ShownResource,
    language_tag,
    takes_age,
)
from bots.telegram.render import parse_narrow
from shared.commands import BY_NAME, COMMANDS, TOPICS, Option
from shared.content import ROOT_LOCALE, Region, Resource, ResourceText
from shared.layout import FIRST_SCREEN, FIRST_STEP_WITHIN
from shared.models import Age

if TYPE_CHECKING:
    from bots.preview.site import Site

_URL = re.compile(r"https://[^\s;,)]+")
_KIND_WORDS = {
    "emergency": "emergency",
    "report": "reporting",
    "remove": "removing images",
    "support": "support",
}
_AGE_SHORT = {None: "any", Age.UNDER18: "<18", Age.ADULT: "18+"}


def _link(url: str, text: str | None = None, css: str | None = None) -> Markup:
    """A link that leaves the site: https only; anything else shows as text, flagged."""
    shown = url if text is None else text
    if not url.startswith("https://"):
        return Markup('<span class="flag">{} (not an https link: {})</span>').format(shown, url)
    if css:
        return Markup('<a class="{}" href="{}">{}</a>').format(css, url, shown)
    return Markup('<a href="{}">{}</a>').format(url, shown)


def _linkify(text: str) -> Markup:
    """Text with its https URLs as links; everything else escaped."""
    parts: list[str] = []
    at = 0
    for match in _URL.finditer(text):
        parts += [escape(text[at : match.start()]), _link(match.group())]
        at = match.end()
    parts.append(escape(text[at:]))
    return Markup("").join(parts)


def environment() -> Environment:
    """The Jinja2 environment of the site's templates: every value is escaped unless it is
    markup this package built itself."""
    env = Environment(
        loader=PackageLoader("bots.preview"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        discord=discord_markdown,
        telegram=telegram_html,
        link=_link,
        linkify=_linkify,
        number=lambda n: f"{n:,}",
    )
    return env


@dataclass(frozen=True, slots=True)
class Version:
    """A link to another version of the reply a page shows."""

    text: str
    path: str
    current: bool


@dataclass(frozen=True, slots=True)
class Choices:
    """One way to change the reply (age, language, region, topic) and its options."""

    label: str
    options: list[Version]


@dataclass(frozen=True, slots=True)
class SeenRow:
    """What one age group sees of a topic in a region."""

    combination: Combination
    resources: list[ShownResource]


@dataclass(frozen=True, slots=True)
class SeenTopic:
    """What each age group sees of a topic in a region."""

    name: str
    rows: list[SeenRow]


@dataclass(frozen=True, slots=True)
class TextGroup:
    """Texts of one kind, each by its key with its wording in every locale."""

    title: str
    rows: list[tuple[str, list[tuple[str, str]]]]


@dataclass(frozen=True, slots=True)
class RegionResource:
    """A resource on its region's page: facts in the root locale, texts in every locale."""

    resource: Resource
    name: str
    facts: list[Fact]
    texts: list[tuple[str, ResourceText]]


class Pages:
    """Renders the site's pages into a folder, with the helpers the templates call."""

    def __init__(self, site: Site, out: Path) -> None:
        self.site = site
        self.out = out
        self.env = environment()
        self.count = 0

    def write(self, path: str, template: str, title: str, **values: Any) -> None:
        """Render ``template`` to ``path`` (relative to the site's root)."""
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        html = self.env.get_template(template).render(
            site=self.site,
            root="../" * path.count("/"),
            title=title,
            region_label=self.region_label,
            region_name=self.region_name,
            locale_label=self.locale_label,
            age_label=age_label,
            age_short=_AGE_SHORT.get,
            kind_label=_KIND_WORDS.get,
            reply_label=self.reply_label,
            typed=typed,
            takes_age=takes_age,
            takes_region=takes_region,
            ask=lambda c: " ".join(_shell_word(word) for word in c.ask_arguments()),
            lang=language_tag,
            combination=self.combination,
            narrowed=self.narrowed,
            first_screen=FIRST_SCREEN,
            first_step_within=FIRST_STEP_WITHIN,
            **values,
        )
        target.write_text(html, encoding="utf-8")
        self.count += 1

    # -- labels ---------------------------------------------------------------------------

    def region_name(self, code: str) -> str:
        """A region's English name; its code when the content does not know it."""
        region = self.site.content.regions.get(code)
        return self.site.content.region_name(region, ROOT_LOCALE) if region else code

    def region_label(self, code: str) -> str:
        """``Ireland (IE)``."""
        name = self.region_name(code)
        return f"{name} ({code})" if name != code else code

    def locale_label(self, locale: str) -> str:
        """A language by its own name (``Français``); its code when unknown."""
        known = self.site.content.locales.get(locale)
        return known.name if known else locale

    def reply_label(self, c: Combination) -> str:
        """``/report · Ireland (IE) · Français · under 18``."""
        parts = [f"/{c.topic}", self.region_label(c.region), self.locale_label(c.locale)]
        return " · ".join([*parts, age_label(c.age)])

    # -- links between replies -----------------------------------------------------------

    def combination(self, topic: str, locale: str, region: str, age: Age | None) -> Combination:
        """The combination with these parts (for templates)."""
        return Combination(topic, locale, region, age)

    def narrowed(self, data: str) -> str | None:
        """The page a Telegram region or age button leads to; None if it has none."""
        wanted = parse_narrow(data)
        if wanted is None:
            return None
        age = Age(wanted.age) if wanted.age in tuple(Age) else None
        target = Combination(wanted.topic, wanted.locale, wanted.region, age)
        return target.path if target in self.site.views else None

    def versions(self, c: Combination) -> list[Choices]:
        """Links to the same reply for another age, language, region or topic."""
        ages = [self._version(c, age_label(age), age=age) for age in AGES]
        locales = [self._version(c, self.locale_label(x), locale=x) for x in self.site.locales]
        regions = [self._version(c, code, region=code) for code in self.site.regions]
        topics = [self._version(c, f"/{topic}", topic=topic) for topic in TOPICS]
        groups = [Choices("Age", ages)] if takes_age(c.topic) else []
        return [
            *groups,
            Choices("Language", locales),
            Choices("Region", regions),
            Choices("Topic", topics),
        ]

    def _version(self, c: Combination, text: str, **parts: Any) -> Version:
        values = {"topic": c.topic, "locale": c.locale, "region": c.region, "age": c.age, **parts}
        if not takes_age(values["topic"]):
            values["age"] = None
        target = Combination(**values)
        return Version(text, target.path, target == c)

    # -- the pages' contents -------------------------------------------------------------

    def topics(self) -> list[dict[str, Any]]:
        """The topics, each with its description and the age groups it takes."""
        return [
            {
                "name": topic,
                "description": self.site.content.command_description(ROOT_LOCALE, topic),
                "ages": AGES if takes_age(topic) else (None,),
            }
            for topic in TOPICS
        ]

    def texts(self) -> list[TextGroup]:
        """Command descriptions and UI texts, each in every locale (fallbacks applied)."""
        content = self.site.content
        commands = [
            (
                command.name,
                [(x, content.command_description(x, command.name)) for x in content.locales],
            )
            for command in COMMANDS
        ]
        keys = content.locales[ROOT_LOCALE].ui
        ui = [(key, [(x, content.ui(x, key)) for x in content.locales]) for key in keys]
        return [
            TextGroup("Command descriptions", commands),
            TextGroup("Buttons, notices and refusals", ui),
        ]

    def seen(self, code: str) -> list[SeenTopic]:
        """Per topic that lists resources: what each age group sees in region ``code``."""
        topics = []
        for topic in TOPICS:
            if not self.site.content.topics[topic].show:
                continue
            rows = []
            for age in AGES if takes_age(topic) else (None,):
                c = Combination(topic, ROOT_LOCALE, code, age)
                rows.append(SeenRow(c, self.site.views[c].resources))
            topics.append(SeenTopic(topic, rows))
        return topics

    def region_resources(self, region: Region) -> list[RegionResource]:
        """Every resource of a region (those from INTL included), with its facts and texts."""
        content = self.site.content
        return [
            RegionResource(
                resource,
                content.resource_text(resource, ROOT_LOCALE).name,
                resource_facts(self.site.core, resource, ROOT_LOCALE, self.site.today),
                [(code, content.resource_text(resource, code)) for code in content.locales],
            )
            for resource in region.resources
        ]


def age_label(age: Age | None) -> str:
    """``no age given``, ``under 18`` or ``18 or over``."""
    return "no age given" if age is None else AGE_WORDS[age]


def takes_region(topic: str) -> bool:
    """Whether a person can choose the region of ``topic`` (else the community's applies)."""
    return Option.REGION in BY_NAME[topic].options


def typed(c: Combination) -> str:
    """The command as a person types it for this reply: ``/report region:IE age:adult``."""
    words = [f"/{c.topic}"]
    if takes_region(c.topic):
        words.append(f"region:{c.region}")
    if c.age is not None:
        words.append(f"age:{c.age.value}")
    return " ".join(words)


def _shell_word(word: str) -> str:
    return f'"{word}"' if word.startswith("/") else word
