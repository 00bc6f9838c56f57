"""Slash commands built from the core's command table, localized from the content.

Nothing is written twice: names and options come from :mod:`shared.commands`, descriptions,
option names and choice labels from the content (``[commands]`` and ``[ui]`` of each locale),
handed to Discord through discord.py's :class:`~discord.app_commands.Translator`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str

from bots.discord import limits
from bots.discord.permissions import MODERATOR_PERMISSION
from shared.commands import COMMANDS, TOPICS, Audience, Command, Option
from shared.core import Core

Handler = Callable[[discord.Interaction[Any], Command, dict[str, Any]], Awaitable[None]]
"""What a command calls: the interaction, the core's command and the options given."""

CHANNEL = "channel"
"""The extra option of ``/pin-advice``: where to post (default: this channel)."""

# Options a command cannot do without on Discord (the core refuses /pin-advice without a
# topic, so Discord asks for one up front). Every other option is optional.
REQUIRED: frozenset[tuple[str, str]] = frozenset({("pin-advice", Option.TOPIC.value)})

EVERYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)
SERVERS_ONLY = app_commands.AppCommandContext(guild=True)
ANY_INSTALL = app_commands.AppInstallationType(guild=True, user=True)
SERVER_INSTALL = app_commands.AppInstallationType(guild=True)

Key = tuple[str, str]
"""What a translatable string is: ("description", command), ("ui", key), ("region", code),
("option", name) for an option's name, ("help", name) for its description."""


class PostChannel(app_commands.Transformer):
    """A text or announcement channel, as Discord resolved it (with the person's permissions
    there), without needing the channel cache."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        """Discord's option type: a channel."""
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        """Channels advice can be posted in."""
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> Any:
        """Discord already resolved the channel; keep it as given."""
        return value


def lookup(core: Core, locale: str, key: Key) -> str | None:
    """The text of ``key`` in ``locale``; None when the text cannot be used on Discord."""
    kind, name = key
    if kind == "description":
        return limits.fit(core.command_description(locale, name), limits.COMMAND_DESCRIPTION)
    if kind == "ui":
        return limits.fit(core.text(locale, name), limits.CHOICE_NAME)
    if kind == "region":
        region = core.content.region(name)
        return limits.fit(core.content.region_name(region, locale), limits.CHOICE_NAME)
    if kind == "help":
        return limits.fit(core.text(locale, f"option_{name}_help"), limits.COMMAND_DESCRIPTION)
    if kind == "option":
        word = core.text(locale, f"option_{name}").strip().lower()
        return word if limits.valid_command_name(word) else None
    raise KeyError(key)


def _text(core: Core, key: Key) -> locale_str:
    """A string in the default locale, marked so the translator can find its other languages."""
    base = lookup(core, core.default_locale, key)
    if base is None:
        base = key[1]
    return locale_str(base, key=key)


class ContentTranslator(app_commands.Translator):
    """Gives discord.py every locale the content has, for every Discord locale mapping to it.

    Returns None where the text equals the default, so the payload carries no repeats.
    """

    def __init__(self, core: Core) -> None:
        self.core = core

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """The text of ``string`` in ``locale``, or None to let Discord show the default."""
        key = string.extras.get("key")
        code = self.core.content.resolve_locale(locale.value)
        if key is None or code is None:
            return None
        text = lookup(self.core, code, key)
        return None if text == string.message else text


def _choices(core: Core, option: Option) -> list[Choice[str]]:
    if option is Option.REGION:
        return [
            Choice(name=_text(core, ("region", code)), value=code) for code in core.content.regions
        ]
    if option is Option.AGE:
        return [
            Choice(name=_text(core, ("ui", f"age_{age}")), value=age)
            for age in ("under18", "adult")
        ]
    if option is Option.TOPIC:
        return [Choice(name=_text(core, ("description", topic)), value=topic) for topic in TOPICS]
    # Languages are listed by their own names (Français), the same in every locale.
    return [Choice(name=locale.name, value=code) for code, locale in core.content.locales.items()]


def _callback(command: Command, handler: Handler) -> Callable[..., Awaitable[None]]:
    """A callback whose signature discord.py reads the options from."""

    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        await handler(interaction, command, {k: v for k, v in values.items() if v is not None})

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    names = [option.value for option in command.options]
    for name in names:
        required = (command.name, name) in REQUIRED
        default = inspect.Parameter.empty if required else None
        annotation: Any = str if required else str | None
        parameters.append(inspect.Parameter(name, keyword, default=default, annotation=annotation))
    if command.name == "pin-advice":
        parameters.append(
            inspect.Parameter(
                CHANNEL,
                keyword,
                default=None,
                annotation=app_commands.Transform[app_commands.AppCommandChannel, PostChannel],
            )
        )
        names.append(CHANNEL)
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__name__ = callback.__qualname__ = command.name.replace("-", "_")
    return callback


def build(core: Core, handler: Handler) -> list[app_commands.Command[Any, ..., None]]:
    """One discord.py command per command of the core's table."""
    built: list[app_commands.Command[Any, ..., None]] = []
    for command in COMMANDS:
        callback = _callback(command, handler)
        names = [p for p in inspect.signature(callback).parameters if p != "interaction"]
        choices = {o.value: _choices(core, o) for o in command.options}
        if names:
            app_commands.describe(**{n: _text(core, ("help", n)) for n in names})(callback)
            app_commands.rename(**{n: locale_str(n, key=("option", n)) for n in names})(callback)
        if choices:
            app_commands.choices(**choices)(callback)
        moderators = command.audience is Audience.MODERATORS
        if moderators:
            permission = MODERATOR_PERMISSION[command.name]
            app_commands.default_permissions(**{permission: True})(callback)
        built.append(
            app_commands.Command(
                name=command.name,
                description=_text(core, ("description", command.name)),
                callback=cast(Any, callback),
                allowed_contexts=SERVERS_ONLY if moderators else EVERYWHERE,
                allowed_installs=SERVER_INSTALL if moderators else ANY_INSTALL,
            )
        )
    return built


async def definition(tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
    """Exactly what :meth:`CommandTree.sync` sends for the tree's global commands."""
    translator = tree.translator
    commands = tree.get_commands()
    if translator is None:
        return [command.to_dict(tree) for command in commands]
    return [await command.get_translated_payload(tree, translator) for command in commands]


def definition_hash(payload: list[dict[str, Any]]) -> str:
    """A stable hash of a command list, to sync only when it changed."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def option_values(options: Mapping[str, Any]) -> dict[str, str]:
    """The options the core understands (text), without platform objects like a channel."""
    return {k: v for k, v in options.items() if isinstance(v, str) and k != CHANNEL}
