"""Advice content: loaded once from ``messages/``, validated, and frozen.

Layout (see ``messages/README.md``):
- ``topics.toml``: per topic, which resource kinds it shows and its sources.
- ``locales/<code>.toml``: every piece of text in one language (UI, command descriptions, topics).
- ``regions/<CODE>.toml``: a region's emergency number and its resources, with text per locale.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from shared.commands import COMMANDS, TOPICS
from shared.layout import source_hosts
from shared.models import GROUP_BANDS, Age, AgeBand, bands_cover
from shared.problems import Problem, ProblemsError, TomlFile
from shared.tomlpos import KeyPath
from shared.typed import fold

T = TypeVar("T")

ROOT_LOCALE = "en"
FALLBACK_REGION = "INTL"
KINDS = ("emergency", "report", "remove", "support")
REQUIRED_REGIONS = ("CA", "US", "GB", "AU", "NZ", "IE", FALLBACK_REGION)
STALE_AFTER = timedelta(days=365)
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

# Text the code asks for by key; every locale must define each (en directly).
UI_KEYS = (
    "sources",
    "age_under18",
    "age_adult",
    "heading_emergency",
    "heading_report",
    "heading_remove",
    "heading_support",
    "emergency_unknown",
    "emergency_number",
    "help_title",
    "help_summary",
    "help_moderators",
    "help_everyone",
    "cooldown",
    "unknown_command",
    "refused_moderator",
    "refused_private",
    "invalid_region",
    "unknown_region",
    "invalid_age",
    "invalid_topic",
    "topic_missing",
    "invalid_language",
    "setup_current",
    "setup_saved",
    "save_failed",
    "pin_done",
    "pin_missing_right",
    "unpin_done",
    "unpin_none",
    "pin_cannot_edit",
    "pinned_title",
    "pinned_summary",
    "pinned_heading",
    "pinned_line",
    "pinned_this_group",
    "pinned_current",
    "pinned_stale",
    "pinned_cannot_edit",
    "pinned_none",
    "welcome",
    "unknown_region",
    "age_below",
    "age_from",
    "age_range",
    "image_under18",
    "image_adult",
    "hours_24_7",
    "hours_online",
    "hours_or_online",
    "step_under18",
    "step_adult",
    "private_pointer",
    "private_button",
    "error_apology",
    "option_region",
    "option_age",
    "option_topic",
    "option_language",
    # Discord: option descriptions, the channel option, and permission names.
    "option_region_help",
    "option_age_help",
    "option_topic_help",
    "option_language_help",
    "option_channel",
    "option_channel_help",
    "permission_view_channel",
    "permission_send_messages",
    "permission_embed_links",
    "permission_pin_messages",
    "free_text_title",
    "free_text_summary",
    "free_text_heading",
    "free_text_closing",
    "language_current",
    "language_set",
    "console_hint",
    "console_settings_memory",
    "console_settings_saved",
)
TOPIC_KEYS = ("title", "summary", "steps", "closing")
RESOURCE_TEXT_KEYS = ("name", "purpose")

_PHONE = re.compile(r"^\+?\d[\d -]*\d( / \+?\d[\d -]*\d)*$|^\d{3}$")
_BAND = re.compile(r"^(\d{1,2})-(\d{1,2})$")
_BELOW = re.compile(r"^under(\d{1,2})$")
# French typography (OQLF): a space before a colon. Matches a colon that ends a word and is
# followed by a space or the end (not "https://", not "10:00").
_TIGHT_COLON = re.compile(r"\S:(?=\s|$)")

_LOCALE_CODE = re.compile(r"^[a-z]{2}$")
_REGION_CODE = re.compile(r"^[A-Z]{2}$|^INTL$")


def placeholders(text: str) -> frozenset[str]:
    """Names of the ``{placeholders}`` in a string (none when its braces are malformed)."""
    try:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)
    except ValueError:
        return frozenset()


def brace_problem(text: str) -> str | None:
    """Why a text's braces would break filling it in, or None when they are fine."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text)]
    except ValueError:
        return "has an unmatched { or }: write {{ or }} for a literal brace"
    for name, spec, conversion in fields:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            return f"{{{name}}} is not a placeholder: use a plain name like {{region}}"
    return None


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


