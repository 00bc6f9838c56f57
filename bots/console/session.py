"""The console adapter: type commands as in a chat, read the replies in the terminal.

It plays one community ("console"), with you as its moderator, so ``/setup`` and
``/pin-advice`` can be tried too; its settings live in memory unless the operator configured
a database, and the answer to ``/setup`` says which. ``/language fr`` sets your own language,
as Telegram and Discord take it from the app. It needs no token and no network.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from dataclasses import replace
from typing import TextIO

from bots.console.render import text
from shared.core import Core
from shared.models import Community, Reply, Request

log = logging.getLogger(__name__)

COMMUNITY = Community("console", "local")
LANGUAGE_COMMANDS = ("/language", "/langue")
"""The console's own command: the person's language, which apps otherwise give."""


class Session:
    """One person at the console: their language, and the community the console plays."""

    def __init__(self, core: Core, saved_in: str | None = None) -> None:
        self.core = core
        self.saved_in = saved_in
        self.locale: str | None = None

    async def current_locale(self) -> str:
        """The language the person is answered in now."""
        return self.core.locale_for(self.locale, await self.core.settings(COMMUNITY))

    async def answer(self, line: str) -> Reply | None:
        """The reply to a typed line, read by the core's grammar; None for a blank line."""
        first, _, rest = line.strip().partition(" ")
        if first.lower() in LANGUAGE_COMMANDS:
            chosen, reply = self.core.choose_language(rest, await self.current_locale())
            self.locale = chosen or self.locale
            return reply
        typed = self.core.read(line)
        if typed is None:
            return None
        request = Request(
            command=typed.name or typed.command,
            options=typed.options,
            user_locale=self.locale,
            community=COMMUNITY,
            is_moderator=True,
            is_private_chat=False,
        )
        before = await self.core.settings(COMMUNITY)
        reply = await self.core.handle(request)
        if await self.core.settings(COMMUNITY) != before:
            reply = replace(reply, summary=await self._kept_where())
        return reply

    async def _kept_where(self) -> str:
        """Where the community's new settings are kept: in memory, or in the database file."""
        locale = await self.current_locale()
        if self.saved_in is not None:
            return self.core.text(locale, "console_settings_saved", path=self.saved_in)
        return self.core.text(locale, "console_settings_memory")


async def run(
    core: Core,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    *,
    stop: asyncio.Event | None = None,
    saved_in: str | None = None,
) -> None:
    """Answer commands from ``stdin`` until end of input (Ctrl-D) or ``stop`` is set.

    ``stop`` ends the session only between commands: one being answered is finished first.
    ``saved_in``: the database file the core's store writes to (None: settings in memory).
    """
    session = Session(core, saved_in)
    interactive = stdin.isatty()
    lines = _read_lines(stdin)
    stopping = asyncio.ensure_future((stop or asyncio.Event()).wait())
    locale = await session.current_locale()
    welcome = (core.text(locale, "welcome"), core.text(locale, "console_hint"))
    stdout.write("\n\n".join(welcome) + "\n\n")
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
            try:
                reply = await session.answer(line)
            except Exception:
                log.exception("command failed")
                reply = core.error_reply(session.locale)
            if reply is None:
                continue
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
