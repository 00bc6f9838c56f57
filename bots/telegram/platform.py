"""Telegram as the ``safety-bot`` command knows it: its name, its ``[telegram]`` section and
token, and its entry points. Light to import: python-telegram-bot loads only when an entry
point runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from bots.adapter import PlatformAdapter, Renderer
from shared.config_schema import Key, PlatformSection
from shared.core import Core
from shared.pins import Counts

PLATFORM = "telegram"
TOKEN_VARIABLE = "TELEGRAM_TOKEN"


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """``[telegram]``: token, API server, and webhook mode."""

    token: str = field(default="", repr=False)
    base_url: str = "https://api.telegram.org/bot"
    webhook_url: str = ""
    listen: str = "127.0.0.1"
    port: int = 8443


SECTION = PlatformSection(
    name=PLATFORM,
    token_variable=TOKEN_VARIABLE,
    keys={
        "base_url": Key(
            str, lambda url: url.startswith(("https://", "http://")), "must be an http(s) URL"
        ),
        "webhook_url": Key(
            str,
            lambda url: url == "" or url.startswith("https://"),
            "must be an https:// URL (Telegram sends webhooks only over https)",
        ),
        "listen": Key(str),
        "port": Key(int, lambda port: 0 < port < 65536, "must be 1-65535"),
    },
    holder=TelegramConfig,
    # About 30 messages a second for a whole bot (20 a minute in one group).
    requests_per_second=30.0,
    max_edits_per_second=25.0,
    default_edits_per_second=20.0,
)


def _renderer() -> Renderer:
    from bots.telegram import render

    return Renderer(render.text, render.payload)


async def _serve(core: Core) -> None:
    from bots.telegram.app import serve

    await serve(core)


async def _refresh_pins(core: Core) -> Counts:
    from bots.telegram.app import refresh_pins

    return await refresh_pins(core)


TELEGRAM = PlatformAdapter(PLATFORM, _renderer, SECTION, _serve, _refresh_pins)
