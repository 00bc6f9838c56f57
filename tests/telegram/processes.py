"""``safety-bot run`` processes in Telegram webhook mode against the fake Telegram: their
config, and starting them until their webhook server takes updates."""

from __future__ import annotations

import json
from pathlib import Path

from shared.content import default_content_path
from tests.command import Running, closed_port, environment, start
from tests.telegram.fake import TOKEN

HOOK = "https://bot.example/tg/updates"
"""The public webhook URL every process sets (never contacted: the fake plays the proxy)."""
RUNNING = "Telegram bot running (webhook)"


def webhook_config(folder: Path, base_url: str, *, port: int, storage: str) -> Path:
    """A ``config.toml`` in ``folder``: webhook mode on ``port`` of 127.0.0.1, the store
    ``storage`` (a PostgreSQL URL, or an SQLite file's path), no cooldown to speak of."""
    key = "url" if storage.startswith("postgresql://") else "database"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(
        f"[telegram]\nbase_url = {json.dumps(base_url)}\nwebhook_url = {json.dumps(HOOK)}\n"
        f'listen = "127.0.0.1"\nport = {port}\n'
        f"[storage]\n{key} = {json.dumps(storage)}\n"
        f"[content]\npath = {json.dumps(str(default_content_path()))}\n"
        "[cooldown]\ncommands = 100000\nseconds = 1\n"
    )
    return path


async def start_webhook(
    folder: Path, base_url: str, storage: str, *, secret: str | None = None, debug: bool = False
) -> tuple[Running, int]:
    """``safety-bot run`` in webhook mode in ``folder`` and its port, once it says
    its webhook server is running; ``secret`` as ``TELEGRAM_WEBHOOK_SECRET`` when given."""
    port = closed_port()
    config = webhook_config(folder, base_url, port=port, storage=storage)
    env = environment(telegram=TOKEN)
    if secret is not None:
        env["TELEGRAM_WEBHOOK_SECRET"] = secret
    args = ["--debug"] if debug else []
    running = await start(*args, "run", "--config", str(config), env=env, cwd=folder)
    await running.wait_for(lambda stderr: RUNNING in stderr, within=60)
    return running, port
