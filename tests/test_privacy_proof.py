"""Privacy, proven end to end: one session through both fakes, as ``safety-bot run --debug``
runs it (both tokens set, the project's logging set-up at DEBUG, metrics served), and
afterwards not one sentinel (a user id, a username, a display name, what a person typed, a
token) is found in any log record of any logger, in the formatted log output, in the database,
in any file the bot wrote or in what ``/metrics``, ``/readyz`` and ``/healthz`` serve. Hostile
input then creates no metric series: every label value comes from a closed set.

Every sentinel is checked case-insensitively (the bot lowercases commands); user ids also as
the big-endian integers SQLite would store.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bots.app import running_core
from bots.discord.app import DiscordBot
from bots.discord.platform import DiscordConfig
from bots.logs import REDACTED, setup_logging
from bots.registry import default_config
from bots.telegram.platform import TelegramConfig
from shared.config import Config
from shared.core import Core
from tests.discord.conftest import fake_discord
from tests.discord.conftest import running as discord_running
from tests.discord.fake import MANAGE_GUILD, PIN_MESSAGES, VIEW_CHANNEL, FakeDiscord
from tests.scrape import get, outside_closed_sets, samples, serving, value
from tests.telegram.conftest import running as telegram_running
from tests.telegram.fake import GROUP_ID, FakeTelegram, group_chat, member

# Tokens the libraries accept, shaped unlike real ones (Telegram: 8-10 digits, a colon and 35
# characters; Discord: three base64 parts of 24+, 6 and 27+ characters).
TELEGRAM_TOKEN = "4242:SentinelTokenTelegramQx"
DISCORD_TOKEN = "SentinelTokenDiscordQx.privacy.proof"

TG_PERSON_ID = 5550101337
TG_ADMIN_ID = 5550202448
DC_PERSON_ID = 777000111222333444
TYPED = "SentinelTypedQx"
"""Words a person types: free text, command arguments, an unknown command."""
OPTION = "SentinelOptionQx"
"""An option value a person types (echoed back to them as "not a region I know")."""

TG_PERSON = {
    "id": TG_PERSON_ID,
    "is_bot": False,
    "first_name": "SentinelFirstQx",
    "last_name": "SentinelLastQx",
    "username": "sentinel_uname_qx",
    "language_code": "en",
}
TG_ADMIN = {
    **TG_PERSON,
    "id": TG_ADMIN_ID,
    "first_name": "SentinelAdminFirstQx",
    "username": "sentinel_admin_qx",
}
DC_PERSON = {
    "id": str(DC_PERSON_ID),
    "username": "sentinel_dc_user_qx",
    "discriminator": "0",
    "global_name": "SentinelGlobalNameQx",
    "avatar": None,
}
DC_NICK = "SentinelNickQx"
INTERACTION_TOKEN = "interaction-token"
"""The fake's interaction tokens start so; each one lets its holder answer for the bot."""

SENTINELS = (
    TELEGRAM_TOKEN,
    DISCORD_TOKEN,
    str(TG_PERSON_ID),
    str(TG_ADMIN_ID),
    str(DC_PERSON_ID),
    TYPED,
    OPTION,
    DC_NICK,
    INTERACTION_TOKEN,
    *(str(TG_PERSON[key]) for key in ("first_name", "last_name", "username")),
    *(str(TG_ADMIN[key]) for key in ("first_name", "username")),
    *(str(DC_PERSON[key]) for key in ("username", "global_name")),
)
BINARY_IDS = tuple(
    n.to_bytes(size, "big")
    for n in (TG_PERSON_ID, TG_ADMIN_ID, DC_PERSON_ID)
    for size in (6, 8)
    if n < 1 << (8 * size - 1)
)


class Capture(logging.Handler):
    """Keeps every record that reaches the root logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def debug_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Capture, io.StringIO]]:
    """``safety-bot --debug``'s logging with both tokens, writing to a buffer, plus a handler
    that keeps every raw record; the test's own logging is restored after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogRecordFactory())
    httpx = logging.getLogger("httpx")
    monkeypatch.setattr(httpx, "level", logging.NOTSET)  # as in a fresh process
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    setup_logging("INFO", (TELEGRAM_TOKEN, DISCORD_TOKEN), debug=True)
    capture = Capture()
    capture.setFormatter(root.handlers[0].formatter)
    root.addHandler(capture)
    try:
        yield capture, stderr
    finally:
        handlers, level, factory = saved
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.setLogRecordFactory(factory)


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API, taking only the sentinel token, with the sentinel people in a group."""
    server = FakeTelegram(token=TELEGRAM_TOKEN)
    server.opened_private_chat |= {TG_PERSON_ID, TG_ADMIN_ID}
    server.members[(GROUP_ID, TG_ADMIN_ID)] = {
        **member(TG_ADMIN_ID, "administrator"),
        "user": TG_ADMIN,
    }
    server.members[(GROUP_ID, TG_PERSON_ID)] = {**member(TG_PERSON_ID), "user": TG_PERSON}
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A fake Discord with one server, discord.py pointed at it."""
    async with fake_discord(monkeypatch) as server:
        yield server


