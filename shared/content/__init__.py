"""Advice content: loaded once from ``messages/``, validated, and frozen.

Layout (see ``messages/README.md``):
- ``topics.toml``: per topic, which resource kinds it shows and its sources.
- ``locales/<code>.toml``: every piece of text in one language (UI, command descriptions, topics).
- ``regions/<CODE>.toml``: a region's emergency number and its resources, with text per locale.

The code: :mod:`~shared.content.model` (the frozen types and their lookups) is all a reader of
content needs; :mod:`~shared.content.loader` reads the files (one module per kind of file, each
value through :mod:`~shared.content.reader`) and runs :mod:`~shared.content.checks`, the rules
across files.
"""

from shared.content.checks import missing_for
from shared.content.loader import default_content_path, load_content
from shared.content.model import (
    CONFIDENCE,
    FALLBACK_REGION,
    HOURS,
    HOURS_24_7,
    HOURS_LIMITED,
    HOURS_ONLINE,
    KINDS,
    NOTE_PLACES,
    ROOT_LOCALE,
    STEP_AGES,
    Content,
    Locale,
    Note,
    Region,
    Resource,
    ResourceText,
    Step,
    Topic,
    TopicText,
)
from shared.content.reader import STALE_AFTER
from shared.content.regions import REQUIRED_REGIONS
from shared.content.ui import UI_KEYS, UI_TEXTS

__all__ = [
    "CONFIDENCE",
    "FALLBACK_REGION",
    "HOURS",
    "HOURS_24_7",
    "HOURS_LIMITED",
    "HOURS_ONLINE",
    "KINDS",
    "NOTE_PLACES",
    "REQUIRED_REGIONS",
    "ROOT_LOCALE",
    "STALE_AFTER",
    "STEP_AGES",
    "UI_KEYS",
    "UI_TEXTS",
    "Content",
    "Locale",
    "Note",
    "Region",
    "Resource",
    "ResourceText",
    "Step",
    "Topic",
    "TopicText",
    "default_content_path",
    "load_content",
    "missing_for",
]
