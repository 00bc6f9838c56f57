"""The core: turns a platform-neutral :class:`Request` into a :class:`Reply`.

Every rule lives here (who may use what, which language and region apply, which resources a
person sees); adapters only translate. :class:`Core` builds the pieces, each with one job,
around one store and one config, and is what adapters call: once per platform event.

- :mod:`shared.dispatch`: the checks and the table from command to handler;
- :mod:`shared.settings`: the store behind a guard, the settings cache, operator values;
- :mod:`shared.advice`: advice built from content, cached;
- :mod:`shared.replies`: every other reply, and which language a person reads;
- :mod:`shared.moderation`: pinning, unpinning and listing advice, through a platform's steps;
- :mod:`shared.pins`: pinned posts kept current.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any

from shared.advice import Advisor
from shared.config import Config
from shared.content import ROOT_LOCALE, Content
from shared.cooldown import Cooldown
from shared.dispatch import Dispatch
from shared.metrics import Metrics
from shared.models import Age, Community, Pointer, Reply, Request, Settings
from shared.moderation import Moderation
from shared.pins import Pins
from shared.platform import Platform
from shared.replies import Replies
from shared.settings import SettingsCache, StoreGuard
from shared.store import Store
from shared.typed import Grammar, Typed


class Core:
    """The bot's one core: content, config and store, and the pieces that answer."""

    def __init__(
        self,
        content: Content,
        store: Store | None,
        config: Config,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.content = content
        self.config = config
        self.grammar = Grammar(content)
        self.default_locale = content.resolve_locale(config.default_locale) or ROOT_LOCALE
        self.metrics = Metrics(content.regions, content.locales, config.platforms)
        self.guard = StoreGuard(store, self.metrics, clock=clock)
        self.communities = SettingsCache(self.guard)
        self.replies = Replies(content, self.grammar, self.metrics, self.default_locale)
        self.advisor = Advisor(
            content, default_region=config.default_region, default_locale=self.default_locale
        )
        self.pins = Pins(self.communities, self.advisor, self.replies, config.pins)
        self.moderation = Moderation(
            self.communities, self.advisor, self.replies, self.grammar, self.pins
        )
        self.dispatch = Dispatch(
            config,
            self.communities,
            Cooldown(config.cooldown_commands, config.cooldown_seconds, clock=clock),
            self.grammar,
            self.advisor,
            self.replies,
            self.moderation,
            self.pins,
        )

    @property
    def store(self) -> Store | None:
        """The store every piece uses (None: settings live in memory)."""
        return self.guard.store

    @store.setter
    def store(self, store: Store | None) -> None:
        self.guard.store = store

    # -- what adapters call, once per event -------------------------------------------------

    def handle(
        self, request: Request, platform: Platform | None = None
    ) -> Coroutine[Any, Any, Reply]:
        """Answer one request (see :class:`shared.dispatch.Dispatch`); a moderator's command
        is carried out on ``platform``. Never raises for anything a person can type."""
        # The dispatcher's own coroutine, not one wrapped in another: this is the hot path.
        return self.dispatch.handle(request, platform)

    async def point(self, request: Request) -> Pointer | None:
        """What a group sees of a command typed there, on a platform that answers only in
        private; None when the person asked too often."""
        return await self.dispatch.point(request)

    async def narrow(self, request: Request) -> Reply | None:
        """The advice a narrowing button asks for (see :meth:`Dispatch.narrow`)."""
        return await self.dispatch.narrow(request)

    async def welcome(self, community: Community) -> str:
        """The bot's welcome in a community it joined, in the community's language."""
        locale = self.replies.locale_for(None, await self.communities.get(community))
        return self.replies.text(locale, "welcome")

    async def forget_community(self, community: Community) -> None:
        """The bot left a community: delete every stored row of it (logged if the store
        failed)."""
        await self.communities.forget(community)

    async def community_moved(self, old: Community, new: Community) -> None:
        """A community got a new id: its settings move with it."""
        await self.communities.moved(old, new)

    async def reconcile(self, platform: str, keep: Callable[[str], bool]) -> int:
        """Forget the stored communities of ``platform`` that ``keep`` does not keep."""
        return await self.communities.reconcile(platform, keep)

    # -- settings and operator values -------------------------------------------------------

    async def settings(self, community: Community | None) -> Settings:
        """A community's settings; cached after the first read, defaults if the store fails."""
        return await self.communities.get(community)

    async def save_settings(self, community: Community, settings: Settings) -> bool:
        """Save a community's settings; False (and logged) when the store failed."""
        return await self.communities.save(community, settings)

    def settings_changed(self, community: Community | None) -> None:
        """Another process changed ``community`` (None: any): read it again next time."""
        self.communities.changed(community)

    def store_failed(self, action: str) -> None:
        """Log a storage failure at most once a minute; count every one."""
        self.guard.store_failed(action)

    async def meta(self, key: str) -> str | None:
        """An operator value; None when unset, without a store, or when the store failed."""
        return await self.communities.meta(key)

    async def set_meta(self, key: str, value: str) -> bool:
        """Store an operator value; False (and logged) when the store failed."""
        return await self.communities.set_meta(key, value)

    # -- words and replies ------------------------------------------------------------------

    def read(self, line: str) -> Typed | None:
        """A typed line as a command and options (see :mod:`shared.typed`); None if blank."""
        return self.grammar.read(line)

    def text(self, locale: str, key: str, **values: str) -> str:
        """A UI string from content, for adapters (buttons, refusals, welcome)."""
        return self.replies.text(locale, key, **values)

    def command_description(self, locale: str, name: str) -> str:
        """A command's description in ``locale``."""
        return self.content.command_description(locale, name)

    def locale_for(self, user_locale: str | None, settings: Settings) -> str:
        """The person's language if we have it, else the community's, else the default."""
        return self.replies.locale_for(user_locale, settings)

    def advice(self, topic: str, locale: str, region: str, age: Age | None) -> Reply:
        """The advice of a topic for a language, region and age group (cached)."""
        return self.advisor.reply(topic, locale, region, age)

    def community_post(self, topic: str, settings: Settings) -> Reply:
        """A topic as posted in a community: its language and region, both age groups."""
        return self.advisor.community_post(topic, settings)

    @staticmethod
    def content_version(reply: Reply) -> str:
        """A short hash of everything a reply shows, to tell when a post has gone stale."""
        return Advisor.content_version(reply)

    def help(self, locale: str) -> Reply:
        """The list of commands, for everyone and for moderators."""
        return self.replies.help(locale)

    def free_text_reply(self, locale: str) -> Reply:
        """For words that are no command: a short pointer to where to start."""
        return self.replies.free_text(locale)

    def choose_language(self, value: str, locale: str) -> tuple[str | None, Reply]:
        """A person's own language, as the console asks for it (``/language fr``)."""
        return self.replies.choose_language(value, locale)

    def save_failed_reply(self, locale: str) -> Reply:
        """What a moderator sees when their change could not be saved."""
        return self.replies.save_failed(locale)

    def error_reply(self, locale: str | None = None) -> Reply:
        """What a person sees when something broke on our side."""
        return self.replies.error(locale)