def default_content_path() -> Path:
    """Shipped content: beside the installed package, else the source tree's ``messages/``."""
    package = Path(__file__).resolve().parent
    installed = package / "messages"
    return installed if installed.is_dir() else package.parent / "messages"


class _Loader:
    """Collects every problem across all files before giving up, so one run shows them all."""

    def __init__(self, root: Path, today: date) -> None:
        self.root = root
        self.today = today
        self.problems: list[Problem] = []

    def open(self, path: Path) -> TomlFile | None:
        try:
            return TomlFile.load(path, self._display(path))
        except ProblemsError as error:
            self.problems.extend(error.problems)
            return None

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def missing(self, path: Path, message: str) -> None:
        """A required file is missing; one that exists but cannot be read already has its
        own problem (a syntax error at its line), and is not reported missing as well."""
        if not path.is_file():
            self.problems.append(Problem(self._display(path), 1, "(file)", message))

    def error(self, file: TomlFile, path: KeyPath, message: str) -> None:
        self.problems.append(file.problem(path, message))

    def warn(self, file: TomlFile, path: KeyPath, message: str) -> None:
        self.problems.append(file.problem(path, message, warning=True))

    def text(self, file: TomlFile, table: Any, path: KeyPath, key: str, required: bool) -> str:
        value = table.get(key, "") if isinstance(table, dict) else ""
        if not isinstance(value, str):
            self.error(file, (*path, key), "must be text")
            return ""
        if required and not value.strip():
            self.error(file, (*path, key), "is missing or empty")
        return self.braces(file, (*path, key), value)

    def braces(self, file: TomlFile, path: KeyPath, value: str) -> str:
        """The text if its placeholders are well formed; else an error, and "" in its place."""
        problem = brace_problem(value)
        if problem is None:
            return value
        self.error(file, path, problem)
        return ""

    def url(self, file: TomlFile, table: Any, path: KeyPath, key: str, required: bool) -> str:
        value = self.text(file, table, path, key, required)
        if value and not value.startswith("https://"):
            self.error(file, (*path, key), f"must be an https:// URL, not {value!r}")
        return value

    # -- locales -------------------------------------------------------------------------

    def locales(self) -> dict[str, tuple[Locale, dict[str, TopicText], TomlFile]]:
        found: dict[str, tuple[Locale, dict[str, TopicText], TomlFile]] = {}
        folder = self.root / "locales"
        for path in sorted(folder.glob("*.toml")):
            file = self.open(path)
            if file is None:
                continue
            code = path.stem
            if not _LOCALE_CODE.match(code):
                self.error(file, (), f"file name must be a two-letter language code, not {code!r}")
                continue
            found[code] = self.locale(file, code)
        if ROOT_LOCALE not in found:
            self.missing(folder / f"{ROOT_LOCALE}.toml", "missing")
        return found

    def locale(self, file: TomlFile, code: str) -> tuple[Locale, dict[str, TopicText], TomlFile]:
        data = file.data
        meta = data.get("locale", {})
        name = self.text(file, meta, ("locale",), "name", True)
        fallback = "" if code == ROOT_LOCALE else (meta.get("fallback") or ROOT_LOCALE)
        spaced = self.flag(file, meta, ("locale",), "space_before_colon")
        ui = self.strings(file, data.get("ui", {}), ("ui",))
        commands = self.strings(file, data.get("commands", {}), ("commands",))
        topics: dict[str, TopicText] = {}
        raw_topics = data.get("topics", {})
        if not isinstance(raw_topics, dict):
            self.error(file, ("topics",), "must be a table of topics")
            raw_topics = {}
        for topic, table in raw_topics.items():
            path: KeyPath = ("topics", topic)
            topics[topic] = TopicText(
                title=self.text(file, table, path, "title", True),
                summary=self.text(file, table, path, "summary", True),
                steps=self.steps(file, table, (*path, "steps")),
                closing=self.text(file, table, path, "closing", False),
            )
        locale = Locale(
            code,
            name,
            str(fallback),
            MappingProxyType(ui),
            MappingProxyType(commands),
            space_before_colon=spaced,
        )
        return locale, topics, file

    def steps(self, file: TomlFile, table: Any, path: KeyPath) -> tuple[Step, ...]:
        """A topic's steps: texts, or tables of texts per age (``under18``, ``adult``,
        ``both``)."""
        raw = table.get("steps", []) if isinstance(table, dict) else []
        if not isinstance(raw, list) or not raw:
            self.error(file, path, "must be a non-empty list of steps")
            return ()
        steps: list[Step] = []
        for i, item in enumerate(raw):
            if isinstance(item, str) and item.strip():
                steps.append(Step.everyone(self.braces(file, (*path, i), item)))
                continue
            if not isinstance(item, dict):
                self.error(file, (*path, i), "must be a text or a table of texts by age")
                continue
            unknown = sorted(set(item) - set(STEP_AGES))
            if unknown:
                self.error(file, (*path, i), f"unknown keys {unknown}; use {list(STEP_AGES)}")
            if not (item.get("under18") or item.get("adult")):
                self.error(file, (*path, i), "a step by age needs under18, adult or both")
            texts = [self.text(file, item, (*path, i), age, False) for age in STEP_AGES]
            steps.append(Step(*texts))
        return tuple(steps)

    def flag(self, file: TomlFile, table: Any, path: KeyPath, key: str) -> bool:
        """A true/false setting, false when absent."""
        value = table.get(key, False) if isinstance(table, dict) else False
        if not isinstance(value, bool):
            self.error(file, (*path, key), "must be true or false")
            return False
        return value

    def strings(self, file: TomlFile, table: Any, path: KeyPath) -> dict[str, str]:
        if not isinstance(table, dict):
            self.error(file, path, "must be a table of texts")
            return {}
        result: dict[str, str] = {}
        for key, value in table.items():
            if isinstance(value, str) and value.strip():
                result[key] = self.braces(file, (*path, key), value)
            else:
                self.error(file, (*path, key), "must be a non-empty text")
        return result

    # -- topics --------------------------------------------------------------------------

    def topic_settings(self) -> tuple[dict[str, TopicSettings], TomlFile | None]:
        file = self.open(self.root / "topics.toml")
        settings: dict[str, TopicSettings] = {}
        if file is None:
            return settings, None
        for topic, table in file.data.items():
            path: KeyPath = (topic,)
            if not isinstance(table, dict):
                self.error(file, path, "must be a table")
                continue
            show = table.get("show", [])
            if not isinstance(show, list) or any(kind not in KINDS for kind in show):
                self.error(file, (*path, "show"), f"must list resource kinds from {list(KINDS)}")
                show = []
            compact = self.flag(file, table, path, "compact")
            crisis = self.flag(file, table, path, "crisis")
            about: Age | None = None
            if "age" in table:
                if table["age"] in (Age.UNDER18, Age.ADULT):
                    about = Age(table["age"])
                else:
                    self.error(file, (*path, "age"), 'must be "under18" or "adult"')
            if crisis and "support" not in show:
                self.error(file, (*path, "show"), "a crisis topic must show 'support' lines")
            sources = table.get("sources", [])
            if not isinstance(sources, list) or not sources:
                self.error(file, (*path, "sources"), "must list at least one source URL")
                sources = []
            for i, source in enumerate(sources):
                if not isinstance(source, str) or not source.startswith("https://"):
                    self.error(file, (*path, "sources", i), f"must be an https:// URL: {source!r}")
            settings[topic] = TopicSettings(
                tuple(show), compact, tuple(str(s) for s in sources), crisis, about
            )
        for topic in TOPICS:
            if topic not in settings:
                self.error(file, (topic,), "topic is missing")
        return settings, file

    # -- regions -------------------------------------------------------------------------

    def regions(self, locales: Iterable[str]) -> dict[str, tuple[Region, TomlFile]]:
        found: dict[str, tuple[Region, TomlFile]] = {}
        codes = tuple(locales)
        for path in sorted((self.root / "regions").glob("*.toml")):
            file = self.open(path)
            if file is None:
                continue
            meta = file.data.get("region", {})
            code = path.stem
            if not _REGION_CODE.match(code):
                self.error(file, (), f"file name must be a region code like CA or INTL: {code!r}")
                continue
            emergency = self.text(file, meta, ("region",), "emergency", False)
            if not emergency and code != FALLBACK_REGION:
                self.warn(file, ("region", "emergency"), "no emergency number for this region")
            if emergency and not _PHONE.match(emergency):
                self.error(file, ("region", "emergency"), "must be a number a phone can dial")
            names = self.per_locale_names(file, meta, codes)
            aliases = self.aliases(file, meta)
            resources = self.resources(file, codes)
            notes = self.notes(file, codes)
            region = Region(
                code, emergency, MappingProxyType(names), resources, aliases=aliases, notes=notes
            )
            found[code] = (region, file)
        for code in REQUIRED_REGIONS:
            if code not in found:
                self.missing(self.root / "regions" / f"{code}.toml", f"region {code} is missing")
        return found

    def per_locale_names(self, file: TomlFile, meta: Any, codes: tuple[str, ...]) -> dict[str, str]:
        names = meta.get("name", {}) if isinstance(meta, dict) else {}
        if not isinstance(names, dict):
            self.error(file, ("region", "name"), "must be a table of names by locale")
            return {}
        for code in codes:
            self.text(file, names, ("region", "name"), code, True)
        return {k: v for k, v in names.items() if isinstance(v, str)}

    def aliases(self, file: TomlFile, meta: Any) -> tuple[str, ...]:
        aliases = meta.get("aliases", []) if isinstance(meta, dict) else []
        if not isinstance(aliases, list) or not all(
            isinstance(alias, str) and fold(alias) for alias in aliases
        ):
            self.error(file, ("region", "aliases"), 'must be a list of names, like ["UK"]')
            return ()
        return tuple(aliases)

    def tables(self, file: TomlFile, key: str) -> Iterator[tuple[KeyPath, dict[str, Any]]]:
        """Each ``[[key]]`` table of a file with its path; anything else is reported."""
        raw = file.data.get(key, [])
        if not isinstance(raw, list):
            self.error(file, (key,), f"must be an array of [[{key}]] tables")
            return
        for i, table in enumerate(raw):
            if isinstance(table, dict):
                yield (key, i), table
            else:
                self.error(file, (key, i), f"must be a [[{key}]] table")

    def resources(self, file: TomlFile, codes: tuple[str, ...]) -> tuple[Resource, ...]:
        seen: set[str] = set()
        resources: list[Resource] = []
        for path, table in self.tables(file, "resources"):
            resource = self.resource(file, table, path, codes)
            if resource.id in seen:
                self.error(file, (*path, "id"), f"duplicate id {resource.id!r}")
            seen.add(resource.id)
            resources.append(resource)
        return tuple(resources)

    def resource(
        self, file: TomlFile, table: dict[str, Any], path: KeyPath, codes: tuple[str, ...]
    ) -> Resource:
        rid = self.text(file, table, path, "id", True)
        kind = self.text(file, table, path, "kind", True)
        if kind and kind not in KINDS:
            self.error(file, (*path, "kind"), f"must be one of {list(KINDS)}")
        band = self.band(file, table, path)
        image = self.image(file, table, path)
        local = self.flag(file, table, path, "local")
        url = self.url(file, table, path, "url", kind != "emergency" and not local)
        phone = self.text(file, table, path, "phone", kind == "emergency")
        if phone and not _PHONE.match(phone):
            self.error(file, (*path, "phone"), f"{phone!r} is not a number a phone can dial")
        hours = self.choice(file, table, path, "hours", HOURS)
        texts: dict[str, ResourceText] = {}
        for code in codes:
            texts[code] = self.resource_text(
                file, table, (*path, code), code, bool(url), hours == HOURS_LIMITED
            )
        return Resource(
            rid,
            kind,
            band.group,
            url,
            phone,
            source=self.url(file, table, path, "source", True),
            verified=self.verified(file, table, path),
            everywhere=self.flag(file, table, path, "everywhere"),
            text=MappingProxyType(texts),
            band=band,
            image=image,
            hours=hours,
            confidence=self.choice(file, table, path, "confidence", CONFIDENCE),
            local=local,
            finder=self.flag(file, table, path, "finder"),
        )

    def band(self, file: TomlFile, table: dict[str, Any], path: KeyPath) -> AgeBand:
        """``age``: under18, adult, all, or the ages a service states ("5-25", "under19")."""
        text = self.text(file, table, path, "age", True)
        band = parse_band(text)
        if band is None:
            message = 'must be under18, adult, all, a range like "5-25" or a limit like "under19"'
            self.error(file, (*path, "age"), message)
            return AgeBand()
        return band

    def image(self, file: TomlFile, table: dict[str, Any], path: KeyPath) -> Age | None:
        """``image``: the age at which the image was taken that the service is for, if any."""
        if "image" not in table:
            return None
        value = table["image"]
        if value not in (Age.UNDER18, Age.ADULT):
            self.error(file, (*path, "image"), 'must be "under18" or "adult"')
            return None
        return Age(value)

    def choice(
        self,
        file: TomlFile,
        table: dict[str, Any],
        path: KeyPath,
        key: str,
        allowed: tuple[str, ...],
    ) -> str:
        """A required value from a fixed list (the first one when it is wrong)."""
        value = self.text(file, table, path, key, True)
        if value and value not in allowed:
            self.error(file, (*path, key), f"must be one of {list(allowed)}, not {value!r}")
        return value if value in allowed else allowed[0]

    def resource_text(
        self,
        file: TomlFile,
        table: Any,
        path: KeyPath,
        code: str,
        has_url: bool,
        has_hours: bool,
    ) -> ResourceText:
        sub = table.get(code) if isinstance(table, dict) else None
        if not isinstance(sub, dict):
            self.error(file, path, f"text in locale {code!r} is missing")
            return ResourceText("", "")
        return ResourceText(
            name=self.text(file, sub, path, "name", True),
            purpose=self.text(file, sub, path, "purpose", True),
            button=self.text(file, sub, path, "button", has_url),
            url=self.url(file, sub, path, "url", False),
            text_line=self.text(file, sub, path, "text_line", False),
            hours=self.text(file, sub, path, "hours", has_hours),
        )

    def notes(self, file: TomlFile, codes: tuple[str, ...]) -> tuple[Note, ...]:
        """``[[notes]]``: sentences about this region added to a topic, each with its source."""
        notes: list[Note] = []
        for path, table in self.tables(file, "notes"):
            topic = self.text(file, table, path, "topic", True)
            if topic and topic not in TOPICS:
                self.error(file, (*path, "topic"), f"must be one of {list(TOPICS)}")
            texts = {code: self.text(file, table, path, code, True) for code in codes}
            for code, text in texts.items():
                unknown = sorted(placeholders(text) - TOPIC_PLACEHOLDERS)
                if unknown:
                    known = sorted(TOPIC_PLACEHOLDERS)
                    self.error(file, (*path, code), f"unknown {unknown}; known: {known}")
            notes.append(
                Note(
                    topic,
                    self.choice(file, table, path, "place", NOTE_PLACES),
                    self.url(file, table, path, "source", True),
                    self.verified(file, table, path),
                    MappingProxyType(texts),
                )
            )
        return tuple(notes)

    def verified(self, file: TomlFile, table: Any, path: KeyPath) -> date | None:
        if not isinstance(table, dict) or "verified" not in table:
            self.error(file, (*path, "verified"), 'is missing: a date (2026-01-31) or ""')
            return None
        value = table["verified"]
        if value == "":
            self.warn(file, (*path, "verified"), f"not verified yet; source: {table.get('source')}")
            return None
        if not isinstance(value, date):
            self.error(file, (*path, "verified"), 'must be a date like 2026-01-31 or ""')
            return None
        if self.today - value > STALE_AFTER:
            self.warn(file, (*path, "verified"), f"verified {value}, over 12 months ago")
        return value


