"""The rules across content files, run once every file is read: every locale complete and
typographically right, every region and age with somewhere to report and a crisis line, names
that point at one region only, topic sources that apply to every reader."""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared.commands import COMMANDS
from shared.content.locales import LocaleFile
from shared.content.model import FALLBACK_REGION, ROOT_LOCALE, Locale, Region, Resource, TopicText
from shared.content.reader import TOPIC_PLACEHOLDERS, Reader, placeholders
from shared.content.regions import RegionFile
from shared.content.topics import TopicSettings
from shared.content.ui import UI_TEXTS
from shared.layout import source_hosts
from shared.models import GROUP_BANDS, Age, bands_cover
from shared.problems import TomlFile
from shared.tomlpos import KeyPath
from shared.typed import fold


def check_ui_values(
    reader: Reader, file: TomlFile, key: str, text: str, given: frozenset[str]
) -> None:
    """A UI text shows exactly the values the code gives it (the other locales are held to
    the root locale's placeholders)."""
    used = placeholders(text)
    shown = ", ".join(f"{{{name}}}" for name in sorted(given)) or "none"
    for name in sorted(used - given):
        reader.error(
            file,
            ("ui", key),
            f"{{{name}}} is not a value the bot gives this text (it gives: {shown})",
        )
    for name in sorted(given - used):
        reader.error(file, ("ui", key), f"does not show {{{name}}}, which the bot gives it")


# French typography (OQLF): a space before a colon. Matches a colon that ends a word and is
# followed by a space or the end (not "https://", not "10:00").
_TIGHT_COLON = re.compile(r"\S:(?=\s|$)")


def check_complete(
    reader: Reader, locales: dict[str, LocaleFile], settings: dict[str, TopicSettings]
) -> None:
    """Every locale has every key, topic and step of the root locale, with the same placeholders."""
    if ROOT_LOCALE not in locales:
        return
    root_entry = locales[ROOT_LOCALE]
    root, root_topics, root_file = root_entry.locale, root_entry.topics, root_entry.file
    for key, given in UI_TEXTS.items():
        if key not in root.ui:
            reader.error(root_file, ("ui", key), "is missing")
        else:
            check_ui_values(reader, root_file, key, root.ui[key], given)
    for command in COMMANDS:
        if command.name not in root.commands:
            reader.error(root_file, ("commands", command.name), "description is missing")
    for topic in settings:
        if topic not in root_topics:
            reader.error(root_file, ("topics", topic), "topic text is missing")
    for entry in locales.values():
        locale, topics, file = entry.locale, entry.topics, entry.file
        if locale.fallback and locale.fallback not in locales:
            reader.error(file, ("locale", "fallback"), f"unknown locale {locale.fallback!r}")
        for group, mine, theirs in (
            ("ui", locale.ui, root.ui),
            ("commands", locale.commands, root.commands),
        ):
            for key, text in theirs.items():
                if key not in mine:
                    reader.error(file, (group, key), f"missing (present in {ROOT_LOCALE})")
                elif placeholders(mine[key]) != placeholders(text):
                    reader.error(file, (group, key), _placeholder_message(text))
        for topic, root_text in root_topics.items():
            _check_topic(reader, file, topic, topics.get(topic), root_text)
        if locale.space_before_colon:
            _check_locale_typography(reader, file, locale, topics)


def _check_topic(
    reader: Reader, file: TomlFile, topic: str, text: TopicText | None, root: TopicText
) -> None:
    """A translated topic has every step of the root locale, worded for the same ages, with
    the same placeholders."""
    path: KeyPath = ("topics", topic)
    if text is None:
        reader.error(file, path, f"topic missing (present in {ROOT_LOCALE})")
        return
    if len(text.steps) != len(root.steps):
        message = f"has {len(text.steps)} steps, {ROOT_LOCALE} has {len(root.steps)}"
        reader.error(file, (*path, "steps"), message)
    pairs = [
        (key, getattr(text, key), getattr(root, key)) for key in ("title", "summary", "closing")
    ]
    for i, (mine, theirs) in enumerate(zip(text.steps, root.steps, strict=False)):
        if mine.shape != theirs.shape:
            ages = [age for age, _ in theirs.variants()]
            message = f"steps[{i}]: must be worded for the same ages as {ROOT_LOCALE}: {ages}"
            reader.error(file, (*path, "steps", i), message)
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
            reader.error(file, where, f"{key}: unknown {unknown}; known: {known}")
        elif placeholders(mine_value) != placeholders(theirs_value):
            reader.error(file, where, f"{key}: {_placeholder_message(theirs_value)}")


