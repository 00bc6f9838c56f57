"""``safety-bot invite-url`` and ``safety-bot sync-commands``: the operator's Discord tasks."""

from __future__ import annotations

import argparse
import asyncio

from bots.app import UsageError, running_core
from bots.discord.permissions import client_id_from_token, invite_url
from bots.discord.platform import PLATFORM, TOKEN_VARIABLE, DiscordConfig
from shared.config import Config


def print_invite_url(args: argparse.Namespace, config: Config) -> int:
    """Print the OAuth2 URL that adds the bot with exactly the permissions it needs."""
    token = config.platform(PLATFORM, DiscordConfig).token
    client_id = args.client_id or client_id_from_token(token)
    where = "--client-id ID (the application id: developer portal, General Information)"
    variable = TOKEN_VARIABLE
    if client_id is None and token:
        raise UsageError(
            f"the application id cannot be read from {variable} (it does not look like a"
            f" Discord bot token): check the token, or give {where}"
        )
    if client_id is None:
        raise UsageError(f"give {where}, or set {variable}")
    print(invite_url(client_id))
    return 0


def sync_commands(args: argparse.Namespace, config: Config) -> int:
    """Send the slash commands to Discord now, whether or not they changed."""
    if not config.platform(PLATFORM, DiscordConfig).token:
        raise UsageError(f"set {TOKEN_VARIABLE} to sync the commands")
    from bots.discord.app import sync_commands as sync

    async def run() -> int:
        async with running_core(config) as core:
            return await sync(core)

    count = asyncio.run(run())
    print(f"synced {count} commands")
    return 0
