"""discord.py's logs kept free of what people write, and an outage said in one line.

discord.py logs whole gateway events and request bodies at DEBUG (user ids, option values,
interaction tokens), and a whole traceback each time the gateway cannot be reached.
"""

from __future__ import annotations

import logging

import aiohttp
import discord

from bots.app import describe

NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused connections and timeouts included
    aiohttp.ClientError,
    discord.GatewayNotFound,
    discord.DiscordServerError,
)
"""What Discord being unreachable looks like in discord.py: trying again later can help."""
LIBRARY_LOGGERS = ("discord.client", "discord.shard")
"""discord.py loggers that log a whole traceback each time the gateway cannot be reached."""


class _OneLineOutages(logging.Filter):
    """Without ``--debug``, a record about Discord being unreachable says why in one line
    instead of a traceback; a traceback of anything else is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, NETWORK_ERRORS) or logging.getLogger().level <= logging.DEBUG:
            return True
        record.msg = f"{record.getMessage()} (could not reach Discord: {describe(error)})"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_OUTAGES = _OneLineOutages()


def quiet_library_logs() -> None:
    """discord.py logs whole gateway events and request bodies at DEBUG: user ids, option
    values and interaction tokens. Keep its loggers at INFO or above, even with ``--debug``;
    and its retries during an outage in one line each (see :class:`_OneLineOutages`)."""
    library = logging.getLogger("discord")
    library.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _OUTAGES not in logger.filters:
            logger.addFilter(_OUTAGES)
    # The bot never joins voice: no warnings about voice libraries it does not need.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
