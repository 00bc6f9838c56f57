"""Points discord.py at a fake Discord in a ``safety-bot`` process that tests start.

With this folder on ``PYTHONPATH``, Python imports this module at start-up, before the
installed ``safety-bot`` command runs: when ``FAKE_DISCORD_API`` is set, discord.py's REST base
and gateway become the fake's (``FAKE_DISCORD_GATEWAY``), so the real command, unchanged,
talks to 127.0.0.1 and never to discord.com. Without the variable it does nothing.
"""

import os

if os.environ.get("FAKE_DISCORD_API"):
    import warnings

    with warnings.catch_warnings():
        # discord.py imports audioop, deprecated; tests turn warnings into errors.
        warnings.simplefilter("ignore", DeprecationWarning)
        import discord
    import yarl

    discord.http.Route.BASE = os.environ["FAKE_DISCORD_API"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FAKE_DISCORD_GATEWAY"])
