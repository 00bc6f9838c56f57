"""The core: turns a platform-neutral :class:`Request` into a :class:`Reply`.

Every rule lives here (who may use what, which language and region apply, which resources a
person sees); adapters only translate. Replies are built from immutable content and cached.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from shared.commands import BY_NAME, COMMANDS, TOPICS, Audience, Command, Option, canonical_name
from shared.config import Config
from shared.content import ROOT_LOCALE, Content
from shared.cooldown import Cooldown
from shared.models import (
    Age,
    Community,
    Line,
    LinkButton,
    Reply,
    ReplyKind,
    Request,
    Section,
)
from shared.pins import Pins
from shared.store import PinnedPost, Settings, Store

log = logging.getLogger(__name__)

# A reply shows at most this many link buttons: Discord's 5 rows of 5 hold them with room to
# spare, and a short list is easier to act on than a long one.
MAX_BUTTONS = 10
_AGE_WORDS = {
    "under18": Age.UNDER18,
    "under-18": Age.UNDER18,
    "minor": Age.UNDER18,
    "adult": Age.ADULT,
    "18+": Age.ADULT,
    "over18": Age.ADULT,
}
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
        self._settings: OrderedDict[Community, Settings] = OrderedDict()
        # Counts changes made by other processes, so that a read that was under way while
        # one arrived is not cached (it may be from before the change).
        self._changes = 0
        self._advice: dict[tuple[str, str, str, Age | None], Reply] = {}
        self._last_store_error = -_STORE_ERROR_INTERVAL
        self._unlogged_store_errors = 0
        self.default_locale = content.resolve_locale(config.default_locale) or ROOT_LOCALE
        self.pins = Pins(self)

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
        """A known region code for a code or a region's name in any locale; None if unknown."""
        if not value:
            return None
        wanted = value.strip().casefold()
        for code, region in self.content.regions.items():
            if wanted == code.casefold() or wanted in (n.casefold() for n in region.names.values()):
                return code
        return None

    def text(self, locale: str, key: str, **values: str) -> str:
        """A UI string from content, for adapters (buttons, refusals, welcome)."""
        return self.content.ui(locale, key, **values)

    def command_description(self, locale: str, name: str) -> str:
        """A command's description in ``locale``."""
        return self.content.command_description(locale, name)

    # -- handling -----------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        """Answer one request. Never raises for anything a person can type."""
        settings = await self.settings(request.community)
        locale = self.locale_for(request.user_locale, settings)
        name = canonical_name(request.command)
        waiting = self.cooldown_reply(request.user_key, locale)
        if waiting is not None:
            return waiting
        if name is None:
            shown = request.command.strip().split()[0][:32] if request.command.strip() else "/"
            return self._notice(locale, "unknown_command", command=shown)
        command = BY_NAME[name]
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
        return self._pin_preview(request.options, settings, locale)

    def cooldown_reply(self, user_key: str | None, locale: str) -> Reply | None:
        """Take one command from the person's allowance: None when allowed, else a notice.

        For adapter actions that do not go through :meth:`handle` (a button press, a pointer
        posted in a group), so they count towards the same cooldown.
        """
        if user_key is None:
            return None
        wait = self._cooldown.wait_time(user_key)
        if wait <= 0:
            return None
        return self._notice(locale, "cooldown", seconds=str(max(1, round(wait))))

    def positional_options(self, command: str, words: Sequence[str]) -> dict[str, str]:
        """Options typed without names (``/setup CA fr``, ``/report US adult``).

        Each word goes to the first of the command's free options it is a valid value for;
        a word that fits none goes to the next free option, so the reply says what is wrong.
        Extra words are ignored.
        """
        name = canonical_name(command)
        if name is None:
            return {}
        free = list(BY_NAME[name].options)
        options: dict[str, str] = {}
        for word in words:
            if not free:
                break
            fits = [o for o in free if self._fits(o, word)]
            chosen = fits[0] if fits else free[0]
            options[chosen.value] = word
            free.remove(chosen)
        return options

    def _fits(self, option: Option, word: str) -> bool:
        if option is Option.REGION:
            return self.region_code(word) is not None
        if option is Option.AGE:
            return word.strip().lower().replace(" ", "") in _AGE_WORDS
        if option is Option.LANGUAGE:
            return self.content.resolve_locale(word) is not None
        return self.topic_option(word) is not None

    def refusal(self, command: Command, request: Request, locale: str) -> Reply | None:
        """Why this person may not run this command here, or None when they may."""
        if command.audience is not Audience.MODERATORS:
            return None
        if request.community is None:
            return self._refuse(locale, "refused_private", command=command.name)
        if not request.is_moderator:
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
                notices.append(self._invalid(locale, Option.REGION, chosen, self.region_choices()))
            else:
                region = code
        age: Age | None = None
        chosen_age = options.get(Option.AGE)
        if chosen_age:
            age = _AGE_WORDS.get(chosen_age.strip().lower().replace(" ", ""))
            if age is None:
                notices.append(self._invalid(locale, Option.AGE, chosen_age, "under18, adult"))
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
        text = content.topic_text(topic, locale)
        region = content.region(region_code)
        values = {
            "emergency": region.emergency or content.ui(locale, "emergency_unknown"),
            "region": content.region_name(region, locale),
        }
        sections = []
        buttons: list[LinkButton] = []
        sources = list(entry.sources)
        for kind in entry.show:
            lines = []
            for resource in region.resources:
                if resource.kind != kind or not _suits(resource.age, age):
                    continue
                words = content.resource_text(resource, locale)
                url = words.url or resource.url
                label = ""
                if age is None and resource.age is not Age.ALL:
                    label = content.ui(locale, f"age_{resource.age.value}")
                phone = " / ".join(filter(None, (resource.phone, words.text_line)))
                purpose = "" if entry.compact else words.purpose
                lines.append(Line(words.name, purpose, phone, url, label))
                if url and words.button and all(b.url != url for b in buttons):
                    buttons.append(LinkButton(words.button, url))
                if resource.source not in sources:
                    sources.append(resource.source)
            if lines:
                heading = content.ui(locale, f"heading_{kind}")
                sections.append(Section(heading, tuple(lines)))
        options = BY_NAME[topic].options if topic in BY_NAME else ()
        ages: tuple[tuple[Age, str], ...] = ()
        if Option.AGE in options:
            ages = tuple((a, content.ui(locale, f"age_{a}")) for a in (Age.UNDER18, Age.ADULT))
        return Reply(
            title=text.title.format(**values),
            summary=text.summary.format(**values),
            steps=tuple(step.format(**values) for step in text.steps),
            sections=tuple(sections),
            closing=text.closing.format(**values),
            buttons=tuple(buttons[:MAX_BUTTONS]),
            sources=tuple(sources),
            sources_label=content.ui(locale, "sources"),
            topic=topic,
            locale=locale,
            region=region.code,
            age=age,
            regions=tuple(content.regions) if Option.REGION in options else (),
            ages=ages,
        )

    def help(self, locale: str) -> Reply:
        """The list of commands, for everyone and for moderators."""
        groups = []
        for audience, heading in (
            (Audience.EVERYONE, self.text(locale, "help_title")),
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

    async def _setup(self, request: Request, settings: Settings, locale: str) -> Reply:
        assert request.community is not None
        region = settings.region
        language = settings.language
        chosen_region = request.options.get(Option.REGION)
        chosen_language = request.options.get(Option.LANGUAGE)
        if chosen_region:
            region = self.region_code(chosen_region, locale)
            if region is None:
                return self._refuse_invalid(
                    locale, Option.REGION, chosen_region, self.region_choices()
                )
        if chosen_language:
            language = self.content.resolve_locale(chosen_language)
            if language is None:
                return self._refuse_invalid(
                    locale, Option.LANGUAGE, chosen_language, self.language_choices()
                )
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

    def _pin_preview(self, options: Mapping[str, str], settings: Settings, locale: str) -> Reply:
        """Without a platform to post on (the console), show what would be pinned."""
        topic = self.topic_option(options.get(Option.TOPIC))
        if topic is None:
            return self._refuse_invalid(
                locale, Option.TOPIC, options.get(Option.TOPIC, ""), ", ".join(TOPICS)
            )
        return replace(self.community_post(topic, settings), private=False)

    # -- posts in a community -------------------------------------------------------------

    def topic_option(self, value: str | None) -> str | None:
        """A topic name from what a moderator typed (``help_threatened`` works too)."""
        if not value:
            return None
        name = value.strip().lstrip("/").lower().replace("_", "-")
        return name if name in TOPICS else None

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

    def region_choices(self) -> str:
        """Region codes a person can choose, for messages."""
        return ", ".join(self.content.regions)

    def language_choices(self) -> str:
        """Locale codes a person can choose, for messages."""
        return ", ".join(self.content.locales)

    def _invalid(self, locale: str, option: Option, value: str, choices: str) -> str:
        return self.text(
            locale,
            "invalid_option",
            value=value[:40],
            option=self.text(locale, f"option_{option.value}"),
            choices=choices,
        )

    def _refuse_invalid(self, locale: str, option: Option, value: str, choices: str) -> Reply:
        message = self._invalid(locale, option, value, choices)
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


def _suits(resource_age: Age, age: Age | None) -> bool:
    return age is None or resource_age is Age.ALL or resource_age is age
