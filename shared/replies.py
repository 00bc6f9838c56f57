"""Every reply that is not advice (help, notices, refusals, errors, choices), and which
language a person is answered in. The words are content (``[ui]`` of each locale)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.commands import COMMANDS, TOPICS, Audience
from shared.content import FALLBACK_REGION, Content
from shared.metrics import Metrics, Refusal
from shared.models import Line, Reply, ReplyKind, Section, Settings
from shared.typed import Grammar, fold

FREE_TEXT_COMMANDS = ("help-threatened", "image-shared", "resources")
"""Where words that are no command point: the commands most people who write need first."""
TYPED_VALUE_SHOWN = 40
"""Characters of a typed value repeated in a message, so a long paste cannot flood it."""


class Replies:
    """Builds the replies that are not advice, in the reader's language."""

    def __init__(
        self, content: Content, grammar: Grammar, metrics: Metrics, default_locale: str
    ) -> None:
        self.content = content
        self.grammar = grammar
        self.metrics = metrics
        self.default_locale = default_locale

    def text(self, locale: str, key: str, **values: str) -> str:
        """A UI string from content (``values`` fill its placeholders; see
        :mod:`shared.texts`)."""
        return self.content.ui(locale, key, **values)

    def locale_for(self, user_locale: str | None, settings: Settings) -> str:
        """The person's language if we have it, else the community's, else the default."""
        return (
            self.content.resolve_locale(user_locale)
            or self.content.resolve_locale(settings.language)
            or self.default_locale
        )

    # -- kinds of reply -------------------------------------------------------------------

    def notice(self, locale: str, key: str, **values: str) -> Reply:
        """A short notice (a setting shown or saved, a command done)."""
        return Reply(title=self.text(locale, key, **values), kind=ReplyKind.NOTICE, locale=locale)

    def for_members(self, settings: Settings, key: str) -> Reply:
        """A notice posted for a community's members, in the community's language."""
        locale = self.locale_for(None, settings)
        return Reply(
            title=self.text(locale, key), kind=ReplyKind.NOTICE, locale=locale, private=False
        )

    def refuse(self, locale: str, key: str, **values: str) -> Reply:
        """A refusal saying why and what to do."""
        return Reply(title=self.text(locale, key, **values), kind=ReplyKind.REFUSAL, locale=locale)

    def about_value(self, locale: str, key: str, value: str, **values: str) -> str:
        """A message about a typed ``value``, shortened so a long paste cannot flood it."""
        return self.text(locale, key, value=value[:TYPED_VALUE_SHOWN], **values)

    def refuse_invalid(self, locale: str, key: str, value: str, choices: str) -> Reply:
        """A refusal of a typed value that is not one of ``choices`` (counted)."""
        self.metrics.refused(Refusal.INVALID_OPTION)
        message = self.about_value(locale, key, value, choices=choices)
        return Reply(title=message, kind=ReplyKind.REFUSAL, locale=locale)

    def missing_rights(self, locale: str, rights: Sequence[str]) -> Reply:
        """What a moderator sees when the bot lacks rights to post or pin: each one named in
        their language (content keys ``permission_<right>``); counted."""
        self.metrics.refused(Refusal.BOT_MISSING_RIGHT)
        names = ", ".join(self.text(locale, f"permission_{right}") for right in rights)
        return self.refuse(locale, "pin_missing_right", right=names)

    def save_failed(self, locale: str) -> Reply:
        """What a moderator sees when their change could not be saved."""
        return Reply(title=self.text(locale, "save_failed"), kind=ReplyKind.ERROR, locale=locale)

    def error(self, locale: str | None = None) -> Reply:
        """What a person sees when something broke on our side."""
        code = self.content.resolve_locale(locale) or self.default_locale
        return Reply(title=self.text(code, "error_apology"), kind=ReplyKind.ERROR, locale=code)

    # -- lists of commands ----------------------------------------------------------------

    def help(self, locale: str) -> Reply:
        """The list of commands, for everyone and for moderators."""
        groups = []
        for audience, heading in (
            (Audience.EVERYONE, self.text(locale, "help_everyone")),
            (Audience.MODERATORS, self.text(locale, "help_moderators")),
        ):
            lines = tuple(
                Line(c.name, self.content.command_description(locale, c.name))
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

    def free_text(self, locale: str) -> Reply:
        """For words that are no command: a short, warm pointer to where to start. The words
        themselves are not read, kept or logged."""
        lines = tuple(
            Line(name, self.content.command_description(locale, name))
            for name in FREE_TEXT_COMMANDS
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

    # -- choices ----------------------------------------------------------------------------

    def choose_language(self, value: str, locale: str) -> tuple[str | None, Reply]:
        """A person's own language, as the console asks for it (``/language fr``): the locale
        to answer in from now on (None when none was chosen), and what to tell them, in it.
        ``locale`` is the one they are answered in now."""
        names = self.language_choices()
        if not value.strip():
            language = self.content.locales[locale].name
            return None, self.notice(locale, "language_current", language=language, choices=names)
        chosen = self.grammar.language(value)
        if chosen is None:
            return None, self.refuse_invalid(locale, "invalid_language", value, names)
        language = self.content.locales[chosen].name
        return chosen, self.notice(chosen, "language_set", language=language)

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
