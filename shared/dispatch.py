"""From a request to its reply: the checks every command goes through, in one order, and an
explicit table from command to handler.

The order, for every command: the cooldown (a person's allowance), then the refusal (a
moderator command outside a community, or by someone who is not a moderator there), then the
command's own handler, which checks its options first. Words that are no command get a pointer
to where to start; an unknown ``/command`` says so. Nothing falls through to another command.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

from shared.advice import Advisor
from shared.commands import BY_NAME, TOPICS, Audience, Command, Option, canonical_name
from shared.config import Config
from shared.content import FALLBACK_REGION
from shared.cooldown import Cooldown
from shared.metrics import Refusal
from shared.models import Age, Pointer, Reply, Request, Settings
from shared.moderation import Moderation
from shared.pins import Pins
from shared.platform import Platform
from shared.replies import Replies
from shared.settings import SettingsCache
from shared.typed import Grammar


# Not frozen: one is made for every command, and a frozen dataclass takes five times as long
# to build (handlers only read it).
@dataclass(slots=True)
class Call:
    """A command on its way to its handler, with what the checks found out."""

    request: Request
    command: Command
    settings: Settings
    """The community's settings (defaults outside a community)."""
    locale: str
    """The language the person is answered in."""
    platform: Platform | None
    """Where moderation steps are carried out; None in the console and ``safety-bot ask``."""


Handler = Callable[[Call], Awaitable[Reply]]
NARROWED_AGES = {age.value: age for age in (Age.UNDER18, Age.ADULT)}