async def broken(*args: object) -> None:
    """A handler that fails (with a message holding nothing of the person's)."""
    raise RuntimeError("a handler broke")


def private(person: dict[str, Any]) -> dict[str, Any]:
    """A person's private chat with the bot, as Telegram describes it (names included)."""
    names = {k: person[k] for k in ("first_name", "last_name", "username") if k in person}
    return {"id": person["id"], "type": "private", **names}


async def telegram_session(fake: FakeTelegram, core: Core) -> None:
    """Everything a person and a moderator can do on Telegram, with sentinels everywhere."""

    async def say(text: str, sender: dict[str, Any] = TG_PERSON, group: bool = False) -> None:
        chat = group_chat() if group else private(sender)
        await fake.command(text, chat=chat, sender=sender)
        await fake.settle()

    for typed in (
        "/start",
        "/start report-GB-fr",
        f"/start {TYPED}",
        f"/report region:{OPTION} {TYPED}",
        f"{TYPED} is my name and this is what happened",
        f"/{TYPED}",
        "/help_threatened",
    ):
        await say(typed)
    advice = next(c for c in reversed(fake.calls) if c.method == "sendMessage")
    message = {**advice.result, "reply_markup": advice.body["reply_markup"]}
    pressed = message["reply_markup"]["inline_keyboard"][-1][0]["callback_data"]
    for data in (pressed, f"n:{OPTION}:{OPTION}:-:en", TYPED):
        await fake.press(data, message, TG_PERSON)
        await fake.settle()
    await say(f"/report {TYPED}", group=True)
    await say(f"/setup GB {TYPED}", group=True)  # refused: not a moderator
    for typed in (
        "/setup GB fr",
        f"/setup region:{OPTION}",
        "/pin_advice report",
        "/unpin_advice report",
        "/pin_advice about",
    ):
        await say(typed, TG_ADMIN, group=True)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core, "handle", broken)
        await say(f"/report {TYPED}")
    texts = [body["text"] for body in fake.sent("sendMessage")]
    assert any(OPTION in text for text in texts), "the sentinels reached the bot"
    assert fake.sent("pinChatMessage"), "the session pinned advice"
    assert texts[-1] == core.text("en", "error_apology")


async def discord_session(fake: FakeDiscord, core: Core) -> None:
    """Everything a person and a moderator can do on Discord, with sentinels everywhere."""
    me = {"person": DC_PERSON, "nick": DC_NICK}
    moderator = VIEW_CHANNEL | MANAGE_GUILD | PIN_MESSAGES
    answers = [
        await fake.interact("report", {"region": OPTION, "age": "adult"}, **me),
        await fake.interact("help-threatened", {"region": "GB"}, guild_id=None, person=DC_PERSON),
        await fake.interact("setup", {"region": OPTION}, **me),  # refused: not a moderator
        await fake.interact(
            "setup", {"region": "GB", "language": "fr"}, permissions=moderator, **me
        ),
        await fake.interact("setup", {"language": OPTION}, permissions=moderator, **me),
    ]
    for name, topic in (
        ("pin-advice", "report"),
        ("unpin-advice", "report"),
        ("pin-advice", "about"),
    ):
        await fake.interact_deferred(name, {"topic": topic}, permissions=moderator, **me)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core, "handle", broken)
        answers.append(await fake.interact("about", **me))
    assert any(OPTION in str(body) for body in answers), "the sentinels reached the bot"
    assert fake.find("PUT", contains="/pins/"), "the session pinned advice"
    logins = fake.find("GET")
    assert logins
    assert all(r.authorization == f"Bot {DISCORD_TOKEN}" for r in logins)


def leaks(text: str) -> list[str]:
    """The sentinels found in ``text``."""
    lowered = text.lower()
    return [s for s in SENTINELS if s.lower() in lowered]


