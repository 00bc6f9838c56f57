"""Reading ``topics.toml``: per topic, what it shows, how, on which sources, and for whom."""

from __future__ import annotations

from dataclasses import dataclass

from shared.commands import TOPICS
from shared.content.model import KINDS
from shared.content.reader import Reader
from shared.models import Age
from shared.problems import TomlFile
from shared.tomlpos import KeyPath


@dataclass(frozen=True, slots=True)
class TopicSettings:
    """A topic's entry in topics.toml."""

    show: tuple[str, ...]
    compact: bool
    sources: tuple[str, ...]
    crisis: bool
    age: Age | None


@dataclass(frozen=True, slots=True)
class TopicsFile:
    """``topics.toml`` as read: each topic's settings, and the file (None when it could not
    be read) for the line of a problem that the checks across files find later."""

    settings: dict[str, TopicSettings]
    file: TomlFile | None


def read_topics(reader: Reader) -> TopicsFile:
    """``topics.toml``: every topic's settings (each of :data:`TOPICS` is required)."""
    file = reader.open(reader.root / "topics.toml")
    settings: dict[str, TopicSettings] = {}
    if file is None:
        return TopicsFile(settings, None)
    for topic, table in file.data.items():
        path: KeyPath = (topic,)
        if not isinstance(table, dict):
            reader.error(file, path, "must be a table")
            continue
        show = table.get("show", [])
        if not isinstance(show, list) or any(kind not in KINDS for kind in show):
            reader.error(file, (*path, "show"), f"must list resource kinds from {list(KINDS)}")
            show = []
        compact = reader.flag(file, table, path, "compact")
        crisis = reader.flag(file, table, path, "crisis")
        about: Age | None = None
        if "age" in table:
            if table["age"] in (Age.UNDER18, Age.ADULT):
                about = Age(table["age"])
            else:
                reader.error(file, (*path, "age"), 'must be "under18" or "adult"')
        if crisis and "support" not in show:
            reader.error(file, (*path, "show"), "a crisis topic must show 'support' lines")
        sources = table.get("sources", [])
        if not isinstance(sources, list) or not sources:
            reader.error(file, (*path, "sources"), "must list at least one source URL")
            sources = []
        for i, source in enumerate(sources):
            if not isinstance(source, str) or not source.startswith("https://"):
                reader.error(file, (*path, "sources", i), f"must be an https:// URL: {source!r}")
        settings[topic] = TopicSettings(
            tuple(show), compact, tuple(str(s) for s in sources), crisis, about
        )
    for topic in TOPICS:
        if topic not in settings:
            reader.error(file, (topic,), "topic is missing")
    return TopicsFile(settings, file)