class TopicSettings(NamedTuple):
    """A topic's entry in topics.toml."""

    show: tuple[str, ...]
    compact: bool
    sources: tuple[str, ...]
    crisis: bool
    age: Age | None


def parse_band(text: str) -> AgeBand | None:
    """The ages an ``age`` value names: a group, a range ("5-25") or a limit ("under19")."""
    groups = {group.value: band for group, band in GROUP_BANDS.items()}
    if text in groups:
        return groups[text]
    if match := _BAND.match(text):
        low, high = int(match.group(1)), int(match.group(2))
        return AgeBand(low, high) if low <= high else None
    if match := _BELOW.match(text):
        limit = int(match.group(1))
        return AgeBand(None, limit - 1) if limit > 0 else None
    return None


def _check_complete(
    loader: _Loader,
    locales: dict[str, tuple[Locale, dict[str, TopicText], TomlFile]],
    settings: dict[str, TopicSettings],
) -> None:
    """Every locale has every key, topic and step of the root locale, with the same placeholders."""
    if ROOT_LOCALE not in locales:
        return
    root, root_topics, root_file = locales[ROOT_LOCALE]
    for key in UI_KEYS:
        if key not in root.ui:
            loader.error(root_file, ("ui", key), "is missing")
    for command in COMMANDS:
        if command.name not in root.commands:
            loader.error(root_file, ("commands", command.name), "description is missing")
    for topic in settings:
        if topic not in root_topics:
            loader.error(root_file, ("topics", topic), "topic text is missing")
    for locale, topics, file in locales.values():
        if locale.fallback and locale.fallback not in locales:
            loader.error(file, ("locale", "fallback"), f"unknown locale {locale.fallback!r}")
        for group, mine, theirs in (
            ("ui", locale.ui, root.ui),
            ("commands", locale.commands, root.commands),
        ):
            for key, text in theirs.items():
                if key not in mine:
                    loader.error(file, (group, key), f"missing (present in {ROOT_LOCALE})")
                elif placeholders(mine[key]) != placeholders(text):
                    loader.error(file, (group, key), _placeholder_message(text))
        for topic, root_text in root_topics.items():
            _check_topic(loader, file, topic, topics.get(topic), root_text)
        if locale.space_before_colon:
            _check_locale_typography(loader, file, locale, topics)


