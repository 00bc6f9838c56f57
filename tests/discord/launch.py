"""``python -m tests.discord.launch ARGS``: the ``safety-bot`` command with discord.py pointed
at a fake Discord (``FAKE_DISCORD_API``, ``FAKE_DISCORD_GATEWAY``), for subprocess tests."""

import os
import sys
import warnings

import yarl

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import discord

discord.http.Route.BASE = os.environ["FAKE_DISCORD_API"]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FAKE_DISCORD_GATEWAY"])

from bots.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
