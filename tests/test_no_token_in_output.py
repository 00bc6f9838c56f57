"""No token in any output: every ``safety-bot`` command, run as a process with both tokens
set, against a Telegram and a Discord that refuse them and against ones that cannot be reached
(closed ports of 127.0.0.1), with and without ``--debug``. Its whole stdout and stderr hold no
form of either token (whole, URL-encoded, escaped, or a long part alone); without ``--debug``
no traceback either, and a command that cannot do its work ends with a line naming the
variable to check and its documented exit code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bots.app import ExitCode
from tests.command import Finished, closed_port, config_file, environment, leaks, safety_bot
from tests.discord.fake import FakeDiscord
from tests.telegram.fake import FakeTelegram

# Shaped like real tokens (Telegram: a bot id, a colon and a 35-character secret; Discord: the
# application id in base64, a timestamp and a signature); neither fake takes them.
TELEGRAM = "5550001234:AAE-SentinelTelegramSecret_Qx12345"
# Joined here so that no tracked line looks like a real token to a secret scanner.
DISCORD = ".".join(
    ("OTAwMDAwMDAwMDAwMDAwMDAx", "GsEnTl", "SentinelDiscordSignature-Qx_1234567890ab")
)

COMMANDS: dict[str, tuple[list[str], str]] = {
    "run": (["run"], ""),
    "refresh-pins": (["refresh-pins"], ""),
    "sync-commands": (["sync-commands"], ""),
    "invite-url": (["invite-url"], ""),
    "pins": (["pins"], ""),
    "check": (["check"], ""),
    "ask": (["ask", "/help-threatened"], ""),
    "console": (["console"], "/about\n/help-threatened\n"),
}
REACHES = {
    "run": ("Telegram", "Discord"),
    "refresh-pins": ("Telegram", "Discord"),
    "sync-commands": ("Discord",),
}
"""Commands that talk to a platform, and which."""
VARIABLE = {"Telegram": "TELEGRAM_TOKEN", "Discord": "DISCORD_TOKEN"}


@dataclass
class Platforms:
    """Where the command finds Telegram and Discord, and what they do."""

    trouble: str
    base_url: str
    """The Telegram Bot API server's."""
    env: dict[str, str]


@pytest.fixture(params=["refused", "unreachable"])
async def platforms(request: pytest.FixtureRequest) -> AsyncIterator[Platforms]:
    """Both platforms refusing the tokens, or both unreachable."""
    if request.param == "unreachable":
        base_url = f"http://127.0.0.1:{closed_port()}/bot"
        env = environment(telegram=TELEGRAM, discord=DISCORD, discord_port=closed_port())
        yield Platforms(request.param, base_url, env)
        return
    telegram = FakeTelegram()  # takes its own token only
    discord = FakeDiscord(token="another-token-entirely")
    await telegram.start()
    await discord.start()
    try:
        env = environment(telegram=TELEGRAM, discord=DISCORD, discord_port=discord.port)
        yield Platforms(request.param, telegram.base_url, env)
    finally:
        await telegram.stop()
        await discord.stop()


def expected(command: str, trouble: str) -> tuple[int, list[str]]:
    """The exit code, and the lines the person must see."""
    reached = REACHES.get(command, ())
    if not reached:
        return ExitCode.OK, []
    if trouble == "refused":
        lines = [f"{p} refused the bot token: check {VARIABLE[p]}" for p in reached]
        return ExitCode.TOKEN_REFUSED, lines
    lines = [f"could not reach {p} (" for p in reached]
    # `run` keeps trying until it is stopped (SIGTERM: exit 0); the others give up.
    return ExitCode.OK if command == "run" else ExitCode.UNREACHABLE, lines


@pytest.mark.parametrize("command", COMMANDS)
async def test_no_token_in_any_output(platforms: Platforms, command: str, tmp_path: Path) -> None:
    args, stdin = COMMANDS[command]
    code, lines = expected(command, platforms.trouble)

    def tried_every_platform(stderr: str) -> bool:
        return all(line in stderr for line in lines)

    async def once(debug: list[str]) -> Finished:
        folder = tmp_path / ("debug" if debug else "plain")  # a database each
        folder.mkdir()
        return await safety_bot(
            *debug,
            *args,
            "--config",
            str(config_file(folder, platforms.base_url)),
            env=platforms.env,
            cwd=folder,
            stdin=stdin,
            stop_when=tried_every_platform if code == ExitCode.OK and lines else None,
        )

    finished = await asyncio.gather(once([]), once(["--debug"]))
    for debug, result in zip((False, True), finished, strict=True):
        where = f"safety-bot {'--debug ' if debug else ''}{command}:\n{result.output}"
        assert not leaks(result.output, TELEGRAM, DISCORD), where
        assert result.code == code, where
        for line in lines:
            assert line in result.stderr, where
        if not debug:
            assert "Traceback" not in result.output, where
        if command == "run" and platforms.trouble == "refused":
            # Told as it happens: the first one stopped leaves the other running, the second
            # leaves nothing.
            assert result.stderr.count("keeps running") == 1, where
            assert result.stderr.count("nothing else is running") == 1, where
