"""The webhook secret: from ``[telegram] webhook_secret`` or ``TELEGRAM_WEBHOOK_SECRET`` (which
wins), checked against Telegram's rule, else derived from the token so that every process of
one bot agrees; never shown (repr, logs, ``--debug``). And the fake as webhook sender and
reverse proxy: the secret set is the one every delivery carries, and a dead port is skipped."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
from pathlib import Path

import pytest

from bots import cli
from bots.registry import load_config
from bots.telegram.app import build_application, serve
from bots.telegram.platform import SECRET_VARIABLE, TelegramConfig, derived_secret
from shared.core import Core
from shared.problems import ProblemsError
from tests.command import closed_port, leaks
from tests.telegram.conftest import fast_limiter
from tests.telegram.fake import TOKEN, FakeTelegram
from tests.telegram.processes import HOOK, start_webhook

SECRET = "sentinel_Webhook-Secret_7f3a9c"
LEGAL = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def write(folder: Path, text: str, name: str = "config.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def telegram(folder: Path, text: str, env: dict[str, str]) -> TelegramConfig:
    return load_config(write(folder, text), env=env).platform("telegram", TelegramConfig)


def test_the_secret_comes_from_the_file_or_the_environment_which_wins(tmp_path: Path) -> None:
    text = f'[telegram]\nwebhook_secret = "{SECRET}"\n'
    assert telegram(tmp_path, text, {}).secret_token == SECRET
    env = {SECRET_VARIABLE: "from-env", "TELEGRAM_TOKEN": TOKEN}
    assert telegram(tmp_path, text, env).secret_token == "from-env"


def test_without_one_it_is_derived_from_the_token_the_same_in_every_process(
    tmp_path: Path,
) -> None:
    first = telegram(tmp_path, "", {"TELEGRAM_TOKEN": TOKEN}).secret_token
    assert first == telegram(tmp_path, "", {"TELEGRAM_TOKEN": TOKEN}).secret_token
    assert first == derived_secret(TOKEN)
    assert LEGAL.match(first)
    assert len(first) >= 32, "as hard to guess as the random one it replaces"
    assert first != derived_secret("456:ANOTHER-TOKEN")
    assert not leaks(first, TOKEN), "the token cannot be read from it"


def test_the_secret_is_kept_out_of_repr_and_registered_for_redaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, f'[telegram]\nwebhook_secret = "{SECRET}"\n')
    config = load_config(path, env={})
    assert SECRET not in repr(config)
    derived = load_config(None, env={"TELEGRAM_TOKEN": TOKEN})
    assert derived_secret(TOKEN) not in repr(derived)
    # What ``safety-bot`` cleans every log line and output of: both, and the variable's value
    # from the start (before the config is read, as for tokens).
    logged: list[str] = []
    printed: list[str] = []
    monkeypatch.setattr(cli, "setup_logging", lambda _level, secrets, debug: logged.extend(secrets))
    monkeypatch.setattr(cli, "redact_output", printed.extend)
    monkeypatch.setenv("TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv(SECRET_VARIABLE, "sentinel-from-env")
    assert cli.main(["--config", str(write(tmp_path, "", "empty.toml")), "check"]) == 0
    assert {TOKEN, "sentinel-from-env"} <= set(logged) & set(printed)
    monkeypatch.delenv(SECRET_VARIABLE)
    assert cli.main(["--config", str(path), "check"]) == 0
    assert SECRET in logged
    monkeypatch.setenv(SECRET_VARIABLE, "")
    assert cli.main(["--config", str(write(tmp_path, "", "empty.toml")), "check"]) == 0
    assert derived_secret(TOKEN) in logged


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "ünïcode", "a+b"])
def test_a_secret_telegram_would_refuse_names_file_line_and_key(
    tmp_path: Path, secret: str
) -> None:
    with pytest.raises(ProblemsError) as error:
        load_config(write(tmp_path, f'[telegram]\n\nwebhook_secret = "{secret}"\n'), env={})
    assert "config.toml:3: telegram.webhook_secret: must be 1-256 characters of A-Z" in str(
        error.value
    )


def test_a_wrong_secret_in_the_environment_names_the_variable_not_the_value() -> None:
    with pytest.raises(ProblemsError) as error:
        load_config(None, env={SECRET_VARIABLE: "sentinel secret with spaces"})
    assert f"error: (environment): {SECRET_VARIABLE}: must be 1-256 characters" in str(error.value)
    assert "sentinel" not in str(error.value)


async def test_every_delivery_carries_the_secret_set_and_a_dead_port_is_skipped(
    core: Core, fake: FakeTelegram
) -> None:
    port = closed_port()
    hooked = TelegramConfig(
        token=TOKEN, base_url=fake.base_url, webhook_url=HOOK, webhook_secret=SECRET, port=port
    )
    config = dataclasses.replace(core.config, platforms={"telegram": hooked})
    bot = Core(core.content, core.store, config)
    task = asyncio.create_task(
        serve(bot, application=build_application(bot, rate_limiter=fast_limiter()))
    )
    try:
        await fake.wait_sent("setWebhook")
        assert fake.webhook == {"url": HOOK, "secret_token": SECRET}
        dead = closed_port()
        fake.deliver_to([dead, port], senders=1)
        for _ in range(6):
            await fake.command("/about")
        await fake.wait_for(lambda: len(fake.sent("sendMessage")) == 6, within=10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert len(fake.delivered_to(port)) == 6, "every update taken once, by the live port"
    assert fake.missed[(dead, "refused")] >= 3, "the dead port was tried and skipped"
    assert not [why for (_, why) in fake.missed if why != "refused"], "no 403: the secret set"


@pytest.mark.parametrize("given", ["environment", "derived"])
async def test_the_secret_reaches_no_output_even_with_debug(
    fake: FakeTelegram, tmp_path: Path, given: str
) -> None:
    secret = SECRET if given == "environment" else derived_secret(TOKEN)
    storage = str(tmp_path / "bot.sqlite3")
    running, _port = await start_webhook(
        tmp_path / "bot",
        fake.base_url,
        storage,
        secret=SECRET if given == "environment" else None,
        debug=True,
    )
    running.stop()
    result = await running.finished()
    assert result.code == 0, result.stderr
    assert [hook["secret_token"] for hook in fake.sent("setWebhook")] == [secret]
    assert "setWebhook" in result.stderr, "--debug shows the call, without the secret"
    assert not leaks(result.output, secret, TOKEN), result.output