def _placeholder_message(root_text: str) -> str:
    names = sorted(placeholders(root_text))
    return f"placeholders must match {ROOT_LOCALE}: {names}"


def check_region_words(reader: Reader, regions: dict[str, RegionFile]) -> None:
    """A name or alias a person may type names one region only (``Ireland`` cannot be both
    IE and GB), so typed regions are never a guess."""
    owners: dict[str, tuple[str, TomlFile]] = {}
    # Codes and names first, so an alias that clashes with a name is the one reported.
    named = [
        (code, entry.file, word, ("region", "name"))
        for code, entry in regions.items()
        for word in (code, *entry.region.names.values())
    ]
    aliased = [
        (code, entry.file, alias, ("region", "aliases"))
        for code, entry in regions.items()
        for alias in entry.region.aliases
    ]
    for code, file, word, path in named + aliased:
        owner = owners.setdefault(fold(word), (code, file))
        if owner[0] != code:
            other = f"{owner[0]} in {owner[1].display}"
            reader.error(file, path, f"{word!r} also names {other}: it must name one region")


_TYPOGRAPHY = "put a space before ':' (French typography: \"Cyberaide.ca : 1-866-658-9022\")"


def _check_locale_typography(
    reader: Reader, file: TomlFile, locale: Locale, topics: dict[str, TopicText]
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
            reader.error(file, path, _TYPOGRAPHY)


def check_region_typography(
    reader: Reader, region: Region, file: TomlFile, spaced: Iterable[str]
) -> None:
    """A region's texts in a language that spaces its colons do too."""
    for code in spaced:
        for i, resource in enumerate(region.resources):
            words = resource.text.get(code)
            if words is None:
                continue
            for key in ("name", "purpose", "button", "text_line", "hours"):
                if _TIGHT_COLON.search(getattr(words, key)):
                    reader.error(file, ("resources", i, code, key), _TYPOGRAPHY)
        for i, note in enumerate(region.notes):
            if _TIGHT_COLON.search(note.text.get(code, "")):
                reader.error(file, ("notes", i, code), _TYPOGRAPHY)


def check_regions(reader: Reader, regions: dict[str, RegionFile]) -> None:
    """Every region, for readers under 18 and adults alike, has somewhere to report, a tool that
    stops images spreading, and a crisis line that answers 24/7 whatever their age (INTL, which
    has no lines of its own: a crisis-line finder)."""
    everywhere = [r for entry in regions.values() for r in entry.region.resources if r.everywhere]
    for code, entry in regions.items():
        region, file = entry.region, entry.file
        available = region.resources + tuple(r for r in everywhere if r not in region.resources)
        for i, resource in enumerate(region.resources):
            if resource.finder and resource.kind != "support":
                message = "only a 'support' resource can be a crisis-line finder"
                reader.error(file, ("resources", i, "finder"), message)
        for age in (Age.UNDER18, Age.ADULT):
            for problem in missing_for(code, available, age):
                reader.error(file, ("resources",), f"{code}, {age.value}: {problem}")


def check_topic_sources(
    reader: Reader,
    file: TomlFile,
    settings: dict[str, TopicSettings],
    regions: dict[str, RegionFile],
) -> None:
    """A topic's sources are shown to every reader: none may be the site of a service listed
    for some regions only (a Canadian teen's footer must not name a UK helpline)."""
    sites: dict[str, set[str]] = {}
    for code, found in regions.items():
        for resource in found.region.resources:
            urls = [resource.url, *(words.url for words in resource.text.values())]
            for host in source_hosts(tuple(filter(None, urls))):
                sites.setdefault(host, set()).add(code)
    everywhere = set(
        source_hosts(
            tuple(
                r.url for entry in regions.values() for r in entry.region.resources if r.everywhere
            )
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
                reader.error(file, (topic, "sources", i), message)


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
