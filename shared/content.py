"""Advice content: loaded once from ``messages/``, validated, and frozen.

Layout (see ``messages/README.md``):
- ``topics.toml``: per topic, which resource kinds it shows and its sources.
- ``locales/<code>.toml``: every piece of text in one language (UI, command descriptions, topics).
- ``regions/<CODE>.toml``: a region's emergency number and its resources, with text per locale.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from shared.commands import COMMANDS, TOPICS
from shared.models import Age
from shared.problems import Problem, ProblemsError, TomlFile
from shared.tomlpos import KeyPath
from shared.typed import fold

T = TypeVar("T")

ROOT_LOCALE = "en"
FALLBACK_REGION = "INTL"
KINDS = ("emergency", "report", "remove", "support")
REQUIRED_REGIONS = ("CA", "US", "GB", "AU", "NZ", "IE", FALLBACK_REGION)
STALE_AFTER = timedelta(days=365)

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


@dataclass(frozen=True, slots=True)
class Resource:
    """A place to report, remove, get support or call in an emergency."""

    id: str
    kind: str
    age: Age
    url: str
    phone: str
    source: str
    verified: date | None
    everywhere: bool
    text: Mapping[str, ResourceText]


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


@dataclass(frozen=True, slots=True)
class TopicText:
    """A topic in one language."""

    title: str
    summary: str
    steps: tuple[str, ...]
    closing: str


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic: what it shows (resource kinds), how compactly, its sources and its text."""

    name: str
    show: tuple[str, ...]
    compact: bool
    sources: tuple[str, ...]
    text: Mapping[str, TopicText]


@dataclass(frozen=True, slots=True)
class Locale:
    """A language: UI text and command descriptions; ``fallback`` names the next locale."""

    code: str
    name: str
    fallback: str
    ui: Mapping[str, str]
    commands: Mapping[str, str]


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
        ui = self.strings(file, data.get("ui", {}), ("ui",))
        commands = self.strings(file, data.get("commands", {}), ("commands",))
        topics: dict[str, TopicText] = {}
        raw_topics = data.get("topics", {})
        if not isinstance(raw_topics, dict):
            self.error(file, ("topics",), "must be a table of topics")
            raw_topics = {}
        for topic, table in raw_topics.items():
            path: KeyPath = ("topics", topic)
            steps = table.get("steps", []) if isinstance(table, dict) else []
            if not isinstance(steps, list) or not all(isinstance(s, str) and s for s in steps):
                self.error(file, (*path, "steps"), "must be a list of non-empty texts")
                steps = []
            elif not steps:
                self.error(file, (*path, "steps"), "is missing or empty")
            steps = [self.braces(file, (*path, "steps"), step) for step in steps]
            topics[topic] = TopicText(
                title=self.text(file, table, path, "title", True),
                summary=self.text(file, table, path, "summary", True),
                steps=tuple(steps),
                closing=self.text(file, table, path, "closing", False),
            )
        locale = Locale(code, name, str(fallback), MappingProxyType(ui), MappingProxyType(commands))
        return locale, topics, file

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

    def topic_settings(
        self,
    ) -> tuple[dict[str, tuple[tuple[str, ...], bool, tuple[str, ...]]], TomlFile | None]:
        file = self.open(self.root / "topics.toml")
        settings: dict[str, tuple[tuple[str, ...], bool, tuple[str, ...]]] = {}
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
            compact = table.get("compact", False)
            if not isinstance(compact, bool):
                self.error(file, (*path, "compact"), "must be true or false")
                compact = False
            sources = table.get("sources", [])
            if not isinstance(sources, list) or not sources:
                self.error(file, (*path, "sources"), "must list at least one source URL")
                sources = []
            for i, source in enumerate(sources):
                if not isinstance(source, str) or not source.startswith("https://"):
                    self.error(file, (*path, "sources", i), f"must be an https:// URL: {source!r}")
            settings[topic] = (tuple(show), compact, tuple(str(s) for s in sources))
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
            region = Region(code, emergency, MappingProxyType(names), resources, aliases)
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

    def resources(self, file: TomlFile, codes: tuple[str, ...]) -> tuple[Resource, ...]:
        raw = file.data.get("resources", [])
        if not isinstance(raw, list):
            self.error(file, ("resources",), "must be an array of [[resources]] tables")
            return ()
        seen: set[str] = set()
        resources: list[Resource] = []
        for i, table in enumerate(raw):
            path: KeyPath = ("resources", i)
            rid = self.text(file, table, path, "id", True)
            if rid in seen:
                self.error(file, (*path, "id"), f"duplicate id {rid!r}")
            seen.add(rid)
            kind = self.text(file, table, path, "kind", True)
            if kind and kind not in KINDS:
                self.error(file, (*path, "kind"), f"must be one of {list(KINDS)}")
            age_text = self.text(file, table, path, "age", True)
            try:
                age = Age(age_text)
            except ValueError:
                self.error(file, (*path, "age"), "must be under18, adult or all")
                age = Age.ALL
            url = self.url(file, table, path, "url", kind != "emergency")
            phone = self.text(file, table, path, "phone", kind == "emergency")
            if phone and not _PHONE.match(phone):
                self.error(file, (*path, "phone"), f"{phone!r} is not a number a phone can dial")
            source = self.url(file, table, path, "source", True)
            verified = self.verified(file, table, path)
            everywhere = table.get("everywhere", False)
            if not isinstance(everywhere, bool):
                self.error(file, (*path, "everywhere"), "must be true or false")
                everywhere = False
            texts: dict[str, ResourceText] = {}
            for code in codes:
                texts[code] = self.resource_text(file, table, (*path, code), code, bool(url))
            resources.append(
                Resource(
                    rid,
                    kind,
                    age,
                    url,
                    phone,
                    source,
                    verified,
                    everywhere,
                    MappingProxyType(texts),
                )
            )
        return tuple(resources)

    def resource_text(
        self, file: TomlFile, table: Any, path: KeyPath, code: str, has_url: bool
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
        )

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


