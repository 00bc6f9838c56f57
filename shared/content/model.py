"""The content's frozen types, and :class:`Content`'s lookups with the locale and region
fallbacks. Reading and validating the files that fill them is in :mod:`shared.content.loader`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from shared.models import GROUP_BANDS, Age, AgeBand
from shared.problems import Problem

T = TypeVar("T")

ROOT_LOCALE = "en"
FALLBACK_REGION = "INTL"
KINDS = ("emergency", "report", "remove", "support")
HOURS_24_7 = "24/7"
"""A line that answers at every hour of every day."""
HOURS_ONLINE = "online"
"""Reached through its website (a form or a tool) at any time; a phone it lists may not be."""
HOURS_LIMITED = "limited"
"""Open at some hours only, written in each language (``hours`` in ``[resources.<code>]``)."""
HOURS = (HOURS_24_7, HOURS_ONLINE, HOURS_LIMITED)
CONFIDENCE = ("high", "medium")
"""How well a resource's facts were confirmed (see ../shared/facts.md): on the organisation's own
page or an official release, or on a reputable secondary page. Unconfirmed rows are not shipped."""
NOTE_PLACES = ("summary", "steps")
STEP_AGES = ("under18", "adult", "both")


@dataclass(frozen=True, slots=True)
class ResourceText:
    """A resource in one language; ``url`` overrides the resource's own (Cyberaide.ca)."""

    name: str
    purpose: str
    button: str = ""
    url: str = ""
    text_line: str = ""
    hours: str = ""
    """When it is open, for ``hours = "limited"`` ("Mon-Fri 10:00-16:00 UK time")."""


@dataclass(frozen=True, slots=True)
class Resource:
    """A place to report, remove, get support or call in an emergency.

    ``band`` is the ages it serves now (``age`` the reader groups that band reaches);
    ``image`` is set for services about images taken before 18 (``UNDER18``) or at 18 or over
    (``ADULT``), which a reader may need whatever their age today.
    """

    id: str
    kind: str
    age: Age
    url: str
    phone: str
    source: str
    verified: date | None
    everywhere: bool
    text: Mapping[str, ResourceText]
    band: AgeBand = GROUP_BANDS[Age.ALL]
    image: Age | None = None
    hours: str = HOURS_ONLINE
    confidence: str = "high"
    local: bool = False
    """Found where the reader lives ("your local police"): no single number or website."""
    finder: bool = False
    """A directory that finds a crisis line in the reader's country (for INTL)."""

    @property
    def answers_now(self) -> bool:
        """A line a person can call or text at any hour."""
        texts = any(text.text_line for text in self.text.values())
        return self.hours == HOURS_24_7 and bool(self.phone or texts)


@dataclass(frozen=True, slots=True)
class Note:
    """A sentence about one region added to a topic (its law, a fact about it), sourced."""

    topic: str
    place: str
    """``summary``: after the topic's summary; ``steps``: a step after the topic's steps."""
    source: str
    verified: date | None
    text: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Region:
    """A region's emergency number and resources (``everywhere`` ones of INTL included).

    ``aliases`` are other names people type for it ("UK", "Aotearoa"), in any language.
    """

    code: str
    emergency: str
    names: Mapping[str, str]
    resources: tuple[Resource, ...]
    aliases: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """One numbered step, the same for everyone or worded per age group.

    ``under18`` and ``adult`` are what each group reads ("" = the step is not for them);
    ``both`` is what a reader who gave no age reads ("" = each group's text, marked with its
    age).
    """

    under18: str
    adult: str
    both: str = ""

    @classmethod
    def everyone(cls, text: str) -> Step:
        """A step every reader reads the same."""
        return cls(text, text, text)

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        """Which variants it has: a translation must have the same."""
        return (bool(self.under18), bool(self.adult), bool(self.both))

    def variants(self) -> tuple[tuple[str, str], ...]:
        """``(age, text)`` for each written variant."""
        return tuple(
            (age, text)
            for age, text in zip(STEP_AGES, (self.under18, self.adult, self.both), strict=True)
            if text
        )


