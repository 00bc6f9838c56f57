"""The console adapter: type commands as in a chat, read the replies in the terminal.

It plays one community ("console"), with you as its moderator, so ``/setup`` and
``/pin-advice`` can be tried too. It needs no token and no network.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TextIO

from bots.console.render import text
from shared.core import Core
from shared.models import Community, Request

log = logging.getLogger(__name__)

COMMUNITY = Community("console", "local")


def parse(line: str) -> Request | None:
    """``/setup region:US language:fr`` -> a Request; blank lines -> None."""
    words = line.split()
    if not words:
        return None
    options: dict[str, str] = {}
    for word in words[1:]:
        key, sep, value = word.partition(":")
        if sep and value:
            options[key.lower()] = value
    return Request(
        command=words[0],
        options=options,
        community=COMMUNITY,
        is_moderator=True,
        is_private_chat=False,
    )


async def run(core: Core, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """Answer commands from ``stdin`` until end of input (Ctrl-D)."""
    interactive = stdin.isatty()
    loop = asyncio.get_running_loop()
    stdout.write(core.text(core.default_locale, "welcome") + "\n\n")
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        request = parse(line)
        if request is None:
            continue
        try:
            reply = await core.handle(request)
        except Exception:
            log.exception("command failed")
            reply = core.error_reply()
        stdout.write(text(reply) + "\n\n")
        stdout.flush()
