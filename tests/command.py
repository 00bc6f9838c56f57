"""The installed ``safety-bot`` command, run as an operator runs it, against fakes on
127.0.0.1: Telegram through ``[telegram] base_url``, Discord through ``tests/discord/site``
(see its ``sitecustomize``), so the process under test is the real one, unchanged.

Also what "no token in any output" means, written out here independently of the code that
redacts: every form in which a token can appear in text.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, quote_plus

from shared.content import default_content_path

BIN = Path(sys.executable).parent / "safety-bot"
SITE = Path(__file__).resolve().parent / "discord" / "site"


def closed_port() -> int:
    """A port of 127.0.0.1 nobody listens on (a platform that cannot be reached)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def discord_urls(port: int) -> tuple[str, str]:
    """discord.py's REST base and gateway for a fake Discord listening on ``port``."""
    return f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway"


def config_file(folder: Path, telegram_base_url: str) -> Path:
    """A ``config.toml`` with the given Bot API server, and the database in ``folder``."""
    path = folder / "config.toml"
    path.write_text(
        f"[telegram]\nbase_url = {json.dumps(telegram_base_url)}\n"
        f"[storage]\ndatabase = {json.dumps(str(folder / 'bot.sqlite3'))}\n"
        f"[content]\npath = {json.dumps(str(default_content_path()))}\n"
    )
    return path


def environment(
    *,
    telegram: str | None = None,
    discord: str | None = None,
    discord_port: int | None = None,
) -> dict[str, str]:
    """This process's environment with only the given tokens; Discord, when its token is set,
    on ``discord_port`` of 127.0.0.1 (never discord.com)."""
    variables = ("TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "DISCORD_TOKEN")
    env = {k: v for k, v in os.environ.items() if k not in variables}
    if telegram is not None:
        env["TELEGRAM_TOKEN"] = telegram
    if discord is not None:
        assert discord_port is not None, "a Discord token without a fake would reach discord.com"
        env["DISCORD_TOKEN"] = discord
        env["FAKE_DISCORD_API"], env["FAKE_DISCORD_GATEWAY"] = discord_urls(discord_port)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SITE), env.get("PYTHONPATH")]))
    return env


def token_forms(token: str) -> set[str]:
    """Every way ``token`` could show in text: whole, URL-encoded, escaped as in a repr or
    JSON, and each long part alone (Telegram's secret after the colon, Discord's parts)."""
    forms = {
        token,
        quote(token, safe=""),
        quote_plus(token),
        json.dumps(token)[1:-1],
        repr(token)[1:-1],
    }
    return forms | {part for part in re.split(r"[:.]", token) if len(part) >= 12}


def leaks(text: str, *tokens: str) -> list[str]:
    """The forms of ``tokens`` found in ``text`` (case-insensitively)."""
    lowered = text.lower()
    return sorted(f for t in tokens for f in token_forms(t) if f.lower() in lowered)


@dataclass
class Finished:
    """What a ``safety-bot`` process printed, and how it ended."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Fake(Protocol):
    """A fake platform server a test started."""

    async def stop(self) -> None: ...


async def stop_all(running: Running, *fakes: Fake) -> Finished:
    """SIGTERM ``running``, wait for its end, then stop the ``fakes`` it talked to."""
    running.stop()
    try:
        return await running.finished()
    finally:
        for fake in fakes:
            await fake.stop()


def assert_stopped_cleanly(result: Finished, *tokens: str) -> None:
    """``run`` stopped by SIGTERM: exit 0, no traceback, no form of ``tokens`` in its output."""
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.output
    assert not leaks(result.output, *tokens)


class Running:
    """A ``safety-bot`` process; its stderr is read as it comes (see :meth:`wait_for`)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self._stdout = asyncio.ensure_future(self._read(process.stdout, None))
        self._stderr = asyncio.ensure_future(self._read(process.stderr, self.lines))

    async def _read(self, stream: asyncio.StreamReader | None, lines: list[str] | None) -> str:
        assert stream is not None
        seen = []
        async for raw in stream:
            seen.append(raw.decode())
            if lines is not None:
                lines.append(seen[-1])
                self._changed.set()
        return "".join(seen)

    @property
    def stderr(self) -> str:
        """Its stderr so far."""
        return "".join(self.lines)

    async def wait_for(self, check: Callable[[str], bool], within: float = 30) -> None:
        """Wait until ``check(stderr so far)`` holds; fail if the process ends first."""

        async def waiting() -> None:
            while not check(self.stderr):
                if self._stderr.done():
                    raise AssertionError(f"safety-bot ended first:\n{self.stderr}")
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(waiting(), within)

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)

    async def finished(self, within: float = 60) -> Finished:
        """Its exit code and whole output, once it has ended (killed after ``within`` s)."""
        try:
            code = await asyncio.wait_for(self.process.wait(), within)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        return Finished(code, await self._stdout, await self._stderr)


async def start(*args: str, env: dict[str, str], cwd: Path, stdin: str = "") -> Running:
    """Start ``safety-bot ARGS`` with ``stdin`` as its whole input."""
    process = await asyncio.create_subprocess_exec(
        str(BIN),
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    process.stdin.write(stdin.encode())
    process.stdin.close()
    return Running(process)


async def safety_bot(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    stdin: str = "",
    stop_when: Callable[[str], bool] | None = None,
) -> Finished:
    """Run ``safety-bot ARGS`` to its end; with ``stop_when``, send SIGTERM once its stderr so
    far satisfies it (``run`` never ends by itself)."""
    running = await start(*args, env=env, cwd=cwd, stdin=stdin)
    if stop_when is not None:
        try:
            await running.wait_for(stop_when, within=60)
        finally:
            running.stop()
    return await running.finished()
