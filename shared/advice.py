"""Advice replies built from content: a topic for a language, a region and an age group.

Content never changes while the bot runs, so each reply is built once and kept; the same reply
object is answered to everyone who asks the same thing (adapters cache their payloads by it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from shared.commands import BY_NAME, Option
from shared.content import HOURS_24_7, HOURS_ONLINE, Content, Region, Resource, Step, Topic
from shared.models import GROUP_BANDS, Age, AgeBand, Line, LinkButton, Reply, Section, Settings

MAX_BUTTONS = 10
"""A reply shows at most this many link buttons: Discord's 5 rows of 5 hold them with room to
spare, and a short list is easier to act on than a long one."""


@dataclass
class _Shown:
    """What a reply's resource sections show, gathered while they are built."""

    sections: list[Section] = field(default_factory=list)
    buttons: list[LinkButton] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


class Advisor:
    """Builds and caches the advice of every topic."""

    def __init__(self, content: Content, *, default_region: str, default_locale: str) -> None:
        self.content = content
        self.default_region = default_region
        self.default_locale = default_locale
        self._cache: dict[tuple[str, str, str, Age | None], Reply] = {}

    def reply(self, topic: str, locale: str, region: str, age: Age | None) -> Reply:
        """The reply for a topic; pure and cached, since content never changes while running."""
        key = (topic, locale, region, age)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._build(topic, locale, region, age)
        return cached

    def community_post(self, topic: str, settings: Settings) -> Reply:
        """A topic as posted in a community: its language and region, both age groups."""
        locale = self.content.resolve_locale(settings.language) or self.default_locale
        reply = self.reply(topic, locale, settings.region or self.default_region, None)
        return replace(reply, private=False)

    @staticmethod
    def content_version(reply: Reply) -> str:
        """A short hash of everything a reply shows, to tell when a post has gone stale."""
        return hashlib.sha256(repr(reply).encode()).hexdigest()[:16]

    # -- building -------------------------------------------------------------------------

    def _build(self, topic: str, locale: str, region_code: str, age: Age | None) -> Reply:
        content = self.content
        entry = content.topics[topic]
        # A topic about one age group (for-parents: a child) shows what is for that group.
        age = entry.age or age
        text = content.topic_text(topic, locale)
        region = content.region(region_code)
        emergency = content.ui(locale, "emergency_unknown")
        if region.emergency:
            emergency = content.ui(locale, "emergency_number", number=region.emergency)
        values = {"emergency": emergency, "region": content.region_name(region, locale)}
        shown = self._resources(entry, region, age, locale)
        summary = [text.summary.format(**values)]
        steps = [
            part.format(**values) for step in text.steps for part in self._step(step, age, locale)
        ]
        for note in region.notes:
            if note.topic != topic:
                continue
            sentence = content.note_text(note, locale).format(**values)
            (summary if note.place == "summary" else steps).append(sentence)
            if note.source not in shown.sources:
                shown.sources.append(note.source)
        options = BY_NAME[topic].options if topic in BY_NAME else ()
        ages: tuple[tuple[Age, str], ...] = ()
        if Option.AGE in options:
            ages = tuple((a, content.ui(locale, f"age_{a}")) for a in (Age.UNDER18, Age.ADULT))
        return Reply(
            title=text.title.format(**values),
            summary=" ".join(summary),
            steps=tuple(steps),
            sections=tuple(shown.sections),
            closing=text.closing.format(**values),
            buttons=tuple(shown.buttons[:MAX_BUTTONS]),
            sources=tuple(shown.sources),
            sources_label=content.ui(locale, "sources"),
            colon=content.colon(locale),
            topic=topic,
            locale=locale,
            region=region.code,
            age=age,
            regions=tuple(content.regions) if Option.REGION in options else (),
            ages=ages,
        )

    def _resources(self, entry: Topic, region: Region, age: Age | None, locale: str) -> _Shown:
        """The topic's resource sections for a reader of ``age``, with their link buttons and
        sources (the topic's own first)."""
        shown = _Shown(sources=list(entry.sources))
        for kind in entry.show:
            lines = []
            for resource in region.resources:
                if resource.kind != kind or not _suits(resource, age):
                    continue
                if entry.compact and kind == "support" and not _answers_now(resource):
                    # One screen lists the people who answer now; the rest are in /resources.
                    continue
                lines.append(self._line(resource, age, locale, shown, compact=entry.compact))
            if lines:
                heading = self.content.ui(locale, f"heading_{kind}")
                shown.sections.append(Section(heading, tuple(lines)))
        return shown

    def _line(
        self, resource: Resource, age: Age | None, locale: str, shown: _Shown, *, compact: bool
    ) -> Line:
        """One resource's line; its button and source are added to ``shown``."""
        words = self.content.resource_text(resource, locale)
        url = words.url or resource.url
        if url and words.button and all(b.url != url for b in shown.buttons):
            shown.buttons.append(LinkButton(words.button, url))
        if resource.source not in shown.sources:
            shown.sources.append(resource.source)
        return Line(
            words.name,
            "" if compact else words.purpose,
            " / ".join(filter(None, (resource.phone, words.text_line))),
            url,
            self._age_label(resource, age, locale),
            self.hours_text(resource, locale),
            resource.id,
        )

    def _step(self, step: Step, age: Age | None, locale: str) -> list[str]:
        """What a reader of ``age`` reads of a step: their group's words, or (age not given)
        the words for both, or each group's words marked with its age."""
        if age is Age.UNDER18:
            return [step.under18] if step.under18 else []
        if age is Age.ADULT:
            return [step.adult] if step.adult else []
        if step.both:
            return [step.both]
        return [
            self.content.ui(locale, f"step_{group}", text=words)
            for group, words in ((Age.UNDER18, step.under18), (Age.ADULT, step.adult))
            if words
        ]

    def _age_label(self, resource: Resource, age: Age | None, locale: str) -> str:
        """Who a line is for, when that is not plain from the reader's own age group.

        Services about images taken before 18 say so to everyone but under-18s (an adult's
        image may have been taken at 16); others name their age band unless it is exactly
        the reader's group.
        """
        if resource.image is not None:
            if resource.image is Age.UNDER18 and age is Age.UNDER18:
                return ""
            return self.content.ui(locale, f"image_{resource.image}")
        band = resource.band
        if band == GROUP_BANDS[Age.ALL] or (age is not None and band == GROUP_BANDS[age]):
            return ""
        return self.band_label(band, locale)

    def band_label(self, band: AgeBand, locale: str) -> str:
        """The ages a service is for, as a reader sees them ("under 18", "ages 5 to 25")."""
        ui = self.content.ui
        if band == GROUP_BANDS[Age.UNDER18]:
            return ui(locale, "age_under18")
        if band == GROUP_BANDS[Age.ADULT]:
            return ui(locale, "age_adult")
        if band.low is None and band.high is not None:
            return ui(locale, "age_below", age=str(band.high + 1))
        if band.high is None and band.low is not None:
            return ui(locale, "age_from", age=str(band.low))
        return ui(locale, "age_range", low=str(band.low), high=str(band.high))

    def hours_text(self, resource: Resource, locale: str) -> str:
        """When a resource answers, in the reader's language ("24/7", "online any time")."""
        words = self.content.resource_text(resource, locale)
        if resource.hours == HOURS_24_7:
            return self.content.ui(locale, "hours_24_7")
        if resource.hours == HOURS_ONLINE:
            if not resource.url:
                return ""
            has_phone = resource.phone or words.text_line
            return self.content.ui(locale, "hours_or_online" if has_phone else "hours_online")
        return words.hours


def _answers_now(resource: Resource) -> bool:
    """A crisis line that answers at any hour, or a finder of one (INTL)."""
    return resource.answers_now or resource.finder


def _suits(resource: Resource, age: Age | None) -> bool:
    """Whether a reader of ``age`` (None: not given) could use the resource."""
    return age is None or resource.band.overlaps(GROUP_BANDS[age])
