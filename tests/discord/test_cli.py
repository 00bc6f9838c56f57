"""The operator's side: ``safety-bot run``, ``ask --platform discord``, ``invite-url`` and
``sync-commands``, run as processes like an operator would."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bots.app import ExitCode
from bots.discord import render
from bots.discord.permissions import BOT_PERMISSIONS, client_id_from_token
from shared.content import Content
from shared.core import Core
from tests.conftest import PROJECT
from tests.discord.conftest import TOKEN
from tests.discord.fake import APP_ID, FakeDiscord

BIN = Path(sys.executable).parent / "safety-bot"
# View Channel, Send Messages, Embed Links, Pin Messages: nothing more.
EXPECTED_BITS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 51)


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[storage]\ndatabase = "bot.sqlite3"\n')
    return path


def environment(fake: FakeDiscord | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_TOKEN", "DISCORD_TOKEN")}
    env["PYTHONPATH"] = str(PROJECT)
    if fake is not None:
        env["FAKE_DISCORD_API"] = fake.api
        env["FAKE_DISCORD_GATEWAY"] = fake.gateway
    return {**env, **extra}


def run(
    *args: str, tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args, "--config", str(config_file(tmp_path))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env or environment(),
        check=False,
    )


def test_invite_url_asks_for_exactly_the_permissions_the_bot_needs(tmp_path: Path) -> None:
    result = run("invite-url", "--client-id", str(APP_ID), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    url = urlsplit(result.stdout.strip())
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    query = parse_qs(url.query)
    assert query["client_id"] == [str(APP_ID)]
    assert query["scope"] == ["bot applications.commands"]
    assert query["permissions"] == [str(EXPECTED_BITS)]
    assert BOT_PERMISSIONS.value == EXPECTED_BITS


def test_invite_url_reads_the_application_id_from_the_token(tmp_path: Path) -> None:
    # A token starts with the application id in base64; this one is not a real token.
    token = "OTAwMDAwMDAwMDAwMDAwMDAx.not-a-token"
    assert client_id_from_token(token) == APP_ID
    assert client_id_from_token(TOKEN) is None
    result = run("invite-url", tmp_path=tmp_path, env=environment(DISCORD_TOKEN=token))
    assert f"client_id={APP_ID}" in result.stdout
    missing = run("invite-url", tmp_path=tmp_path)
    assert missing.returncode == 2
    assert "--client-id" in missing.stderr


def test_invite_url_with_a_token_it_cannot_read_says_so(tmp_path: Path) -> None:
    token = "not-a-discord-bot-token-at-all"  # set, but no application id in it
    result = run("invite-url", tmp_path=tmp_path, env=environment(DISCORD_TOKEN=token))
    assert result.returncode == 2
    assert "the application id cannot be read from DISCORD_TOKEN" in result.stderr
    assert "set DISCORD_TOKEN" not in result.stderr, "it is set"
    assert "--client-id" in result.stderr
    assert token not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("/help-threatened", ["--region", "US", "--locale", "fr"]),
        ("/report", ["--age", "under18"]),
        ("/help", []),
        ("/setup", []),
    ],
)
def test_ask_prints_the_exact_interaction_callback_body(
    tmp_path: Path, content: Content, command: str, options: list[str]
) -> None:
    from bots.cli import ASK_COMMUNITY
    from shared.config import Config
    from shared.models import Request

    result = run("ask", command, *options, "--platform", "discord", "--json", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    values = dict(zip(options[::2], options[1::2], strict=True))
    moderator = command == "/setup"  # ask runs a moderator command as a moderator
    request = Request(
        command=command,
        options={k.lstrip("-"): v for k, v in values.items() if k != "--locale"},
        user_locale=values.get("--locale"),
        community=ASK_COMMUNITY if moderator else None,
        is_moderator=moderator,
    )
    core = Core(content, None, Config())
    assert json.loads(result.stdout) == render.payload(asyncio.run(core.handle(request)))
    text = run("ask", command, *options, "--platform", "discord", tmp_path=tmp_path)
    assert text.stdout.strip() == render.text(asyncio.run(core.handle(request))).strip()


async def launch(
    fake: FakeDiscord, tmp_path: Path, action: str, config: Path | None = None
) -> asyncio.subprocess.Process:
    """``safety-bot ACTION`` with a Discord token, pointed at the fake."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.discord.launch",
        action,
        "--config",
        str(config or config_file(tmp_path)),
        cwd=PROJECT,
        env=environment(fake, DISCORD_TOKEN=TOKEN),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_safety_bot_run_with_a_token_starts_the_discord_bot(
    fake: FakeDiscord, core: Core, tmp_path: Path
) -> None:
    process = await launch(fake, tmp_path, "run")
    try:
        await fake.wait_for(lambda: fake.sessions, within=30)
        assert fake.sync_count == 1, "commands synced once, on the first start"
        assert fake.sessions[0].identify["intents"] == 1, "guilds only"
        body = await fake.interact("help-threatened", locale="fr")
        reply = core.advice("help-threatened", "fr", core.config.default_region, None)
        assert body == render.payload(reply)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert TOKEN not in stderr.decode()
    assert "stopping on signal" in stderr.decode()


async def test_sync_commands_command(fake: FakeDiscord, tmp_path: Path) -> None:
    process = await launch(fake, tmp_path, "sync-commands")
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().startswith("synced ")
    assert fake.sync_count == 1
    assert not fake.sessions


@pytest.mark.parametrize("refusal", ["login", "gateway"])
async def test_safety_bot_run_says_which_token_was_refused(
    fake: FakeDiscord, tmp_path: Path, refusal: str
) -> None:
    if refusal == "login":
        fake.fail_next[("GET", "/users/@me")] = 401
    else:
        fake.identify_close = 4004  # authentication failed
    process = await launch(fake, tmp_path, "run")
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    log = stderr.decode()
    assert process.returncode == ExitCode.TOKEN_REFUSED, log
    assert "Discord refused the bot token: check DISCORD_TOKEN" in log
    assert "Traceback" not in log
    assert TOKEN not in log