class Dispatch:
    """Answers requests: the checks, then the command's handler."""

    def __init__(
        self,
        config: Config,
        settings: SettingsCache,
        cooldown: Cooldown,
        grammar: Grammar,
        advisor: Advisor,
        replies: Replies,
        moderation: Moderation,
        pins: Pins,
    ) -> None:
        self.config = config
        self.settings = settings
        self.cooldown = cooldown
        self.grammar = grammar
        self.advisor = advisor
        self.replies = replies
        self.moderation = moderation
        self.pins = pins
        self.metrics = replies.metrics
        self.handlers: Mapping[str, Handler] = {
            **dict.fromkeys(TOPICS, self._advice),
            "help": self._help,
            "setup": self._setup,
            "pin-advice": self._pin,
            "unpin-advice": self._unpin,
            "pinned": self._pinned,
        }
        unhandled = set(BY_NAME) ^ set(self.handlers)
        if unhandled:
            raise RuntimeError(f"commands without exactly one handler: {sorted(unhandled)}")

    async def handle(self, request: Request, platform: Platform | None = None) -> Reply:
        """Answer one request. Never raises for anything a person can type.

        ``request.command`` is a command word; words that are no command (free text) get a
        pointer to where to start, and an unknown ``/command`` says so.
        """
        settings = await self.settings.get(request.community)
        locale = self.replies.locale_for(request.user_locale, settings)
        name = canonical_name(request.command)
        command = BY_NAME[name] if name else None
        # Only commands that change or post to a community count against the cooldown; a
        # person's own answers (advice, help, a pointer) have a far larger allowance.
        private = command is None or command.audience is Audience.EVERYONE
        waiting = self.waiting(request.user_key, locale, private=private)
        if waiting is not None:
            return waiting
        if command is None:
            return self._not_a_command(request.command, locale)
        refusal = self.refusal(command, request, locale)
        if refusal is not None:
            return refusal
        return await self.handlers[command.name](Call(request, command, settings, locale, platform))

    def waiting(self, user_key: str | None, locale: str, *, private: bool) -> Reply | None:
        """Take one command from the person's allowance: None when allowed, else a notice.

        A ``private`` answer (advice, help, a narrowing button's edit) takes from the far
        larger allowance that only keeps a script from flooding the bot.
        """
        if user_key is None:
            return None
        wait = self.cooldown.wait_time(user_key, private=private)
        if wait <= 0:
            return None
        self.metrics.refused(Refusal.COOLDOWN)
        return self.replies.notice(locale, "cooldown", seconds=str(max(1, round(wait))))

    def refusal(self, command: Command, request: Request, locale: str) -> Reply | None:
        """Why this person may not run this command here, or None when they may."""
        if command.audience is not Audience.MODERATORS:
            return None
        if request.community is None:
            self.metrics.refused(Refusal.NOT_IN_COMMUNITY)
            return self.replies.refuse(locale, "refused_private", command=command.name)
        if not request.is_moderator:
            self.metrics.refused(Refusal.NOT_MODERATOR)
            return self.replies.refuse(locale, "refused_moderator", command=command.name)
        return None

    def _not_a_command(self, typed: str, locale: str) -> Reply:
        typed = typed.strip()
        if not typed.startswith("/"):
            return self.replies.free_text(locale)
        self.metrics.refused(Refusal.UNKNOWN_COMMAND)
        return self.replies.notice(locale, "unknown_command", command=typed.split()[0][:32])

    # -- handlers ---------------------------------------------------------------------------

    async def _advice(self, call: Call) -> Reply:
        """A topic, for the region and age the person gave (else the community's region and
        both age groups); what could not be read is said above the advice."""
        assert call.command.topic is not None
        options, locale = call.request.options, call.locale
        notices = []
        region = call.settings.region or self.config.default_region
        chosen = options.get(Option.REGION)
        if chosen:
            code = self.grammar.region(chosen)
            if code is None:
                # Never another country's numbers for a country we do not know.
                region = FALLBACK_REGION
                choices = self.replies.region_choices(locale)
                notices.append(
                    self.replies.about_value(locale, "unknown_region", chosen, choices=choices)
                )
            else:
                region = code
        age: Age | None = None
        chosen_age = options.get(Option.AGE)
        if chosen_age:
            age = self.grammar.age(chosen_age)
            if age is None:
                notices.append(self.replies.about_value(locale, "invalid_age", chosen_age))
        reply = self.advisor.reply(call.command.topic, locale, region, age)
        if notices:
            return replace(reply, notice=" ".join(notices))
        return reply

    async def _help(self, call: Call) -> Reply:
        return self.replies.help(call.locale)

    async def _setup(self, call: Call) -> Reply:
        """The community's region and language: shown, or changed (and its pinned posts
        brought in line at once)."""
        community = call.request.community
        assert community is not None
        options, locale = call.request.options, call.locale
        region, language = call.settings.region, call.settings.language
        chosen_region = options.get(Option.REGION)
        chosen_language = options.get(Option.LANGUAGE)
        if chosen_region:
            region = self.grammar.region(chosen_region)
            if region is None:
                choices = self.replies.region_choices(locale)
                return self.replies.refuse_invalid(locale, "invalid_region", chosen_region, choices)
        if chosen_language:
            language = self.grammar.language(chosen_language)
            if language is None:
                choices = self.replies.language_choices()
                return self.replies.refuse_invalid(
                    locale, "invalid_language", chosen_language, choices
                )
        shown = {
            "region": region or self.config.default_region,
            "language": language or self.replies.default_locale,
        }
        if not (chosen_region or chosen_language):
            return self.replies.notice(locale, "setup_current", **shown)
        if not await self.settings.save(community, Settings(region, language)):
            return self.replies.save_failed(locale)
        # The community's pinned posts show its region and language: bring them in line now.
        self.pins.rerender(community)
        # Confirm in the language the community just chose.
        confirm = self.replies.locale_for(call.request.user_locale, Settings(region, language))
        return self.replies.notice(confirm, "setup_saved", **shown)

    async def _pin(self, call: Call) -> Reply:
        return await self.moderation.pin(call.request, call.settings, call.locale, call.platform)

    async def _unpin(self, call: Call) -> Reply:
        return await self.moderation.unpin(call.request, call.locale, call.platform)

    async def _pinned(self, call: Call) -> Reply:
        assert call.request.community is not None
        return await self.moderation.listing(call.request.community, call.locale, call.platform)

    # -- answers that are not a reply to the person ----------------------------------------

    async def point(self, request: Request) -> Pointer | None:
        """A command typed in a group, on a platform that answers only in private: the
        pointer to post there, or None when the person asked too often (the group hears
        nothing). The region the person typed travels, else the community's."""
        settings = await self.settings.get(request.community)
        locale = self.replies.locale_for(request.user_locale, settings)
        if self.waiting(request.user_key, locale, private=False) is not None:
            return None
        region = (
            self.grammar.region(request.options.get(Option.REGION))
            or settings.region
            or self.config.default_region
        )
        return Pointer(
            text=self.replies.text(locale, "private_pointer"),
            button=self.replies.text(locale, "private_button"),
            command=canonical_name(request.command) or "help",
            region=region,
            language=settings.language,
            locale=locale,
        )

    async def narrow(self, request: Request) -> Reply | None:
        """The advice a narrowing button asks for (``command`` a topic, ``options`` the
        region, the age group and the language the advice was in), as offered: a cooldown
        notice when the person taps far too fast, None when the topic or region is unknown
        (data from elsewhere, or from an older version of the content)."""
        options = request.options
        language = Settings(language=options.get(Option.LANGUAGE))
        locale = self.replies.locale_for(request.user_locale, language)
        # A tap edits the person's own private answer: only the large allowance counts.
        waiting = self.waiting(request.user_key, locale, private=True)
        if waiting is not None:
            return waiting
        return self.narrowed(
            request.command, options.get(Option.REGION), options.get(Option.AGE), locale
        )

    def narrowed(
        self, topic: str, region: str | None, age: str | None, locale: str
    ) -> Reply | None:
        """The advice of ``topic`` for exactly ``region`` and ``age`` (``under18``,
        ``adult``, else both), or None when the topic or region is unknown."""
        chosen_topic = self.grammar.topic(topic)
        code = self.grammar.region(region)
        if chosen_topic is None or code is None:
            return None
        return self.advisor.reply(chosen_topic, locale, code, NARROWED_AGES.get(age or ""))
