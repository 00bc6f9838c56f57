"""Writes the preview site: what every page shows (:class:`Site`), built first, then the pages
(:mod:`bots.preview.pages`) and one stylesheet into a folder only this command writes to."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bots.preview.changes import Change, ChangeGroup, compare, grouped, review_lines
from bots.preview.pages import Pages
from bots.preview.replies import Combination, ReplyView, combinations, reply_view
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.problems import Problem

MARKER = ".safety-bot-preview"
"""A file in every folder the site was written to, so a rebuild may replace it."""
STYLESHEET = Path(__file__).parent / "static" / "style.css"
_OWN = (
    "index.html",
    "warnings.html",
    "texts.html",
    "changes.html",
    "style.css",
    "replies",
    "regions",
)


class OutputError(Exception):
    """The site cannot be written where it was asked to go."""


@dataclass(frozen=True, slots=True)
class Site:
    """Everything the pages show, built before any page is written."""

    core: Core
    """The core the replies were built with (its content, and its words for facts)."""
    today: date
    source: str
    views: Mapping[Combination, ReplyView]
    against: str = ""
    changes: list[Change] | None = None
    """The replies that differ from the content compared with; None when not comparing."""

    @property
    def content(self) -> Content:
        """The content the site shows."""
        return self.core.content

    @property
    def replies(self) -> int:
        """How many replies the site shows."""
        return len(self.views)

    @property
    def changed(self) -> frozenset[Combination]:
        """The replies that differ from the content compared with."""
        return frozenset(change.combination for change in self.changes or [])

    @property
    def groups(self) -> list[ChangeGroup]:
        """The changes, those alike together."""
        return grouped(self.changes or [])

    @property
    def locales(self) -> list[str]:
        """The content's languages, in order."""
        return list(self.content.locales)

    @property
    def regions(self) -> list[str]:
        """The content's regions, in order."""
        return list(self.content.regions)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """What ``safety-bot check`` warns about."""
        return self.content.warnings

    @property
    def over(self) -> list[ReplyView]:
        """Replies that break a platform limit or the first-screen budget."""
        return [view for view in self.views.values() if view.over]


def collect(
    content: Content,
    config: Config,
    *,
    source: str,
    before: Content | None = None,
    against: str = "",
    today: date | None = None,
) -> Site:
    """Every reply of ``content`` as each platform shows it, and, given the content of
    ``before``, what differs from it."""
    day = today or date.today()
    core = Core(content, None, config)
    views = {c: reply_view(core, c, day) for c in combinations(content)}
    if before is None:
        return Site(core, day, source, views)
    old = Core(before, None, config)
    previous = {c: review_lines(reply_view(old, c, day)) for c in combinations(before)}
    changes = compare({c: review_lines(v) for c, v in views.items()}, previous)
    return Site(core, day, source, views, against, changes)


def write(site: Site, out: Path) -> int:
    """Write every page of ``site`` into ``out``; returns the number of pages."""
    _prepare(out)
    pages = Pages(site, out)
    pages.write("index.html", "index.html", "Every reply", topics=pages.topics())
    pages.write("warnings.html", "warnings.html", "Check warnings")
    pages.write("texts.html", "texts.html", "Every other text", text_groups=pages.texts())
    if site.changes is not None:
        pages.write("changes.html", "changes.html", "Changes")
    for code, region in site.content.regions.items():
        pages.write(
            f"regions/{code}.html",
            "region.html",
            pages.region_label(code),
            region=region,
            seen=pages.seen(code),
            resources=pages.region_resources(region),
        )
    changes = {change.combination: change for change in site.changes or []}
    for combination, view in site.views.items():
        pages.write(
            combination.path,
            "reply.html",
            pages.reply_label(combination),
            view=view,
            versions=pages.versions(combination),
            change=changes.get(combination),
        )
    shutil.copyfile(STYLESHEET, out / "style.css")
    return pages.count


def _prepare(out: Path) -> None:
    """Make ``out`` ready: a new or empty folder, or one this command wrote before (its old
    pages are removed, so none outlives a reply that no longer exists)."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file; choose a folder for the site")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise OutputError(
                f"{out} is not empty and was not written by safety-bot preview;"
                " choose a new or empty folder"
            )
        for name in _OWN:
            path = out / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("Written by `safety-bot preview`; rebuilding replaces it.\n")