def _check_complete(
    loader: _Loader,
    locales: dict[str, tuple[Locale, dict[str, TopicText], TomlFile]],
    settings: dict[str, tuple[tuple[str, ...], bool, tuple[str, ...]]],
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


def _check_topic(
    loader: _Loader, file: TomlFile, topic: str, text: TopicText | None, root: TopicText
) -> None:
    """A translated topic has every step of the root locale, with the same placeholders."""
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
    pairs += [
        (f"steps[{i}]", mine, theirs)
        for i, (mine, theirs) in enumerate(zip(text.steps, root.steps, strict=False))
    ]
    for key, mine, theirs in pairs:
        unknown = sorted(placeholders(mine) - TOPIC_PLACEHOLDERS)
        if unknown:
            known = sorted(TOPIC_PLACEHOLDERS)
            loader.error(
                file, (*path, key.split("[")[0]), f"{key}: unknown {unknown}; known: {known}"
            )
        elif placeholders(mine) != placeholders(theirs):
            loader.error(file, (*path, key.split("[")[0]), f"{key}: {_placeholder_message(theirs)}")


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


def _check_regions(loader: _Loader, regions: dict[str, tuple[Region, TomlFile]]) -> None:
    """Every region can send a person to report and to remove images, whatever their age."""
    everywhere = [r for region, _ in regions.values() for r in region.resources if r.everywhere]
    for code, (region, file) in regions.items():
        available = region.resources + tuple(r for r in everywhere if r not in region.resources)
        if not any(r.kind == "report" for r in available):
            loader.error(file, ("resources",), f"{code} has no resource of kind 'report'")
        for age in (Age.UNDER18, Age.ADULT):
            if not any(r.kind == "remove" and r.age in (age, Age.ALL) for r in available):
                loader.error(file, ("resources",), f"{code} has no removal tool for age {age}")


def load_content(root: Path | None = None, today: date | None = None) -> Content:
    """Load and validate ``root`` (default: the shipped content).

    Raises ProblemsError listing every error; warnings are kept on the returned Content.
    """
    folder = root or default_content_path()
    loader = _Loader(folder, today or date.today())
    if not folder.is_dir():
        raise ProblemsError([Problem(str(folder), 1, "(folder)", "content folder not found")])
    locales = loader.locales()
    settings, _ = loader.topic_settings()
    _check_complete(loader, locales, settings)
    regions = loader.regions(locales.keys())
    _check_regions(loader, regions)
    _check_region_words(loader, regions)
    errors = [p for p in loader.problems if not p.warning]
    if errors:
        raise ProblemsError(loader.problems)
    everywhere = tuple(
        r for region, _ in regions.values() for r in region.resources if r.everywhere
    )
    frozen_regions = {
        code: Region(
            region.code,
            region.emergency,
            region.names,
            region.resources + tuple(r for r in everywhere if r not in region.resources),
            region.aliases,
        )
        for code, (region, _) in regions.items()
    }
    topics = {
        name: Topic(
            name,
            show,
            compact,
            sources,
            MappingProxyType(
                {code: texts[name] for code, (_, texts, _) in locales.items() if name in texts}
            ),
        )
        for name, (show, compact, sources) in settings.items()
    }
    return Content(
        locales=MappingProxyType({code: locale for code, (locale, _, _) in locales.items()}),
        topics=MappingProxyType(topics),
        regions=MappingProxyType(frozen_regions),
        warnings=tuple(p for p in loader.problems if p.warning),
    )