def _check_topic(
    loader: _Loader, file: TomlFile, topic: str, text: TopicText | None, root: TopicText
) -> None:
    """A translated topic has every step of the root locale, worded for the same ages, with
    the same placeholders."""
    path: KeyPath = ("topics", topic)
    if text is None:
        loader.error(file, path, f"topic missing (present in {ROOT_LOCALE})")
        return
    if len(text.steps) != len(root.steps):
        message = f"has {len(text.steps)} steps, {ROOT_LOCALE} has {len(root.steps)}"
        loader.error(file, (*path, "steps"), message)
    pairs = [
        (key, getattr(text, key), getattr(root, key)) for key in ("title", "summary", "closing")
    ]
    for i, (mine, theirs) in enumerate(zip(text.steps, root.steps, strict=False)):
        if mine.shape != theirs.shape:
            ages = [age for age, _ in theirs.variants()]
            message = f"steps[{i}]: must be worded for the same ages as {ROOT_LOCALE}: {ages}"
            loader.error(file, (*path, "steps", i), message)
            continue
        pairs += [
            (f"steps[{i}].{age}", mine_text, theirs_text)
            for (age, mine_text), (_, theirs_text) in zip(
                mine.variants(), theirs.variants(), strict=True
            )
        ]
    for key, mine_value, theirs_value in pairs:
        where: KeyPath = (*path, key.split("[")[0])
        unknown = sorted(placeholders(mine_value) - TOPIC_PLACEHOLDERS)
        if unknown:
            known = sorted(TOPIC_PLACEHOLDERS)
            loader.error(file, where, f"{key}: unknown {unknown}; known: {known}")
        elif placeholders(mine_value) != placeholders(theirs_value):
            loader.error(file, where, f"{key}: {_placeholder_message(theirs_value)}")


