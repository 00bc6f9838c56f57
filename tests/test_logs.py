"""Log records are cleaned as they are made: any handler, not only ours, sees no secret."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bots.logs import REDACTED, RedactingRecordFactory, RedactingStream

SECRET = "4242:SentinelTokenQx"


@pytest.fixture
def factory() -> Iterator[None]:
    """The redacting record factory for ``SECRET``, the previous one restored after."""
    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(RedactingRecordFactory(previous, [SECRET, ""]))
    yield
    logging.setLogRecordFactory(previous)


@pytest.mark.usefixtures("factory")
def test_messages_and_arguments_lose_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tests.logs")
    with caplog.at_level(logging.DEBUG):
        log.info("GET %s -> %d", f"http://127.0.0.1/bot{SECRET}/getMe", 200)
        log.info("%(url)s", {"url": f"/bot{SECRET}/"})
        log.info(f"plain {SECRET}")
    url, mapping, plain = caplog.records
    assert url.args == (f"http://127.0.0.1/bot{REDACTED}/getMe", 200), "numbers stay numbers"
    assert mapping.getMessage() == f"/bot{REDACTED}/"
    assert plain.getMessage() == f"plain {REDACTED}"
    assert SECRET not in caplog.text


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")


@pytest.mark.usefixtures("factory")
def test_making_a_record_never_raises() -> None:
    """An argument that cannot be shown is logging's to report (when formatting), not an
    exception in the code that logs."""
    argument = Unprintable()
    make = logging.getLogRecordFactory()
    record = make("tests.logs", logging.INFO, __file__, 1, "%s", (argument,), None)
    assert record.args == (argument,)


@pytest.mark.usefixtures("factory")
def test_an_exception_holding_the_secret_is_kept_as_cleaned_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("tests.logs")
    with caplog.at_level(logging.DEBUG):
        try:
            raise ConnectionError(f"cannot reach /bot{SECRET}/getUpdates")
        except ConnectionError:
            log.exception("polling failed")
        try:
            raise ValueError("no secret here")
        except ValueError:
            log.exception("other")
    cleaned, untouched = caplog.records
    assert cleaned.exc_info is None
    assert cleaned.exc_text is not None
    assert f"/bot{REDACTED}/getUpdates" in cleaned.exc_text
    assert untouched.exc_info is not None, "tracebacks without a secret are left alone"
    assert SECRET not in caplog.text


TOKEN = "5550001234:AAE-SentinelTelegramSecret_Qx12345"


@pytest.mark.parametrize(
    "shown",
    [
        TOKEN,
        "5550001234%3AAAE-SentinelTelegramSecret_Qx12345",  # URL-encoded
        "['5550001234', 'AAE-SentinelTelegramSecret_Qx12345']",  # split, in a repr
        "secret=AAE-SentinelTelegramSecret_Qx12345",  # the secret part alone
    ],
)
def test_every_form_of_a_token_is_redacted(shown: str) -> None:
    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(RedactingRecordFactory(previous, [TOKEN]))
    try:
        record = logging.getLogger("tests.logs").makeRecord(
            "tests.logs", logging.INFO, __file__, 1, "seen: %s", (shown,), None
        )
    finally:
        logging.setLogRecordFactory(previous)
    assert "SentinelTelegramSecret" not in record.getMessage()
    assert REDACTED in record.getMessage()


def test_output_written_in_pieces_is_redacted_whole() -> None:
    """print and traceback write a line in several calls: a token cut between two of them
    is still caught; what is left without a newline (a prompt) goes out on flush."""
    target = io.StringIO()
    stream = RedactingStream(target, [TOKEN])
    stream.write("rejected: 5550001234:AAE-Sentinel")
    stream.write("TelegramSecret_Qx12345 (check TELEGRAM_TOKEN)\n> ")
    assert target.getvalue() == f"rejected: {REDACTED} (check TELEGRAM_TOKEN)\n"
    stream.flush()
    assert target.getvalue().endswith("\n> ")


def test_short_values_are_not_redacted() -> None:
    """A "token" of a few characters is no token: redacting it would garble every line."""
    target = io.StringIO()
    stream = RedactingStream(target, ["abc", ""])
    stream.write("abc\n")
    assert target.getvalue() == "abc\n"
