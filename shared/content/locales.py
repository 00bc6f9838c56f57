"""Reading ``locales/<code>.toml``: a language's UI texts, command descriptions and topics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from shared.content.model import ROOT_LOCALE, STEP_AGES, Locale, Step, TopicText
from shared.content.reader import Reader
from shared.problems import TomlFile
from shared.tomlpos import KeyPath

_LOCALE_CODE = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True, slots=True)
class LocaleFile:
    """A locale as read from its file: the locale, its topics' texts, and the file (for the
    line of a problem that the checks across files find later)."""

    locale: Locale
    topics: dict[str, TopicText]
    file: TomlFile


def read_locales(reader: Reader) -> dict[str, LocaleFile]:
    """Every ``locales/*.toml``, by code; the root locale's file is required."""
    found: dict[str, LocaleFile] = {}
    folder = reader.root / "locales"
    for path in sorted(folder.glob("*.toml")):
        file = reader.open(path)
        if file is None:
            continue
        code = path.stem
        if not _LOCALE_CODE.match(code):
            reader.error(file, (), f"file name must be a two-letter language code, not {code!r}")
            continue
        found[code] = _read_locale(reader, file, code)
    if ROOT_LOCALE not in found:
        reader.missing(folder / f"{ROOT_LOCALE}.toml", "missing")
    return found


def _read_locale(reader: Reader, file: TomlFile, code: str) -> LocaleFile:
    data = file.data
    meta = data.get("locale", {})
    name = reader.text(file, meta, ("locale",), "name", True)
    fallback = "" if code == ROOT_LOCALE else (meta.get("fallback") or ROOT_LOCALE)
    spaced = reader.flag(file, meta, ("locale",), "space_before_colon")
    ui = reader.strings(file, data.get("ui", {}), ("ui",))
    commands = reader.strings(file, data.get("commands", {}), ("commands",))
    topics: dict[str, TopicText] = {}
    raw_topics = data.get("topics", {})
    if not isinstance(raw_topics, dict):
        reader.error(file, ("topics",), "must be a table of topics")
        raw_topics = {}
    for topic, table in raw_topics.items():
        path: KeyPath = ("topics", topic)
        topics[topic] = TopicText(
            title=reader.text(file, table, path, "title", True),
            summary=reader.text(file, table, path, "summary", True),
            steps=_read_steps(reader, file, table, (*path, "steps")),
            closing=reader.text(file, table, path, "closing", False),
        )
    locale = Locale(
        code,
        name,
        str(fallback),
        MappingProxyType(ui),
        MappingProxyType(commands),
        space_before_colon=spaced,
    )
    return LocaleFile(locale, topics, file)


def _read_steps(reader: Reader, file: TomlFile, table: Any, path: KeyPath) -> tuple[Step, ...]:
    """A topic's steps: texts, or tables of texts per age (``under18``, ``adult``,
    ``both``)."""
    raw = table.get("steps", []) if isinstance(table, dict) else []
    if not isinstance(raw, list) or not raw:
        reader.error(file, path, "must be a non-empty list of steps")
        return ()
    steps: list[Step] = []
    for i, item in enumerate(raw):
        if isinstance(item, str) and item.strip():
            steps.append(Step.everyone(reader.braces(file, (*path, i), item)))
            continue
        if not isinstance(item, dict):
            reader.error(file, (*path, i), "must be a text or a table of texts by age")
            continue
        unknown = sorted(set(item) - set(STEP_AGES))
        if unknown:
            reader.error(file, (*path, i), f"unknown keys {unknown}; use {list(STEP_AGES)}")
        if not (item.get("under18") or item.get("adult")):
            reader.error(file, (*path, i), "a step by age needs under18, adult or both")
        texts = [reader.text(file, item, (*path, i), age, False) for age in STEP_AGES]
        steps.append(Step(*texts))
    return tuple(steps)