TOPIC_PLACEHOLDERS = frozenset({"emergency", "region"})


def _placeholder_message(root_text: str) -> str:
    names = sorted(placeholders(root_text))
    return f"placeholders must match {ROOT_LOCALE}: {names}"


def _check_region_words(loader: _Loader, regions: dict[str, tuple[Region, TomlFile]]) -> None:
    """A name or alias a person may type names one region only (``Ireland`` cannot be both
    IE and GB), so typed regions are never a guess."""
    owners: dict[str, tuple[str, TomlFile]] = {}
    # Codes and names first, so an alias that clashes with a name is the one reported.
    named = [
        (code, file, word, ("region", "name"))
        for code, (region, file) in regions.items()
        for word in (code, *region.names.values())
    ]
    aliased = [
        (code, file, alias, ("region", "aliases"))
        for code, (region, file) in regions.items()
        for alias in region.aliases
    ]
    for code, file, word, path in named + aliased:
        owner = owners.setdefault(fold(word), (code, file))
        if owner[0] != code:
            other = f"{owner[0]} in {owner[1].display}"
            loader.error(file, path, f"{word!r} also names {other}: it must name one region")


_TYPOGRAPHY = "put a space before ':' (French typography: \"Cyberaide.ca : 1-866-658-9022\")"


