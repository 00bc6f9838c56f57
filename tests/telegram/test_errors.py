"""Failures: 429 with ``retry_after``, 5xx and network errors retried, a bad update or a
failing handler never stopping the bot, and logs that never show text, user ids or the token."""

from __future__ import annotations

import logging
import time

import pytest

from shared.core import Core
from tests.telegram.fake import (
    ADMIN_ID,
    TOKEN,
    USER_ID,
    FakeTelegram,
    group_chat,
    user,
)

pytestmark = pytest.mark.usefixtures("bot")

SECRET = "MyRealNameIsJaneDoe"
"""A marker typed by the person: it must never reach a log."""


def statuses(fake: FakeTelegram, method: str) -> list[int]:
    return [c.status for c in fake.calls if c.method == method]


async def test_429_retry_after_is_honoured_and_answered_once(fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    started = time.monotonic()
    await fake.command("/report")
    await fake.wait_sent("sendMessage")
    await fake.settle()
    assert time.monotonic() - started >= 1.0
    assert statuses(fake, "sendMessage") == [429, 200]


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retried_and_answered_once(fake: FakeTelegram, status: int) -> None:
    fake.fail("sendMessage", status, "Internal Server Error", times=2)
    await fake.command("/report")
    await fake.wait_sent("sendMessage")
    await fake.settle()
    assert statuses(fake, "sendMessage") == [status, status, 200]


async def test_server_error_on_a_status_check_is_retried(fake: FakeTelegram) -> None:
    fake.fail("getChatMember", 500, "Internal Server Error")
    await fake.command("/setup GB", chat=group_chat(), sender=user(ADMIN_ID))
    await fake.wait_sent("sendMessage")
    assert statuses(fake, "getChatMember") == [500, 200]


async def test_a_lasting_outage_ends_in_an_apology_not_a_crash(fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 500, "Internal Server Error", times=4)
    await fake.command("/report")
    # The answer failed after every retry; the apology (a fifth call) gets through.
    await fake.wait_sent("sendMessage")
    await fake.command("/about")
    await fake.wait_sent("sendMessage", 2)


async def test_a_bad_request_is_not_retried(fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 400, "Bad Request: something")
    await fake.command("/report")
    await fake.wait_sent("sendMessage")  # the apology
    assert statuses(fake, "sendMessage") == [400, 200]


async def test_a_failing_handler_apologises_privately_and_logs_no_text(
    core: Core,
    fake: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: object) -> None:
        raise RuntimeError(f"boom {SECRET}")

    monkeypatch.setattr(core, "handle", broken)
    caplog.set_level(logging.DEBUG)
    await fake.command(f"/report {SECRET}")
    await fake.wait_sent("sendMessage")
    [body] = fake.sent("sendMessage")
    assert body["chat_id"] == USER_ID
    assert body["text"] == core.text("en", "error_apology")
    assert "RuntimeError" in caplog.text
    assert_clean(caplog)


async def test_a_failing_handler_in_a_group_posts_nothing(
    core: Core, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(community: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(core.communities, "get", broken)
    await fake.command("/report", chat=group_chat())
    await fake.settle()
    assert fake.sent("sendMessage") == []


async def test_an_unreadable_update_is_skipped(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await fake.inject({"message": {"message_id": "x", "chat": SECRET, "text": f"/report {SECRET}"}})
    await fake.command("/report")
    await fake.wait_sent("sendMessage")
    assert fake.sent("sendMessage")[0]["chat_id"] == USER_ID
    assert "could not be read" in caplog.text
    assert_clean(caplog)


async def test_logs_hold_no_text_ids_or_token(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await fake.command(f"/report {SECRET}")
    await fake.command(f"/help_threatened {SECRET}", chat=group_chat())
    await fake.command(f"/setup {SECRET}", chat=group_chat(), sender=user(ADMIN_ID))
    await fake.command(SECRET)
    await fake.wait_sent("sendMessage", 4)
    await fake.settle()
    assert_clean(caplog)


def assert_clean(caplog: pytest.LogCaptureFixture) -> None:
    """No log line shows what a person typed, a person's id, or the token.

    Left out: httpx and httpcore, which log request URLs (with the token; ``safety-bot``
    silences them and redacts the token from every line, see bots/logs.py), and the fake
    server's own aiohttp access log. The store's debug log shows group ids, never people's.
    """
    for record in caplog.records:
        if record.name.split(".")[0] in ("httpx", "httpcore", "aiohttp"):
            continue
        line = record.getMessage() + (str(record.exc_info) if record.exc_info else "")
        if record.exc_text:
            line += record.exc_text
        for secret in (SECRET, str(USER_ID), str(ADMIN_ID), TOKEN):
            assert secret not in line, (record.name, line)
