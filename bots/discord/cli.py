"""``safety-bot invite-url`` and ``safety-bot sync-commands``: the operator's Discord tasks."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bots.app import running_core
from bots.discord.permissions import client_id_from_token, invite_url
from shared.config import TOKEN_VARIABLES, Config


def print_invite_url(args: argparse.Namespace, config: Config) -> int:
    """Print the OAuth2 URL that adds the bot with exactly the permissions it needs."""
    client_id = args.client_id or client_id_from_token(config.discord.token)
    if client_id is None:
        print(
            "Give the application id with --client-id (developer portal, General Information),"
            f" or set {TOKEN_VARIABLES['discord']}.",
            file=sys.stderr,
        )
        return 2
    print(invite_url(client_id))
    return 0


def sync_commands(args: argparse.Namespace, config: Config) -> int:
    """Send the slash commands to Discord now, whether or not they changed."""
    if not config.discord.token:
        print(f"Set {TOKEN_VARIABLES['discord']} to sync the commands.", file=sys.stderr)
        return 2
    from bots.discord.app import sync_commands as sync

    async def run() -> int:
        async with running_core(config) as core:
            return await sync(core)

    count = asyncio.run(run())
    print(f"synced {count} commands")
    return 0
