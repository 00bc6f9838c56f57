"""Platform-neutral request and reply: what adapters hand the core and what they get back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Age(StrEnum):
    """Age group of a person or of a resource's audience."""

    UNDER18 = "under18"
    ADULT = "adult"
    ALL = "all"


class ReplyKind(StrEnum):
    """What a reply is, so adapters can style it (advice, a notice, a refusal, an error)."""

    ADVICE = "advice"
    NOTICE = "notice"
    REFUSAL = "refusal"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Community:
    """A Discord server or Telegram group: the only thing the bot keeps settings for."""

    platform: str
    id: str


@dataclass(frozen=True, slots=True)
class Request:
    """One command from a person, stripped of everything that identifies them.

    ``command`` is a command word (``/report``, ``help_threatened``), "" for words that are no
    command; adapters read typed lines into it and ``options`` with ``Core.read``.
    ``user_key`` exists only for the in-memory cooldown; the core hashes it at once and
    never stores or logs it.
    """

    command: str
    options: Mapping[str, str] = field(default_factory=dict)
    user_locale: str | None = None
    community: Community | None = None
    is_moderator: bool = False
    is_private_chat: bool = True
    user_key: str | None = None


@dataclass(frozen=True, slots=True)
class LinkButton:
    """A button that opens a web page (never tel: or sms:, which platforms refuse)."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Line:
    """One resource line in a section: name, what it is for, how to reach it."""

    name: str
    purpose: str
    phone: str = ""
    url: str = ""
    age_label: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of resource lines (emergency, report, remove, support)."""

    heading: str
    lines: tuple[Line, ...]
    commands: bool = False
    """When true, each line's ``name`` is a command name for the adapter to write its way."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What the core answers; adapters turn it into embeds, HTML or terminal text."""

    title: str
    notice: str = ""
    summary: str = ""
    steps: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    closing: str = ""
    buttons: tuple[LinkButton, ...] = ()
    sources: tuple[str, ...] = ()
    sources_label: str = ""
    private: bool = True
    kind: ReplyKind = ReplyKind.ADVICE
    topic: str | None = None
    locale: str = "en"
    region: str = ""
    age: Age | None = None
    regions: tuple[str, ...] = ()
    """Region codes the person may switch this advice to; empty when the topic has none."""
    ages: tuple[tuple[Age, str], ...] = ()
    """Age groups the person may narrow this advice to, each with its label in ``locale``."""
