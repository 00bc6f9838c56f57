"""Discord as the ``safety-bot`` command knows it: its name, its ``[discord]`` section and
token, its entry points and its operator commands (``invite-url``, ``sync-commands``). Light to
import: discord.py loads only when an entry point runs."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bots.adapter import OperatorCommand, PlatformAdapter, Renderer
from shared.config import Config
from shared.config_schema import Key, PlatformSection, Rule
from shared.core import Core
from shared.pins import Counts

PLATFORM = "discord"
TOKEN_VARIABLE = "DISCORD_TOKEN"


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    """``[discord]``: token and sharding. ``shard_count`` None: Discord's recommendation;
    ``shard_ids`` None: every shard (else this process's share, each below ``shard_count``)."""

    token: str = field(default="", repr=False)
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.shard_ids is not None:  # the file gives a list
            object.__setattr__(self, "shard_ids", tuple(self.shard_ids))

    @property
    def explicit(self) -> bool:
        """Whether the operator chose the shards (then the bot never changes them itself)."""
        return self.shard_count is not None


def _distinct_ids(ids: Sequence[int]) -> bool:
    return bool(ids) and len(set(ids)) == len(ids) and min(ids) >= 0


def _ids_within_count(values: Mapping[str, Any]) -> str:
    """``shard_ids`` needs ``shard_count``, and each id below it."""
    ids, count = values.get("shard_ids"), values.get("shard_count")
    if ids is None:
        return ""
    if count is None:
        return "needs shard_count, the number of shards across every process"
    over = [shard for shard in ids if shard >= count]
    return f"each must be below shard_count ({count}); not {over}" if over else ""


SECTION = PlatformSection(
    name=PLATFORM,
    token_variable=TOKEN_VARIABLE,
    keys={
        "shard_count": Key(int, lambda count: count >= 1, "must be 1 or more"),
        "shard_ids": Key(
            list, _distinct_ids, "must list distinct shard numbers, 0 or more", items=int
        ),
        "shards": Key(int, renamed_to="shard_count"),
    },
    rules=(Rule("shard_ids", _ids_within_count),),
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
    from bots.discord.sharding import serve

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