@dataclass(frozen=True, slots=True)
class TopicText:
    """A topic in one language."""

    title: str
    summary: str
    steps: tuple[Step, ...]
    closing: str


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic: what it shows (resource kinds), how compactly, its sources and its text.

    ``crisis``: its text tells the reader to contact a crisis line, so every region and age
    must have one that answers 24/7, and the topic must list support lines. ``age``: the age
    group the topic is about whoever reads it (for-parents: a child under 18), or None.
    """

    name: str
    show: tuple[str, ...]
    compact: bool
    sources: tuple[str, ...]
    text: Mapping[str, TopicText]
    crisis: bool = False
    age: Age | None = None


@dataclass(frozen=True, slots=True)
class Locale:
    """A language: UI text and command descriptions; ``fallback`` names the next locale."""

    code: str
    name: str
    fallback: str
    ui: Mapping[str, str]
    commands: Mapping[str, str]
    space_before_colon: bool = False
    """French typography: "Cyberaide.ca : 1-866-658-9022"."""

    @property
    def colon(self) -> str:
        """A colon before a value, as this language writes it."""
        return " : " if self.space_before_colon else ": "


@dataclass(frozen=True, slots=True)
class Content:
    """All content, validated; lookups here apply the locale and region fallbacks."""

    locales: Mapping[str, Locale]
    topics: Mapping[str, Topic]
    regions: Mapping[str, Region]
    warnings: tuple[Problem, ...]

    def resolve_locale(self, tag: str | None) -> str | None:
        """Best known locale for a tag like ``fr-CA``, ``fr_ca`` or ``en-US``; None if unknown."""
        if not tag:
            return None
        code = tag.replace("_", "-").split("-", 1)[0].lower()
        return code if code in self.locales else None

    def chain(self, locale: str) -> tuple[str, ...]:
        """The fallback chain of a known locale, ending at the root locale."""
        codes = [locale]
        while codes[-1] != ROOT_LOCALE:
            codes.append(self.locales[codes[-1]].fallback)
        return tuple(codes)

    def _pick(self, locale: str, by_locale: Callable[[str], T | None]) -> T | None:
        """The first value along the locale's fallback chain."""
        for code in self.chain(locale):
            value = by_locale(code)
            if value is not None:
                return value
        return None

    def ui(self, locale: str, key: str, **values: str) -> str:
        """A UI string in ``locale`` (or its fallback), with placeholders filled."""
        text = self._pick(locale, lambda code: self.locales[code].ui.get(key))
        if text is None:
            raise KeyError(key)
        return text.format(**values) if values else text

    def command_description(self, locale: str, name: str) -> str:
        """A command's description in ``locale`` (or its fallback)."""
        text = self._pick(locale, lambda code: self.locales[code].commands.get(name))
        if text is None:
            raise KeyError(name)
        return text

    def topic_text(self, topic: str, locale: str) -> TopicText:
        """A topic's text in ``locale`` (or its fallback)."""
        text = self._pick(locale, self.topics[topic].text.get)
        if text is None:
            raise KeyError(topic)
        return text

    def region(self, code: str | None) -> Region:
        """A region by code (case-insensitive); unknown codes get the international one."""
        key = (code or "").upper()
        return self.regions.get(key) or self.regions[FALLBACK_REGION]

    def resource_text(self, resource: Resource, locale: str) -> ResourceText:
        """A resource's text in ``locale`` (or its fallback)."""
        text = self._pick(locale, resource.text.get)
        if text is None:
            raise KeyError(resource.id)
        return text

    def region_name(self, region: Region, locale: str) -> str:
        """A region's name in ``locale`` (or its fallback)."""
        return self._pick(locale, region.names.get) or region.code

    def note_text(self, note: Note, locale: str) -> str:
        """A region's note in ``locale`` (or its fallback)."""
        return self._pick(locale, note.text.get) or ""

    def colon(self, locale: str) -> str:
        """How ``locale`` writes a colon before a value."""
        return self.locales[locale].colon
