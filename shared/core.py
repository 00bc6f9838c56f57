"""The core: turns a platform-neutral :class:`Request` into a :class:`Reply`.

Every rule lives here (who may use what, which language and region apply, which resources a
person sees); adapters only translate. Replies are built from immutable content and cached.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from shared.commands import BY_NAME, COMMANDS, TOPICS, Audience, Command, Option, canonical_name
from shared.config import Config
from shared.content import (
    FALLBACK_REGION,
    HOURS_24_7,
    HOURS_ONLINE,
    ROOT_LOCALE,
    Content,
    Resource,
    Step,
)
from shared.cooldown import Cooldown
from shared.metrics import Metrics, Refusal
from shared.models import (
    GROUP_BANDS,
    Age,
    AgeBand,
    Community,
    Line,
    LinkButton,
    PinnedPost,
    Reply,
    ReplyKind,
    Request,
    Section,
    Settings,
)
from shared.pins import Pins
from shared.store import Store
from shared.typed import Grammar, Typed, fold

log = logging.getLogger(__name__)

# A reply shows at most this many link buttons: Discord's 5 rows of 5 hold them with room to
# spare, and a short list is easier to act on than a long one.
MAX_BUTTONS = 10
FREE_TEXT_COMMANDS = ("help-threatened", "image-shared", "resources")
"""Where words that are no command point: the commands most people who write need first."""
_STORE_ERROR_INTERVAL = 60.0
Stored = TypeVar("Stored")
_MAX_CACHED_COMMUNITIES = 100_000


class Core:
    """Answers requests; holds content, the settings cache and the cooldown."""

    def __init__(
        self,
        content: Content,
        store: Store | None,
        config: Config,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.content = content
        self.store = store
        self.config = config
        self._clock = clock
        self._cooldown = Cooldown(config.cooldown_commands, config.cooldown_seconds, clock=clock)
        self.grammar = Grammar(content)
        self._settings: OrderedDict[Community, Settings] = OrderedDict()
        # Counts changes made by other processes, so that a read that was under way while
        # one arrived is not cached (it may be from before the change).
        self._changes = 0
        self._advice: dict[tuple[str, str, str, Age | None], Reply] = {}
        self._last_store_error = -_STORE_ERROR_INTERVAL
        self._unlogged_store_errors = 0
        self.default_locale = content.resolve_locale(config.default_locale) or ROOT_LOCALE
        self.pins = Pins(self)
        self.metrics = Metrics(content.regions, content.locales)

    # -- settings -------------------------------------------------------------------------

    async def settings(self, community: Community | None) -> Settings:
        """A community's settings; cached after the first read, defaults if the store fails."""
        if community is None:
            return Settings()
        cached = self._settings.get(community)
        if cached is not None:
            return cached
        if self.store is None:
            return Settings()
        changes = self._changes
        try:
            found = await self.store.get_settings(community) or Settings()
        except Exception:
            self.store_failed("read settings")
            return Settings()
        if changes == self._changes:
            self._remember(community, found)
        return found

    def settings_changed(self, community: Community | None) -> None:
        """Another process changed ``community``'s settings or deleted it (None: any
        community may have changed): its next command reads them again."""
        self._changes += 1
        if community is None:
            self._settings.clear()
        else:
            self._settings.pop(community, None)

    def _remember(self, community: Community, settings: Settings) -> None:
        self._settings[community] = settings
        self._settings.move_to_end(community)
        while len(self._settings) > _MAX_CACHED_COMMUNITIES:
            self._settings.popitem(last=False)

    def store_failed(self, action: str) -> None:
        """Log a storage failure at most once a minute, so a broken disk cannot flood the log."""
        self.metrics.store_failed(action)
        now = self._clock()
        if now - self._last_store_error < _STORE_ERROR_INTERVAL:
            self._unlogged_store_errors += 1
            return
        log.exception(
            "storage failed to %s (%d more failures since the last report); "
            "answering with defaults",
            action,
            self._unlogged_store_errors,
        )
        self._last_store_error = now
        self._unlogged_store_errors = 0

    async def _guarded(self, action: str, work: Awaitable[Stored], failed: Stored) -> Stored:
        """``work``'s result, or ``failed`` when the store raised (logged, once a minute)."""
        try:
            return await work
        except Exception:
            self.store_failed(action)
            return failed

    async def save_settings(self, community: Community, settings: Settings) -> bool:
        """Save a community's settings; False (and logged) when the store failed."""
        if self.store is None:
            self._remember(community, settings)
            return True
        try:
            await self.store.save_settings(community, settings)
        except Exception:
            self.store_failed("save settings")
            return False
        self._remember(community, settings)
        return True

    async def forget_community(self, community: Community) -> None:
        """The bot left a community: delete every stored row of it (logged if the store
        failed)."""
        self._settings.pop(community, None)
        if self.store is not None:
            await self._guarded("forget a community", self.store.delete_community(community), None)

    async def meta(self, key: str) -> str | None:
        """An operator value from the store; None when unset, without a store, or when the
        store failed (logged)."""
        if self.store is None:
            return None
        return await self._guarded("read an operator value", self.store.get_meta(key), None)

    async def set_meta(self, key: str, value: str) -> bool:
        """Store an operator value; False (and logged) when the store failed."""
        if self.store is None:
            return True
        return await self._guarded(
            "save an operator value", _done(self.store.set_meta(key, value)), False
        )

    # -- language and region ----------------------------------------------------------------

    def locale_for(self, user_locale: str | None, settings: Settings) -> str:
        """The person's language if we have it, else the community's, else the default."""
        return (
            self.content.resolve_locale(user_locale)
            or self.content.resolve_locale(settings.language)
            or self.default_locale
        )

    def region_code(self, value: str | None, locale: str = ROOT_LOCALE) -> str | None:
        """A known region code for a code, a name or an alias in any locale (``locale`` is
        the reader's: names are understood in every one); None if unknown."""
        return self.grammar.region(value)

    def read(self, line: str) -> Typed | None:
        """A typed line as a command and options (see :mod:`shared.typed`); None if blank."""
        return self.grammar.read(line)

    def text(self, locale: str, key: str, **values: str) -> str:
        """A UI string from content, for adapters (buttons, refusals, welcome)."""
        return self.content.ui(locale, key, **values)

    def command_description(self, locale: str, name: str) -> str:
        """A command's description in ``locale``."""
        return self.content.command_description(locale, name)

    # -- handling -----------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        """Answer one request. Never raises for anything a person can type.

        ``request.command`` is a command word; words that are no command (free text) get a
        pointer to where to start, and an unknown ``/command`` says so.
        """
        settings = await self.settings(request.community)
        locale = self.locale_for(request.user_locale, settings)
        name = canonical_name(request.command)
        command = BY_NAME[name] if name else None
        # Only commands that change or post to a community count against the cooldown; a
        # person's own answers (advice, help, a pointer) have a far larger allowance.
        private = command is None or command.audience is Audience.EVERYONE
        waiting = self.cooldown_reply(request.user_key, locale, private=private)
        if waiting is not None:
            return waiting
        if command is None:
            typed = request.command.strip()
            if not typed.startswith("/"):
                return self.free_text_reply(locale)
            self.metrics.refused(Refusal.UNKNOWN_COMMAND)
            return self._notice(locale, "unknown_command", command=typed.split()[0][:32])
        refusal = self.refusal(command, request, locale)
        if refusal is not None:
            return refusal
        if command.topic is not None:
            return self._topic_reply(command, request.options, settings, locale)
        if name == "help":
            return self.help(locale)
        if name == "setup":
            return await self._setup(request, settings, locale)
        if name == "pinned":
            assert request.community is not None
            return await self.pins.listing(request.community, locale)
        topic, refusal = self.chosen_topic(request.options, locale)
        if refusal is not None:
            return refusal
        if name == "unpin-advice":
            assert request.community is not None
            return await self._unpin(request.community, topic, locale)
        if topic is None:
            self.metrics.refused(Refusal.INVALID_OPTION)
            return self._refuse(locale, "topic_missing", choices=self.topic_choices())
        return replace(self.community_post(topic, settings), private=False)

    def cooldown_reply(
        self, user_key: str | None, locale: str, *, private: bool = False
    ) -> Reply | None:
        """Take one command from the person's allowance: None when allowed, else a notice.

        For adapter actions that do not go through :meth:`handle`: a pointer posted in a group
        counts against the cooldown; a ``private`` answer (a narrowing button's edit) only
        against the far larger allowance that keeps a script from flooding the bot.
        """
        if user_key is None:
            return None
        wait = self._cooldown.wait_time(user_key, private=private)
        if wait <= 0:
            return None
        self.metrics.refused(Refusal.COOLDOWN)
        return self._notice(locale, "cooldown", seconds=str(max(1, round(wait))))

    def refusal(self, command: Command, request: Request, locale: str) -> Reply | None:
        """Why this person may not run this command here, or None when they may."""
        if command.audience is not Audience.MODERATORS:
            return None
        if request.community is None:
            self.metrics.refused(Refusal.NOT_IN_COMMUNITY)
            return self._refuse(locale, "refused_private", command=command.name)
        if not request.is_moderator:
            self.metrics.refused(Refusal.NOT_MODERATOR)
            return self._refuse(locale, "refused_moderator", command=command.name)
        return None

    def _topic_reply(
        self, command: Command, options: Mapping[str, str], settings: Settings, locale: str
    ) -> Reply:
        assert command.topic is not None
        notices = []
        region = self.config.default_region
        if settings.region:
            region = settings.region
        chosen = options.get(Option.REGION)
        if chosen:
            code = self.region_code(chosen, locale)
            if code is None:
                # Never another country's numbers for a country we do not know.
                region = FALLBACK_REGION
                choices = self.region_choices(locale)
                notices.append(self._text(locale, "unknown_region", chosen, choices=choices))
            else:
                region = code
        age: Age | None = None
        chosen_age = options.get(Option.AGE)
        if chosen_age:
            age = self.grammar.age(chosen_age)
            if age is None:
                notices.append(self._text(locale, "invalid_age", chosen_age))
        reply = self.advice(command.topic, locale, region, age)
        if notices:
            return replace(reply, notice=" ".join(notices))
        return reply

    def advice(self, topic: str, locale: str, region: str, age: Age | None) -> Reply:
        """The reply for a topic; pure and cached, since content never changes while running."""
        key = (topic, locale, region, age)
        cached = self._advice.get(key)
        if cached is None:
            cached = self._advice[key] = self._build_advice(topic, locale, region, age)
        return cached

    def _build_advice(self, topic: str, locale: str, region_code: str, age: Age | None) -> Reply:
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
        sections = []
        buttons: list[LinkButton] = []
        sources = list(entry.sources)
        for kind in entry.show:
            lines = []
            for resource in region.resources:
                if resource.kind != kind or not _suits(resource, age):
                    continue
                if entry.compact and kind == "support" and not _answers_now(resource):
                    # One screen lists the people who answer now; the rest are in /resources.
                    continue
                words = content.resource_text(resource, locale)
                url = words.url or resource.url
                lines.append(
                    Line(
                        words.name,
                        "" if entry.compact else words.purpose,
                        " / ".join(filter(None, (resource.phone, words.text_line))),
                        url,
                        self._age_label(resource, age, locale),
                        self.hours_text(resource, locale),
                        resource.id,
                    )
                )
                if url and words.button and all(b.url != url for b in buttons):
                    buttons.append(LinkButton(words.button, url))
                if resource.source not in sources:
                    sources.append(resource.source)
            if lines:
                heading = content.ui(locale, f"heading_{kind}")
                sections.append(Section(heading, tuple(lines)))
        summary = [text.summary.format(**values)]
        steps = [
            part.format(**values) for step in text.steps for part in self._step(step, age, locale)
        ]
        for note in region.notes:
            if note.topic != topic:
                continue
            sentence = content.note_text(note, locale).format(**values)
            (summary if note.place == "summary" else steps).append(sentence)
            if note.source not in sources:
                sources.append(note.source)
        options = BY_NAME[topic].options if topic in BY_NAME else ()
        ages: tuple[tuple[Age, str], ...] = ()
        if Option.AGE in options:
            ages = tuple((a, content.ui(locale, f"age_{a}")) for a in (Age.UNDER18, Age.ADULT))
        return Reply(
            title=text.title.format(**values),
            summary=" ".join(summary),
            steps=tuple(steps),
            sections=tuple(sections),
            closing=text.closing.format(**values),
            buttons=tuple(buttons[:MAX_BUTTONS]),
            sources=tuple(sources),
            sources_label=content.ui(locale, "sources"),
            colon=content.colon(locale),
            topic=topic,
            locale=locale,
            region=region.code,
            age=age,
            regions=tuple(content.regions) if Option.REGION in options else (),
            ages=ages,
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
            self.text(locale, f"step_{group}", text=words)
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
            return self.text(locale, f"image_{resource.image}")
        band = resource.band
        if band == GROUP_BANDS[Age.ALL] or (age is not None and band == GROUP_BANDS[age]):
            return ""
        return self.band_label(band, locale)

    def band_label(self, band: AgeBand, locale: str) -> str:
        """The ages a service is for, as a reader sees them ("under 18", "ages 5 to 25")."""
        if band == GROUP_BANDS[Age.UNDER18]:
            return self.text(locale, "age_under18")
        if band == GROUP_BANDS[Age.ADULT]:
            return self.text(locale, "age_adult")
        if band.low is None and band.high is not None:
            return self.text(locale, "age_below", age=str(band.high + 1))
        if band.high is None and band.low is not None:
            return self.text(locale, "age_from", age=str(band.low))
        return self.text(locale, "age_range", low=str(band.low), high=str(band.high))

    def hours_text(self, resource: Resource, locale: str) -> str:
        """When a resource answers, in the reader's language ("24/7", "online any time")."""
        words = self.content.resource_text(resource, locale)
        if resource.hours == HOURS_24_7:
            return self.text(locale, "hours_24_7")
        if resource.hours == HOURS_ONLINE:
            if not resource.url:
                return ""
            has_phone = resource.phone or words.text_line
            return self.text(locale, "hours_or_online" if has_phone else "hours_online")
        return words.hours

    def help(self, locale: str) -> Reply:
        """The list of commands, for everyone and for moderators."""
        groups = []
        for audience, heading in (
            (Audience.EVERYONE, self.text(locale, "help_everyone")),
            (Audience.MODERATORS, self.text(locale, "help_moderators")),
        ):
            lines = tuple(
                Line(c.name, self.command_description(locale, c.name))
                for c in COMMANDS
                if c.audience is audience
            )
            groups.append(Section(heading, lines, commands=True))
        return Reply(
            title=self.text(locale, "help_title"),
            summary=self.text(locale, "help_summary"),
            sections=tuple(groups),
            kind=ReplyKind.NOTICE,
            locale=locale,
        )

    def free_text_reply(self, locale: str) -> Reply:
        """For words that are no command: a short, warm pointer to where to start. The words
        themselves are not read, kept or logged."""
        lines = tuple(
            Line(name, self.command_description(locale, name)) for name in FREE_TEXT_COMMANDS
        )
        heading = self.text(locale, "free_text_heading")
        return Reply(
            title=self.text(locale, "free_text_title"),
            summary=self.text(locale, "free_text_summary"),
            sections=(Section(heading, lines, commands=True),),
            closing=self.text(locale, "free_text_closing"),
            kind=ReplyKind.NOTICE,
            locale=locale,
        )

    def choose_language(self, value: str, locale: str) -> tuple[str | None, Reply]:
        """A person's own language, as the console asks for it (``/language fr``): the locale
        to answer in from now on (None when none was chosen), and what to tell them, in it.
        ``locale`` is the one they are answered in now."""
        names = self.language_choices()
        if not value.strip():
            language = self.content.locales[locale].name
            return None, self._notice(locale, "language_current", language=language, choices=names)
        chosen = self.grammar.language(value)
        if chosen is None:
            return None, self._refuse_invalid(locale, "invalid_language", value, names)
        language = self.content.locales[chosen].name
        return chosen, self._notice(chosen, "language_set", language=language)

    async def _setup(self, request: Request, settings: Settings, locale: str) -> Reply:
        assert request.community is not None
        region = settings.region
        language = settings.language
        chosen_region = request.options.get(Option.REGION)
        chosen_language = request.options.get(Option.LANGUAGE)
        if chosen_region:
            region = self.region_code(chosen_region, locale)
            if region is None:
                choices = self.region_choices(locale)
                return self._refuse_invalid(locale, "invalid_region", chosen_region, choices)
        if chosen_language:
            language = self.grammar.language(chosen_language)
            if language is None:
                choices = self.language_choices()
                return self._refuse_invalid(locale, "invalid_language", chosen_language, choices)
        shown = {
            "region": region or self.config.default_region,
            "language": language or self.default_locale,
        }
        if not (chosen_region or chosen_language):
            return self._notice(locale, "setup_current", **shown)
        saved = await self.save_settings(request.community, Settings(region, language))
        if not saved:
            return self.save_failed_reply(locale)
        # The community's pinned posts show its region and language: bring them in line now.
        self.pins.rerender(request.community)
        # Confirm in the language the community just chose.
        confirm_locale = self.locale_for(request.user_locale, Settings(region, language))
        return self._notice(confirm_locale, "setup_saved", **shown)

    async def _unpin(self, community: Community, topic: str | None, locale: str) -> Reply:
        """Without a platform (the console), forget the posts the bot pinned, if any: there
        is nothing to unpin on a platform."""
        unpinned = False
        for each in [topic] if topic else TOPICS:
            removed = await self.forget_pins(community, each)
            if removed is None:
                return self.save_failed_reply(locale)
            unpinned = unpinned or bool(removed)
        return self._notice(locale, "unpin_done" if unpinned else "unpin_none")

    # -- posts in a community -------------------------------------------------------------

    def topic_option(self, value: str | None) -> str | None:
        """A topic name from what a moderator typed (``help_threatened`` works too)."""
        return self.grammar.topic(value)

    def chosen_topic(
        self, options: Mapping[str, str], locale: str
    ) -> tuple[str | None, Reply | None]:
        """The topic a moderator named: (topic, None), (None, None) when none was named, or
        (None, a refusal listing the topics) when it is not one."""
        typed = options.get(Option.TOPIC)
        if not typed:
            return None, None
        topic = self.topic_option(typed)
        if topic is None:
            return None, self._refuse_invalid(locale, "invalid_topic", typed, self.topic_choices())
        return topic, None

    def community_post(self, topic: str, settings: Settings) -> Reply:
        """A topic as posted in a community: its language and region, both age groups."""
        locale = self.content.resolve_locale(settings.language) or self.default_locale
        reply = self.advice(topic, locale, settings.region or self.config.default_region, None)
        return replace(reply, private=False)

    @staticmethod
    def content_version(reply: Reply) -> str:
        """A short hash of everything a reply shows, to tell when a post has gone stale."""
        return hashlib.sha256(repr(reply).encode()).hexdigest()[:16]

    async def record_pin(
        self, community: Community, channel_id: str, message_id: str, topic: str, version: str
    ) -> bool:
        """Remember a post the bot pinned; False (and logged) when the store failed."""
        if self.store is None:
            return True
        post = PinnedPost(community, channel_id, message_id, topic, version)
        return await self._guarded("record a pinned post", _done(self.store.add_pin(post)), False)

    async def forget_pins(self, community: Community, topic: str) -> list[PinnedPost] | None:
        """Forget a community's pinned posts of a topic; returns them so they can be unpinned,
        or None (and logged) when the store failed."""
        if self.store is None:
            return []
        removed = self.store.remove_pins(community, topic)
        return await self._guarded("forget pinned posts", removed, None)

    # -- small replies ------------------------------------------------------------------

    def region_choices(self, locale: str) -> str:
        """Regions a person can choose, by their names in ``locale`` (each can be typed),
        international last."""
        regions = [r for code, r in self.content.regions.items() if code != FALLBACK_REGION]
        names = sorted((self.content.region_name(r, locale) for r in regions), key=fold)
        names.append(self.content.region_name(self.content.region(FALLBACK_REGION), locale))
        return ", ".join(names)

    def language_choices(self) -> str:
        """Languages a person can choose: each code with the language's own name."""
        return ", ".join(f"{code} ({loc.name})" for code, loc in self.content.locales.items())

    @staticmethod
    def topic_choices() -> str:
        """Topics a moderator can choose, for messages."""
        return ", ".join(TOPICS)

    def _text(self, locale: str, key: str, value: str, **values: str) -> str:
        """A message about a typed ``value``, shortened so a long paste cannot flood it."""
        return self.text(locale, key, value=value[:40], **values)

    def _refuse_invalid(self, locale: str, key: str, value: str, choices: str) -> Reply:
        self.metrics.refused(Refusal.INVALID_OPTION)
        message = self._text(locale, key, value, choices=choices)
        return Reply(title=message, kind=ReplyKind.REFUSAL, locale=locale)

    def _notice(self, locale: str, key: str, **values: str) -> Reply:
        return Reply(title=self.text(locale, key, **values), kind=ReplyKind.NOTICE, locale=locale)

    def _refuse(self, locale: str, key: str, **values: str) -> Reply:
        return Reply(title=self.text(locale, key, **values), kind=ReplyKind.REFUSAL, locale=locale)

    def save_failed_reply(self, locale: str) -> Reply:
        """What a moderator sees when their change could not be saved."""
        return Reply(title=self.text(locale, "save_failed"), kind=ReplyKind.ERROR, locale=locale)

    def error_reply(self, locale: str | None = None) -> Reply:
        """What a person sees when something broke on our side."""
        code = self.content.resolve_locale(locale) or self.default_locale
        return Reply(title=self.text(code, "error_apology"), kind=ReplyKind.ERROR, locale=code)


async def _done(work: Awaitable[None]) -> bool:
    """True once ``work`` is done (for store writes that return nothing)."""
    await work
    return True


def _answers_now(resource: Resource) -> bool:
    """A crisis line that answers at any hour, or a finder of one (INTL)."""
    return resource.answers_now or resource.finder


def _suits(resource: Resource, age: Age | None) -> bool:
    """Whether a reader of ``age`` (None: not given) could use the resource."""
    return age is None or resource.band.overlaps(GROUP_BANDS[age])
