"""Platform-neutral domain types: what adapters hand the core and what they get back, and what
is stored for a community (its settings, the posts pinned in it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Age(StrEnum):
    """Age group of a person or of a resource's audience."""

    UNDER18 = "under18"
    ADULT = "adult"
    ALL = "all"


ADULT_AGE = 18
_OLDEST = 150
"""An age no band needs to reach past, for sweeping open-ended bands."""


@dataclass(frozen=True, slots=True)
class AgeBand:
    """The ages, in whole years and inclusive, a service is for; None leaves a side open."""

    low: int | None = None
    high: int | None = None

    def overlaps(self, other: AgeBand) -> bool:
        """Whether someone could be in both bands."""
        below = self.high is not None and other.low is not None and self.high < other.low
        above = self.low is not None and other.high is not None and self.low > other.high
        return not (below or above)

    @property
    def group(self) -> Age:
        """The reader age group this band serves: one of them, or both (``ALL``)."""
        if self.high is not None and self.high < ADULT_AGE:
            return Age.UNDER18
        if self.low is not None and self.low >= ADULT_AGE:
            return Age.ADULT
        return Age.ALL


GROUP_BANDS: dict[Age, AgeBand] = {
    Age.UNDER18: AgeBand(None, ADULT_AGE - 1),
    Age.ADULT: AgeBand(ADULT_AGE, None),
    Age.ALL: AgeBand(),
}
"""The ages each reader group covers."""


def bands_cover(bands: list[AgeBand], wanted: AgeBand) -> bool:
    """Whether the bands together leave no age of ``wanted`` uncovered."""
    start = wanted.low or 0
    end = wanted.high if wanted.high is not None else _OLDEST
    for band in sorted(bands, key=lambda b: b.low or 0):
        if (band.low or 0) > start:
            break
        start = max(start, (band.high if band.high is not None else _OLDEST) + 1)
        if start > end:
            return True
    return start > end


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
class Settings:
    """A community's choices; None means "use the default"."""

    region: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class PinnedPost:
    """A post the bot made and pinned on a moderator's command."""

    community: Community
    channel_id: str
    message_id: str
    topic: str
    content_version: str
    updated_at: int = 0
    reported: bool = False
    """The community's moderators were told the bot may no longer edit this post."""


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
    channel: str | None = None
    """Where a moderator's post goes (the channel they named, or where they typed); None:
    the community itself (a Telegram group)."""


@dataclass(frozen=True, slots=True)
class Pointer:
    """What a group sees when someone types a command there, on a platform that can answer
    only in a private chat (Telegram): a neutral line and a button that opens the private
    chat on ``command``, for ``region`` and the community's ``language`` (the adapter writes
    the link). Nobody in the group learns what the person reads."""

    text: str
    button: str
    command: str
    region: str
    language: str | None
    locale: str


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
    hours: str = ""
    """When it answers, in the reader's language ("24/7", "Mon-Fri 10:00-16:00 UK time")."""
    resource: str = ""
    """The id of the resource this line shows (empty for lines that are not resources)."""


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
    colon: str = ": "
    """How the reply's language writes a colon before a value: French puts a space before it."""
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