def files_leaks(folder: Path) -> dict[str, list[str]]:
    """Every file under ``folder``, with the sentinels it holds."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        text = data.decode("utf-8", "replace")
        found[path.name] = leaks(text) + [repr(b) for b in BINARY_IDS if b in data]
    return found


def record_text(record: logging.LogRecord, handler: logging.Handler) -> str:
    """All a handler could take from a record: its message, raw fields and formatted form."""
    parts = [record.getMessage(), repr(vars(record)), handler.format(record)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def both_tokens(folder: Path, telegram: FakeTelegram) -> Config:
    """``safety-bot run``'s config with both sentinel tokens, the database in ``folder``, and
    no cooldown in the way."""
    return default_config(
        database=folder / "bot.sqlite3",
        cooldown_commands=1000,
        cooldown_seconds=1,
        telegram=TelegramConfig(token=TELEGRAM_TOKEN, base_url=telegram.base_url),
        discord=DiscordConfig(token=DISCORD_TOKEN),
    )


async def test_no_sentinel_in_logs_database_or_files(
    tmp_path: Path,
    debug_logging: tuple[Capture, io.StringIO],
    telegram: FakeTelegram,
    discord: FakeDiscord,
) -> None:
    capture, stderr = debug_logging
    data = tmp_path / "data"
    data.mkdir()
    config = both_tokens(data, telegram)
    async with running_core(config) as core, serving(core) as server:
        async with (
            telegram_running(core, telegram),
            discord_running(DiscordBot(core, guild_ready_timeout=0.05), DISCORD_TOKEN) as bot,
        ):
            await telegram_session(telegram, core)
            await discord_session(discord, core)
            # Every command finished (its logging done) and every pinned post refreshed.
            commands = discord.dispatched["INTERACTION_CREATE"]
            await asyncio.wait_for(bot.wait_finished("command", commands), 5)
            await telegram.settle()
            served = {path: await get(server, path) for path in ("/metrics", "/readyz", "/healthz")}
        assert await core.store.pins(), "the database holds what the session saved"  # type: ignore[union-attr]
        while_open = files_leaks(tmp_path)
    closed = files_leaks(tmp_path)
    assert served["/readyz"] == (200, "ready\n")
    metrics = served["/metrics"][1]
    for platform in ("telegram", "discord"):
        answered = [s for s in samples(metrics) if s.labels.get("platform") == platform]
        assert sum(s.value for s in answered if s.name == "safety_bot_answers_total") >= 5
    assert value(metrics, "safety_bot_refusals_total", reason="invalid_option") >= 2
    assert {path: hits for path, (_, body) in served.items() if (hits := leaks(body))} == {}
    assert outside_closed_sets(metrics, core) == []
    print(f"\nfiles checked: {sorted(while_open)} while open, {sorted(closed)} after")
    assert "bot.sqlite3" in while_open
    for files in (while_open, closed):
        assert {name: hits for name, hits in files.items() if hits} == {}

    records = capture.records
    loggers = {record.name.split(".")[0] for record in records}
    assert {"httpx", "httpcore", "telegram", "discord", "aiosqlite", "bots"} <= loggers, loggers
    print(f"\n{len(records)} log records from {len(loggers)} logger families checked")
    dirty = {}
    for record in records:
        found = leaks(record_text(record, capture))
        if found:
            dirty[f"{record.name}:{record.levelname}:{record.msg!r}"] = found
    assert dirty == {}
    output = stderr.getvalue()
    assert output.count("\n") >= len(records)
    assert leaks(output) == []
    assert REDACTED in output, "the token was in a request URL and was redacted"


async def hostile_round(fake: FakeTelegram, discord: FakeDiscord, words: list[str]) -> None:
    """Each word typed as a command, an option, free text and button data on Telegram, and as
    option values on Discord."""
    for word in words:
        for typed in (f"/{word}", f"/report region:{word} {word}", f"{word} {word}"):
            await fake.command(typed, chat=private(TG_PERSON), sender=TG_PERSON)
        for data in (f"n:{word}:{word}:-:{word}", f"n:report:GB:{word}:{word}"):
            message = {"message_id": 1, "chat": private(TG_PERSON), "date": 0}
            await fake.press(data, message, TG_PERSON)
        await discord.interact("report", {"region": word, "age": word}, person=DC_PERSON)
        await discord.interact("setup", {"region": word}, person=DC_PERSON)
    await fake.settle()


def series(text: str) -> set[str]:
    """The series (a name and its labels) of a ``/metrics`` body."""
    return {f"{s.name}{sorted(s.labels.items())}" for s in samples(text)}


async def test_hostile_input_creates_no_series(
    tmp_path: Path, telegram: FakeTelegram, discord: FakeDiscord
) -> None:
    async with (
        running_core(both_tokens(tmp_path, telegram)) as core,
        serving(core) as server,
        telegram_running(core, telegram),
        discord_running(DiscordBot(core, guild_ready_timeout=0.05), DISCORD_TOKEN) as bot,
    ):

        async def scrape() -> str:
            commands = discord.dispatched["INTERACTION_CREATE"]
            await asyncio.wait_for(bot.wait_finished("command", commands), 5)
            return (await get(server, "/metrics"))[1]

        await hostile_round(telegram, discord, [f"{TYPED}{n}" for n in range(3)])
        first = await scrape()
        await hostile_round(telegram, discord, [f"{OPTION}{n}" for n in range(3, 30)])
        after = await scrape()
    assert value(after, "safety_bot_refusals_total", reason="unknown_command") == 30
    print(f"\n{len(series(after))} series after 30 rounds of hostile input")
    assert series(after) == series(first), "27 more rounds of new words made no new series"
    assert outside_closed_sets(after, core) == []
    assert leaks(after) == []
