"""Configuration: built-in defaults, then ``config.toml``, then the environment for tokens.

Every key is documented in ``config.example.toml``. Tokens are kept out of ``repr`` so that a
logged config object can never show one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shared.problems import Problem, ProblemsError, TomlFile
from shared.tomlpos import KeyLines, KeyPath

DEFAULT_CONFIG_NAME = "config.toml"
TOKEN_VARIABLES = {"discord": "DISCORD_TOKEN", "telegram": "TELEGRAM_TOKEN"}
_REGION = re.compile(r"^[A-Z]{2}$|^INTL$")
_LOCALE = re.compile(r"^[a-z]{2}$")
PLATFORM_RATES = {"telegram": 30.0, "discord": 50.0}
"""Requests a second each platform allows a whole bot: Telegram about 30 messages a second,
Discord 50 requests a second (its global limit)."""
MAX_EDITS_PER_SECOND = {"telegram": 25.0, "discord": 45.0}
"""The most ``[pins] edits_per_second`` takes: 5 a second of each platform's rate stay for
answers to people, the bot's other calls and a busy machine's timing (at the platform's own
rate, a late edit next to an early one already makes a 429)."""
DEFAULT_EDITS_PER_SECOND = {"telegram": 20.0, "discord": 40.0}
"""Pinned-post edits a second by default, leaving answers to people more room still;
10,000 posts take about 8 1/2 minutes on Telegram and 4 1/2 on Discord."""


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """``[telegram]``: token, API server, and webhook mode."""

    token: str = field(default="", repr=False)
    base_url: str = "https://api.telegram.org/bot"
    webhook_url: str = ""
    listen: str = "127.0.0.1"
    port: int = 8443


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    """``[discord]``: token and sharding."""

    token: str = field(default="", repr=False)
    shards: int = 0


@dataclass(frozen=True, slots=True)
class PinsConfig:
    """``[pins]``: how fast the bot edits its pinned posts when advice changes."""

    edits_per_second: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_EDITS_PER_SECOND)
    )
    """Per platform; a platform not named (a test's) gets the slowest default."""

    def rate(self, platform: str) -> float:
        """Edits a second on ``platform``."""
        return self.edits_per_second.get(platform, min(DEFAULT_EDITS_PER_SECOND.values()))


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """``[metrics]``: where ``/metrics``, ``/healthz`` and ``/readyz`` are served."""

    listen: str = ""
    """``host:port``; empty: no metrics server."""

    @property
    def address(self) -> tuple[str, int] | None:
        """``listen`` as (host, port), or None when it is empty (or not host:port)."""
        return listen_address(self.listen)


def listen_address(value: str) -> tuple[str, int] | None:
    """``127.0.0.1:9108`` or ``[::1]:9108`` as (host, port); None for anything else."""
    host, colon, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        return None  # an IPv6 address needs brackets: [::1]:9108
    if not (colon and host and port.isascii() and port.isdigit()) or int(port) > 65535:
        return None
    return host, int(port)


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, validated."""

    default_region: str = "CA"
    default_locale: str = "en"
    database: Path = Path("safety-bot.sqlite3")
    database_url: str = field(default="", repr=False)
    """``[storage] url``: a PostgreSQL database, used instead of ``database`` when set. Kept
    out of ``repr``: it may hold a password."""
    content_path: Path | None = None
    cooldown_commands: int = 5
    cooldown_seconds: float = 30.0
    log_level: str = "INFO"
    telegram: TelegramConfig = TelegramConfig()
    discord: DiscordConfig = DiscordConfig()
    pins: PinsConfig = PinsConfig()
    metrics: MetricsConfig = MetricsConfig()
    source: str = "(built-in defaults)"
    database_configured: bool = False
    """Whether ``[storage] database`` or ``url`` was set (else the console keeps settings in
    memory)."""

    @property
    def database_password(self) -> str:
        """The password in ``[storage] url`` ("" without one), to keep it out of every output."""
        return urlsplit(self.database_url).password or "" if self.database_url else ""

    @property
    def store_name(self) -> str:
        """Where settings are kept, without a password: the PostgreSQL URL or the SQLite file."""
        return describe_store(self.database_url or str(self.database))

    key_lines: KeyLines | None = field(default=None, repr=False, compare=False)
    """Where each key is written in ``source``, for problems found after loading."""

    def line_of(self, key: str) -> int:
        """The line of ``source`` where the dotted ``key`` is written (1 when it is not)."""
        return self.key_lines.line(tuple(key.split("."))) if self.key_lines else 1


# section -> key -> (type, field name in the flat Config or nested config)
_SCHEMA: dict[str, dict[str, type]] = {
    "bot": {"default_region": str, "default_locale": str},
    "storage": {"database": str, "url": str},
    "content": {"path": str},
    "cooldown": {"commands": int, "seconds": float},
    "logging": {"level": str},
    "telegram": {"token": str, "base_url": str, "webhook_url": str, "listen": str, "port": int},
    "discord": {"token": str, "shards": int},
    "pins": {"edits_per_second": object},
    "metrics": {"listen": str},
}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load ``path`` (or ``./config.toml`` when present), then apply token variables.

    Raises ProblemsError naming the file, line and key of every bad key or value.
    """
    environ = os.environ if env is None else env
    if path is None and Path(DEFAULT_CONFIG_NAME).is_file():
        path = Path(DEFAULT_CONFIG_NAME)
    values: dict[str, dict[str, Any]] = {}
    source = "(built-in defaults)"
    base = Path.cwd()
    lines = None
    if path is not None:
        file = TomlFile.load(path)
        values = _validate(file)
        source = str(path)
        base = path.resolve().parent
        lines = file.lines
    return _build(values, environ, source, base, lines)


def _validate(file: TomlFile) -> dict[str, dict[str, Any]]:
    problems: list[Problem] = []
    values: dict[str, dict[str, Any]] = {}

    def bad(path: KeyPath, message: str) -> None:
        problems.append(file.problem(path, message))

    for section, table in file.data.items():
        schema = _SCHEMA.get(section)
        if schema is None:
            bad((section,), f"unknown section; known: {sorted(_SCHEMA)}")
            continue
        if not isinstance(table, dict):
            bad((section,), "must be a table")
            continue
        for key, value in table.items():
            expected = schema.get(key)
            if expected is None:
                bad((section, key), f"unknown key; known in [{section}]: {sorted(schema)}")
                continue
            if (section, key) == ("pins", "edits_per_second"):
                rates = _edit_rates(value, (section, key), bad)
                if rates is not None:
                    values.setdefault(section, {})[key] = rates
                continue
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or isinstance(value, bool):
                bad((section, key), f"must be {expected.__name__}, not {type(value).__name__}")
                continue
            message = _check_value(section, key, value)
            if message:
                bad((section, key), message)
                continue
            values.setdefault(section, {})[key] = value
    storage = values.get("storage", {})
    if storage.get("url") and "database" in storage:
        bad(("storage", "url"), "set either url (PostgreSQL) or database (SQLite), not both")
    if problems:
        raise ProblemsError(problems)
    return values


def _edit_rates(
    value: Any, path: KeyPath, bad: Callable[[KeyPath, str], None]
) -> dict[str, float] | None:
    """``[pins] edits_per_second`` at ``path``: one number for every platform, or a table by
    platform (``{ telegram = 20, discord = 40 }``; a platform left out keeps its default).
    None (and ``bad`` called) when it is wrong."""
    hint = ""
    if isinstance(value, dict):
        given: dict[str, Any] = value
        where: dict[str, KeyPath] = {name: (*path, name) for name in value}
    elif _is_number(value):
        given = dict.fromkeys(MAX_EDITS_PER_SECOND, value)
        where = dict.fromkeys(MAX_EDITS_PER_SECOND, path)
        hint = "; one number sets every platform, a table each: { telegram = 20, discord = 45 }"
    else:
        bad(path, "must be a number, or a table like { telegram = 20, discord = 40 }")
        return None
    rates = dict(DEFAULT_EDITS_PER_SECOND)
    wrong = False
    for name, rate in given.items():
        most = MAX_EDITS_PER_SECOND.get(name)
        if most is None:
            bad(where[name], f"unknown platform; known: {sorted(MAX_EDITS_PER_SECOND)}")
        elif not _is_number(rate):
            bad(where[name], f"must be a number, not {type(rate).__name__}")
        elif not 0 < rate <= most:
            bad(
                where[name],
                f"must be more than 0 and at most {most:g} for {name}: it allows "
                f"{PLATFORM_RATES[name]:g} a second for the whole bot, and answers to people "
                f"need the rest (the default is {DEFAULT_EDITS_PER_SECOND[name]:g}){hint}",
            )
        else:
            rates[name] = float(rate)
            continue
        wrong = True
    return None if wrong else rates


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_value(section: str, key: str, value: Any) -> str:
    """Why a value of the right type is still wrong, or "" when it is fine."""
    rules: dict[tuple[str, str], tuple[bool, str]] = {
        ("bot", "default_region"): (
            bool(_REGION.match(str(value))),
            "must be a region code like CA, US or INTL",
        ),
        ("bot", "default_locale"): (bool(_LOCALE.match(str(value))), "must be like en or fr"),
        ("cooldown", "commands"): (isinstance(value, int) and value >= 1, "must be at least 1"),
        ("cooldown", "seconds"): (isinstance(value, float) and value >= 0, "must be 0 or more"),
        ("logging", "level"): (str(value).upper() in _LOG_LEVELS, f"must be one of {_LOG_LEVELS}"),
        ("telegram", "base_url"): (
            str(value).startswith(("https://", "http://")),
            "must be an http(s) URL",
        ),
        ("telegram", "webhook_url"): (
            value == "" or str(value).startswith("https://"),
            "must be an https:// URL (Telegram sends webhooks only over https)",
        ),
        ("telegram", "port"): (isinstance(value, int) and 0 < value < 65536, "must be 1-65535"),
        ("discord", "shards"): (isinstance(value, int) and value >= 0, "must be 0 or more"),
        ("storage", "url"): (
            value == "" or is_postgres_url(str(value)),
            "must be a PostgreSQL URL like postgresql://user@host/db (or empty for SQLite)",
        ),
        ("metrics", "listen"): (
            value == "" or listen_address(str(value)) is not None,
            'must be host:port, like "127.0.0.1:9108" or "[::1]:9108" (empty: no metrics)',
        ),
    }
    ok, message = rules.get((section, key), (True, ""))
    return "" if ok else message


def is_postgres_url(target: str) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than an SQLite file."""
    return target.startswith(("postgresql://", "postgres://"))


def describe_store(target: str) -> str:
    """A store as logs and people may see it: an SQLite path as it is, a PostgreSQL URL without
    its password, user or query (``postgresql://host:port/db``)."""
    if not is_postgres_url(target):
        return target
    parts = urlsplit(target)
    host = parts.hostname or "local socket"
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql://{host}{port}{parts.path}"


def _build(
    values: dict[str, dict[str, Any]],
    env: Mapping[str, str],
    source: str,
    base: Path,
    lines: KeyLines | None,
) -> Config:
    def get(section: str, key: str, default: Any) -> Any:
        return values.get(section, {}).get(key, default)

    defaults = Config()
    database = Path(get("storage", "database", str(defaults.database)))
    content = get("content", "path", None)
    telegram = TelegramConfig(
        # The environment wins over the file, so a deployment never needs a token on disk.
        token=env.get(TOKEN_VARIABLES["telegram"]) or get("telegram", "token", ""),
        base_url=get("telegram", "base_url", defaults.telegram.base_url),
        webhook_url=get("telegram", "webhook_url", ""),
        listen=get("telegram", "listen", defaults.telegram.listen),
        port=get("telegram", "port", defaults.telegram.port),
    )
    discord = DiscordConfig(
        token=env.get(TOKEN_VARIABLES["discord"]) or get("discord", "token", ""),
        shards=get("discord", "shards", 0),
    )
    pins = PinsConfig(get("pins", "edits_per_second", dict(DEFAULT_EDITS_PER_SECOND)))
    return Config(
        default_region=get("bot", "default_region", defaults.default_region),
        default_locale=get("bot", "default_locale", defaults.default_locale),
        # Relative paths in a config file are relative to that file, not to where we run.
        database=database if database.is_absolute() else base / database,
        database_url=get("storage", "url", ""),
        content_path=None if content is None else _relative_to(base, Path(content)),
        cooldown_commands=get("cooldown", "commands", defaults.cooldown_commands),
        cooldown_seconds=get("cooldown", "seconds", defaults.cooldown_seconds),
        log_level=str(get("logging", "level", defaults.log_level)).upper(),
        telegram=telegram,
        discord=discord,
        pins=pins,
        metrics=MetricsConfig(listen=get("metrics", "listen", "")),
        source=source,
        database_configured=bool(values.get("storage")),
        key_lines=lines,
    )


def _relative_to(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path


def check_config_against_content(
    config: Config, regions: set[str], locales: set[str]
) -> list[tuple[str, str]]:
    """(key, message) for config values naming a region or locale the content lacks."""
    problems = []
    if config.default_region not in regions:
        problems.append(("bot.default_region", f"no content for region {config.default_region}"))
    if config.default_locale not in locales:
        problems.append(("bot.default_locale", f"no content for locale {config.default_locale}"))
    return problems
