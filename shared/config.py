"""Configuration: built-in defaults, then ``config.toml``, then the environment for tokens.

Every key is documented in ``config.example.toml``. The sections every bot has are here; each
platform's section (its keys, their rules, its token's variable) is declared by its adapter
(:class:`PlatformSection`) and given to :func:`load_config`, so adding a platform changes
nothing here. Tokens are kept out of ``repr`` so that a logged config object can never show
one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from shared.config_schema import (
    Key,
    PlatformConfig,
    PlatformSection,
    WithSecrets,
    default_edit_rates,
    edit_rates,
)
from shared.problems import Problem, ProblemsError, TomlFile
from shared.tomlpos import KeyLines, KeyPath

DEFAULT_CONFIG_NAME = "config.toml"
_REGION = re.compile(r"^[A-Z]{2}$|^INTL$")
_LOCALE = re.compile(r"^[a-z]{2}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
UNNAMED_EDITS_PER_SECOND = 20.0
"""Pinned-post edits a second on a platform no section names (a test's)."""
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PinsConfig:
    """``[pins]``: how fast the bot edits its pinned posts when advice changes."""

    edits_per_second: Mapping[str, float] = field(default_factory=dict)
    """Per platform: as configured, else the platform's default."""

    def rate(self, platform: str) -> float:
        """Edits a second on ``platform`` (a platform no section names gets the slowest)."""
        return self.edits_per_second.get(platform, UNNAMED_EDITS_PER_SECOND)


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
    platforms: Mapping[str, PlatformConfig] = field(default_factory=dict)
    """Each platform's section (``[telegram]``, ``[discord]``), as its adapter declares it."""
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
    def secrets(self) -> tuple[str, ...]:
        """Every value no output may show: each platform's token and its section's other
        secrets, and the database password."""
        found = [*self.tokens.values(), self.database_password]
        for section in self.platforms.values():
            if isinstance(section, WithSecrets):
                found.extend(section.secrets)
        return tuple(secret for secret in found if secret)

    @property
    def tokens(self) -> dict[str, str]:
        """Each platform's token ("" when unset), by platform name."""
        return {name: section.token for name, section in self.platforms.items()}

    def platform(self, name: str, holder: type[T]) -> T:
        """The ``name`` platform's section, as ``holder`` (its defaults when there is none)."""
        found = self.platforms.get(name)
        return found if isinstance(found, holder) else holder()

    @property
    def store_name(self) -> str:
        """Where settings are kept, without a password: the PostgreSQL URL or the SQLite file."""
        return describe_store(self.database_url or str(self.database))

    key_lines: KeyLines | None = field(default=None, repr=False, compare=False)
    """Where each key is written in ``source``, for problems found after loading."""

    def line_of(self, key: str) -> int:
        """The line of ``source`` where the dotted ``key`` is written (1 when it is not)."""
        return self.key_lines.line(tuple(key.split("."))) if self.key_lines else 1


SECTIONS: dict[str, dict[str, Key]] = {
    "bot": {
        "default_region": Key(
            str, lambda v: bool(_REGION.match(v)), "must be a region code like CA, US or INTL"
        ),
        "default_locale": Key(str, lambda v: bool(_LOCALE.match(v)), "must be like en or fr"),
    },
    "storage": {
        "database": Key(str),
        "url": Key(
            str,
            lambda v: v == "" or is_postgres_url(v),
            "must be a PostgreSQL URL like postgresql://user@host/db (or empty for SQLite)",
        ),
    },
    "content": {"path": Key(str)},
    "cooldown": {
        "commands": Key(int, lambda v: v >= 1, "must be at least 1"),
        "seconds": Key(float, lambda v: v >= 0, "must be 0 or more"),
    },
    "logging": {
        "level": Key(str, lambda v: v.upper() in _LOG_LEVELS, f"must be one of {_LOG_LEVELS}")
    },
    "pins": {"edits_per_second": Key(object)},
    "metrics": {
        "listen": Key(
            str,
            lambda v: v == "" or listen_address(v) is not None,
            'must be host:port, like "127.0.0.1:9108" or "[::1]:9108" (empty: no metrics)',
        )
    },
}
"""The sections every configuration has, besides the platforms': each key and its rule."""


def load_config(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    platforms: Sequence[PlatformSection] = (),
) -> Config:
    """Load ``path`` (or ``./config.toml`` when present), then apply token variables, with a
    section for each of ``platforms``.

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
        values = _validate(file, platforms)
        source = str(path)
        base = path.resolve().parent
        lines = file.lines
    return _build(values, environ, platforms, source, base, lines)


def schema(platforms: Sequence[PlatformSection]) -> dict[str, dict[str, Key]]:
    """Every section a configuration with ``platforms`` takes, and each one's keys."""
    found = dict(SECTIONS)
    for platform in platforms:
        found[platform.name] = {"token": Key(str), **platform.keys}
    return found


def _validate(file: TomlFile, platforms: Sequence[PlatformSection]) -> dict[str, dict[str, Any]]:
    problems: list[Problem] = []
    values: dict[str, dict[str, Any]] = {}
    sections = schema(platforms)

    def bad(path: KeyPath, message: str) -> None:
        problems.append(file.problem(path, message))

    for section, table in file.data.items():
        keys = sections.get(section)
        if keys is None:
            bad((section,), f"unknown section; known: {sorted(sections)}")
        elif not isinstance(table, dict):
            bad((section,), "must be a table")
        else:
            for key, value in table.items():
                found = _value(section, keys, key, value, platforms, bad)
                if found is not None:
                    values.setdefault(section, {})[key] = found
    _check_rules(values, platforms, bad)
    storage = values.get("storage", {})
    if storage.get("url") and "database" in storage:
        bad(("storage", "url"), "set either url (PostgreSQL) or database (SQLite), not both")
    if problems:
        raise ProblemsError(problems)
    return values


def _check_rules(
    values: Mapping[str, Mapping[str, Any]],
    platforms: Sequence[PlatformSection],
    bad: Callable[[KeyPath, str], None],
) -> None:
    """Each platform section's rules across its keys, on the values valid on their own."""
    for platform in platforms:
        given = values.get(platform.name, {})
        for rule in platform.rules:
            message = rule.check(given)
            if message:
                bad((platform.name, rule.key), message)


def _value(
    section: str,
    keys: Mapping[str, Key],
    key: str,
    value: Any,
    platforms: Sequence[PlatformSection],
    bad: Callable[[KeyPath, str], None],
) -> Any:
    """``[section] key``'s value as the config holds it; None (and ``bad`` called) when it
    is wrong."""
    expected = keys.get(key)
    if expected is None:
        known = sorted(name for name, k in keys.items() if not k.renamed_to)
        bad((section, key), f"unknown key; known in [{section}]: {known}")
        return None
    if (section, key) == ("pins", "edits_per_second"):
        return edit_rates(value, (section, key), platforms, bad)
    value, message = expected.read(value)
    if message:
        bad((section, key), message)
        return None
    return value


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
    platforms: Sequence[PlatformSection],
    source: str,
    base: Path,
    lines: KeyLines | None,
) -> Config:
    def get(section: str, key: str, default: Any) -> Any:
        return values.get(section, {}).get(key, default)

    defaults = Config()
    database = Path(get("storage", "database", str(defaults.database)))
    content = get("content", "path", None)
    sections = {}
    for platform in platforms:
        given = dict(values.get(platform.name, {}))
        # The environment wins over the file, so a deployment never needs a token on disk.
        token = env.get(platform.token_variable) or given.pop("token", "")
        given.pop("token", None)
        given.update(_from_environment(platform, env))
        sections[platform.name] = platform.holder(token=token, **given)
    rates = get("pins", "edits_per_second", default_edit_rates(platforms))
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
        platforms=sections,
        pins=PinsConfig(rates),
        metrics=MetricsConfig(listen=get("metrics", "listen", "")),
        source=source,
        database_configured=bool(values.get("storage")),
        key_lines=lines,
    )


def _from_environment(platform: PlatformSection, env: Mapping[str, str]) -> dict[str, Any]:
    """The keys of ``platform``'s section its variables set (they win over the file).

    Raises ProblemsError naming the variable, never its value (a secret), when one is wrong.
    """
    found: dict[str, Any] = {}
    problems = []
    for key, variable in platform.variables.items():
        if not env.get(variable):
            continue
        value, message = platform.keys[key].read(env[variable])
        if message:
            problems.append(Problem("(environment)", 0, variable, message))
        found[key] = value
    if problems:
        raise ProblemsError(problems)
    return found


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