def _check_locale_typography(
    loader: _Loader, file: TomlFile, locale: Locale, topics: dict[str, TopicText]
) -> None:
    """In a language that spaces its colons, every text of the locale file does."""
    texts: list[tuple[KeyPath, str]] = [(("ui", k), v) for k, v in locale.ui.items()]
    texts += [(("commands", k), v) for k, v in locale.commands.items()]
    for name, topic in topics.items():
        texts += [(("topics", name, k), getattr(topic, k)) for k in ("title", "summary", "closing")]
        texts += [
            (("topics", name, "steps", i), text)
            for i, step in enumerate(topic.steps)
            for _, text in step.variants()
        ]
    for path, text in texts:
        if _TIGHT_COLON.search(text):
            loader.error(file, path, _TYPOGRAPHY)


def _check_region_typography(
    loader: _Loader, region: Region, file: TomlFile, spaced: Iterable[str]
) -> None:
    """A region's texts in a language that spaces its colons do too."""
    for code in spaced:
        for i, resource in enumerate(region.resources):
            words = resource.text.get(code)
            if words is None:
                continue
            for key in ("name", "purpose", "button", "text_line", "hours"):
                if _TIGHT_COLON.search(getattr(words, key)):
                    loader.error(file, ("resources", i, code, key), _TYPOGRAPHY)
        for i, note in enumerate(region.notes):
            if _TIGHT_COLON.search(note.text.get(code, "")):
                loader.error(file, ("notes", i, code), _TYPOGRAPHY)


