"""Telegram as the ``safety-bot`` command knows it: its name, its ``[telegram]`` section and
token, and its entry points. Light to import: python-telegram-bot loads only when an entry
point runs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field

from bots.adapter import PlatformAdapter, Renderer
from shared.config_schema import Key, PlatformSection
from shared.core import Core
from shared.pins import Counts

PLATFORM = "telegram"
TOKEN_VARIABLE = "TELEGRAM_TOKEN"
SECRET_VARIABLE = "TELEGRAM_WEBHOOK_SECRET"
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
"""Telegram's rule for a webhook's ``secret_token``."""
_SECRET_LABEL = b"safety-bot telegram webhook secret"


def derived_secret(token: str) -> str:
    """The webhook secret of a bot with ``token`` when none is configured: the same in every
    process with that token, so several behind one proxy agree with no more config; it tells
    nothing of the token (HMAC-SHA256 of a fixed label keyed by it, 43 characters)."""
    digest = hmac.new(token.encode(), _SECRET_LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """``[telegram]``: token, API server, and webhook mode."""

    token: str = field(default="", repr=False)
    base_url: str = "https://api.telegram.org/bot"
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    listen: str = "127.0.0.1"
    port: int = 8443

    @property
    def secret_token(self) -> str:
        """What Telegram sends with every webhook update, and the only updates taken carry:
        ``webhook_secret``, else one derived from the token (:func:`derived_secret`)."""
        return self.webhook_secret or (derived_secret(self.token) if self.token else "")

    @property
    def secrets(self) -> tuple[str, ...]:
        """The token and the webhook secret (configured or derived), kept out of all output."""
        return (self.token, self.secret_token)


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
        "webhook_secret": Key(
            str,
            lambda secret: secret == "" or bool(_SECRET.match(secret)),
            "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)",
        ),
        "listen": Key(str),
        "port": Key(int, lambda port: 0 < port < 65536, "must be 1-65535"),
    },
    holder=TelegramConfig,
    variables={"webhook_secret": SECRET_VARIABLE},
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
