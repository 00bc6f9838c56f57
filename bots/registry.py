"""Every adapter the ``safety-bot`` command knows. A new platform is a folder in ``bots/`` with
a ``platform.py`` declaring its :class:`~bots.adapter.PlatformAdapter`, and a line here;
nothing in ``shared/`` changes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bots.adapter import Adapter, PlatformAdapter
from bots.console.platform import CONSOLE
from bots.discord.platform import DISCORD
from bots.telegram.platform import TELEGRAM
from shared import config
from shared.config import Config, PinsConfig
from shared.config_schema import default_edit_rates

PLATFORMS: tuple[PlatformAdapter, ...] = (TELEGRAM, DISCORD)
"""The chat platforms, in the order ``safety-bot run`` starts them."""
ADAPTERS: tuple[Adapter, ...] = (CONSOLE, *PLATFORMS)
SECTIONS = tuple(platform.section for platform in PLATFORMS)


def adapter(name: str) -> Adapter | None:
    """The adapter called ``name``, if any."""
    return next((found for found in ADAPTERS if found.name == name), None)


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """The configuration (see :func:`shared.config.load_config`), with every platform's
    section."""
    return config.load_config(path, env, SECTIONS)


def default_config(**fields: Any) -> Config:
    """Built-in defaults with every platform's section and pace, and ``fields`` set; a
    platform's name gives its section (``telegram=TelegramConfig(token=...)``). For
    configurations built in code (tests, benchmarks); ``safety-bot`` reads its own with
    :func:`load_config`."""
    sections = {s.name: fields.pop(s.name, None) or s.holder() for s in SECTIONS}
    return Config(platforms=sections, pins=PinsConfig(default_edit_rates(SECTIONS)), **fields)