def _check_regions(loader: _Loader, regions: dict[str, tuple[Region, TomlFile]]) -> None:
    """Every region, for readers under 18 and adults alike, has somewhere to report, a tool that
    stops images spreading, and a crisis line that answers 24/7 whatever their age (INTL, which
    has no lines of its own: a crisis-line finder)."""
    everywhere = [r for region, _ in regions.values() for r in region.resources if r.everywhere]
    for code, (region, file) in regions.items():
        available = region.resources + tuple(r for r in everywhere if r not in region.resources)
        for i, resource in enumerate(region.resources):
            if resource.finder and resource.kind != "support":
                message = "only a 'support' resource can be a crisis-line finder"
                loader.error(file, ("resources", i, "finder"), message)
        for age in (Age.UNDER18, Age.ADULT):
            for problem in missing_for(code, available, age):
                loader.error(file, ("resources",), f"{code}, {age.value}: {problem}")


def _check_topic_sources(
    loader: _Loader,
    file: TomlFile,
    settings: dict[str, TopicSettings],
    regions: dict[str, tuple[Region, TomlFile]],
) -> None:
    """A topic's sources are shown to every reader: none may be the site of a service listed
    for some regions only (a Canadian teen's footer must not name a UK helpline)."""
    sites: dict[str, set[str]] = {}
    for code, (region, _) in regions.items():
        for resource in region.resources:
            urls = [resource.url, *(words.url for words in resource.text.values())]
            for host in source_hosts(tuple(filter(None, urls))):
                sites.setdefault(host, set()).add(code)
    everywhere = set(
        source_hosts(
            tuple(r.url for region, _ in regions.values() for r in region.resources if r.everywhere)
        )
    )
    for topic, entry in settings.items():
        for i, source in enumerate(entry.sources):
            host = source_hosts((source,))[0]
            if host in sites and host not in everywhere and len(sites[host]) < len(regions):
                codes = ", ".join(sorted(sites[host]))
                message = (
                    f"{host} is the site of a service for {codes} only: put facts about one "
                    "region in that region's file (a resource or a [[notes]] entry)"
                )
                loader.error(file, (topic, "sources", i), message)


