"""Discord as the ``safety-bot`` command knows it: its name, its ``[discord]`` section and
token, its entry points and its operator commands (``invite-url``, ``sync-commands``). Light to
import: discord.py loads only when an entry point runs."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from bots.adapter import OperatorCommand, PlatformAdapter, Renderer
from shared.config import Config
from shared.config_schema import Key, PlatformSection
from shared.core import Core
from shared.pins import Counts

PLATFORM = "discord"
TOKEN_VARIABLE = "DISCORD_TOKEN"


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    """``[discord]``: token and sharding."""

    token: str = field(default="", repr=False)
    shards: int = 0


SECTION = PlatformSection(
    name=PLATFORM,
    token_variable=TOKEN_VARIABLE,
    keys={"shards": Key(int, lambda shards: shards >= 0, "must be 0 or more")},
    holder=DiscordConfig,
    # Discord's global limit: 50 requests a second (answers to commands do not count).
    requests_per_second=50.0,
    max_edits_per_second=45.0,
    default_edits_per_second=40.0,
)


def _renderer() -> Renderer:
    from bots.discord import render

    return Renderer(render.text, render.payload)


async def _serve(core: Core) -> None:
    from bots.discord.app import serve

    await serve(core)


async def _refresh_pins(core: Core) -> Counts:
    from bots.discord.app import refresh_pins

    return await refresh_pins(core)


def _client_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--client-id",
        type=int,
        metavar="ID",
        help="the Discord application id (default: read from the bot token)",
    )


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """The command takes only the common options."""


def _invite_url(args: argparse.Namespace, config: Config) -> int:
    from bots.discord.cli import print_invite_url

    return print_invite_url(args, config)


def _sync_commands(args: argparse.Namespace, config: Config) -> int:
    from bots.discord.cli import sync_commands

    return sync_commands(args, config)


DISCORD = PlatformAdapter(
    PLATFORM,
    _renderer,
    SECTION,
    _serve,
    _refresh_pins,
    commands=(
        OperatorCommand(
            "invite-url",
            "print the URL that adds the bot to a Discord server",
            _client_id,
            _invite_url,
        ),
        OperatorCommand(
            "sync-commands",
            "send the slash commands to Discord now",
            _no_arguments,
            _sync_commands,
        ),
    ),
)
