"""Loading the content: each file read into the model (``locales/``, ``topics.toml``,
``regions/``), then the rules across files checked, then everything frozen into
:class:`~shared.content.model.Content`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from types import MappingProxyType

from shared.content.checks import (
    check_complete,
    check_region_typography,
    check_region_words,
    check_regions,
    check_topic_sources,
)
from shared.content.locales import LocaleFile, read_locales
from shared.content.model import Content, Topic
from shared.content.reader import Reader
from shared.content.regions import RegionFile, read_regions
from shared.content.topics import TopicSettings, read_topics
from shared.problems import Problem, ProblemsError


def default_content_path() -> Path:
    """Shipped content: beside the installed package, else the source tree's ``messages/``."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "messages"
    return installed if installed.is_dir() else package.parent / "messages"


def load_content(root: Path | None = None, today: date | None = None) -> Content:
    """Load and validate ``root`` (default: the shipped content).

    Raises ProblemsError listing every error; warnings are kept on the returned Content.
    """
    folder = root or default_content_path()
    reader = Reader(folder, today or date.today())
    if not folder.is_dir():
        raise ProblemsError([Problem(str(folder), 1, "(folder)", "content folder not found")])
    locales = read_locales(reader)
    topics = read_topics(reader)
    check_complete(reader, locales, topics.settings)
    regions = read_regions(reader, locales.keys())
    check_regions(reader, regions)
    check_region_words(reader, regions)
    if topics.file is not None:
        check_topic_sources(reader, topics.file, topics.settings, regions)
    spaced = [code for code, entry in locales.items() if entry.locale.space_before_colon]
    for found in regions.values():
        check_region_typography(reader, found.region, found.file, spaced)
    errors = [p for p in reader.problems if not p.warning]
    if errors:
        raise ProblemsError(reader.problems)
    return _frozen(
        locales, topics.settings, regions, tuple(p for p in reader.problems if p.warning)
    )


def _frozen(
    locales: dict[str, LocaleFile],
    settings: dict[str, TopicSettings],
    regions: dict[str, RegionFile],
    warnings: tuple[Problem, ...],
) -> Content:
    """The content read, frozen: each region with the resources listed everywhere, each topic
    with its texts in every locale that has them."""
    everywhere = tuple(
        r for entry in regions.values() for r in entry.region.resources if r.everywhere
    )
    frozen_regions = {
        code: replace(
            entry.region,
            resources=entry.region.resources
            + tuple(r for r in everywhere if r not in entry.region.resources),
        )
        for code, entry in regions.items()
    }
    topics = {
        name: Topic(
            name,
            topic.show,
            topic.compact,
            topic.sources,
            MappingProxyType(
                {code: e.topics[name] for code, e in locales.items() if name in e.topics}
            ),
            crisis=topic.crisis,
            age=topic.age,
        )
        for name, topic in settings.items()
    }
    return Content(
        locales=MappingProxyType({code: entry.locale for code, entry in locales.items()}),
        topics=MappingProxyType(topics),
        regions=MappingProxyType(frozen_regions),
        warnings=warnings,
    )