def missing_for(code: str, available: tuple[Resource, ...], age: Age) -> list[str]:
    """What a reader of ``age`` in region ``code`` would be left without."""
    group = GROUP_BANDS[age]
    # Services about images of another age (Take It Down for an adult) do not count here:
    # a reader whose own image is of their age needs one too.
    reaching = [r for r in available if r.band.overlaps(group) and r.image in (None, age)]
    missing = []
    if not any(r.kind == "report" for r in reaching):
        missing.append("no place to report")
    if not any(r.kind == "remove" for r in reaching):
        missing.append("no tool that stops images spreading")
    lines = [r.band for r in reaching if r.kind == "support" and r.answers_now]
    finder = code == FALLBACK_REGION and any(r.kind == "support" and r.finder for r in reaching)
    if not (bands_cover(lines, group) or finder):
        if lines:
            missing.append("no crisis line that answers 24/7 for every age in this group")
        else:
            missing.append("no crisis line that answers 24/7")
    return missing


def load_content(root: Path | None = None, today: date | None = None) -> Content:
    """Load and validate ``root`` (default: the shipped content).

    Raises ProblemsError listing every error; warnings are kept on the returned Content.
    """
    folder = root or default_content_path()
    loader = _Loader(folder, today or date.today())
    if not folder.is_dir():
        raise ProblemsError([Problem(str(folder), 1, "(folder)", "content folder not found")])
    locales = loader.locales()
    settings, topics_file = loader.topic_settings()
    _check_complete(loader, locales, settings)
    regions = loader.regions(locales.keys())
    _check_regions(loader, regions)
    _check_region_words(loader, regions)
    if topics_file is not None:
        _check_topic_sources(loader, topics_file, settings, regions)
    spaced = [code for code, (locale, _, _) in locales.items() if locale.space_before_colon]
    for region, file in regions.values():
        _check_region_typography(loader, region, file, spaced)
    errors = [p for p in loader.problems if not p.warning]
    if errors:
        raise ProblemsError(loader.problems)
    everywhere = tuple(
        r for region, _ in regions.values() for r in region.resources if r.everywhere
    )
    frozen_regions = {
        code: replace(
            region,
            resources=region.resources + tuple(r for r in everywhere if r not in region.resources),
        )
        for code, (region, _) in regions.items()
    }
    topics = {
        name: Topic(
            name,
            entry.show,
            entry.compact,
            entry.sources,
            MappingProxyType(
                {code: texts[name] for code, (_, texts, _) in locales.items() if name in texts}
            ),
            crisis=entry.crisis,
            age=entry.age,
        )
        for name, entry in settings.items()
    }
    return Content(
        locales=MappingProxyType({code: locale for code, (locale, _, _) in locales.items()}),
        topics=MappingProxyType(topics),
        regions=MappingProxyType(frozen_regions),
        warnings=tuple(p for p in loader.problems if p.warning),
    )
