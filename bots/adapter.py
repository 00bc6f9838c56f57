"""What an adapter declares to the ``safety-bot`` command: its name and how it shows a reply;
for a chat platform also its config section (token included), how it runs, how it refreshes
pinned posts, and its operator commands. ``bots/registry.py`` lists them."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from shared.config import Config
from shared.config_schema import PlatformSection
from shared.core import Core
from shared.models import Reply
from shared.pins import Counts


@dataclass(frozen=True, slots=True)
class Renderer:
    """How a platform shows a reply: as text a person reads, and as the exact payload sent."""

    text: Callable[[Reply], str]
    payload: Callable[[Reply], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class OperatorCommand:
    """A ``safety-bot`` command of one platform's (``invite-url``)."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    """Adds the command's own arguments to its parser."""
    run: Callable[[argparse.Namespace, Config], int]
    """Runs it; returns the exit code."""


@dataclass(frozen=True, slots=True)
class Adapter:
    """An adapter: its name and its renderer (imported when asked for, so that a command
    loads only the platform library it uses)."""

    name: str
    renderer: Callable[[], Renderer]


@dataclass(frozen=True, slots=True)
class PlatformAdapter(Adapter):
    """A chat platform's adapter: what ``safety-bot run``, ``refresh-pins`` and ``pins`` need."""

    section: PlatformSection
    serve: Callable[[Core], Awaitable[None]]
    """Runs the bot on the platform until cancelled."""
    refresh_pins: Callable[[Core], Awaitable[Counts]]
    """Edits every stale pinned post now, without serving."""
    commands: tuple[OperatorCommand, ...] = ()

    @property
    def token_variable(self) -> str:
        """The environment variable the platform's token comes from."""
        return self.section.token_variable
