"""The console adapter: type commands as in a chat, read the replies in the terminal.

It plays one community ("console"), with you as its moderator, so ``/setup`` and
``/pin-advice`` can be tried too. It needs no token and no network.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
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


async def run(
    core: Core,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    *,
    stop: asyncio.Event | None = None,
) -> None:
    """Answer commands from ``stdin`` until end of input (Ctrl-D) or ``stop`` is set.

    ``stop`` ends the session only between commands: one being answered is finished first.
    """
    interactive = stdin.isatty()
    lines = _read_lines(stdin)
    stopping = asyncio.ensure_future((stop or asyncio.Event()).wait())
    stdout.write(core.text(core.default_locale, "welcome") + "\n\n")
    try:
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            reading = asyncio.ensure_future(lines.get())
            await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not reading.done():
                reading.cancel()
                break
            line = reading.result()
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
    finally:
        stopping.cancel()


def _read_lines(stdin: TextIO) -> asyncio.Queue[str]:
    """Lines of ``stdin`` as they come ("" at the end), read on a daemon thread: a read that
    waits for input must not keep the process from stopping."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        while True:
            line = stdin.readline()
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            except RuntimeError:  # the event loop has closed: nobody is reading any more
                return
            if not line:
                return

    threading.Thread(target=pump, name="console-input", daemon=True).start()
    return lines
