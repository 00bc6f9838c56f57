"""Logging set-up that can never print a token.

Libraries log request URLs (httpx logs Telegram's, which contain the token, and
python-telegram-bot logs its API URL), so every log record is cleaned as it is made: any
message, argument or traceback holding a secret is replaced by its text with the secret
redacted. Every handler sees the cleaned record, ours and any other. The formatter redacts the
final text once more, in case a library replaces the record factory.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def _clean(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` itself, or its text with the secrets redacted when it holds one."""
    if value is None or isinstance(value, int | float):
        return value
    try:
        text = str(value)
    except Exception:
        return value  # logging reports it when formatting; a log call must never raise
    return _redact(text, secrets) if any(s in text for s in secrets) else value


def redact_record(record: logging.LogRecord, secrets: tuple[str, ...]) -> None:
    """Remove every secret from ``record``: its message, its arguments and its traceback.

    Values without a secret are left as they are, so filters that look at arguments (such as
    the one keeping update contents out of python-telegram-bot's logs) still can.
    """
    record.msg = _clean(record.msg, secrets)
    if isinstance(record.args, Mapping):
        record.args = {key: _clean(value, secrets) for key, value in record.args.items()}
    elif isinstance(record.args, tuple):
        record.args = tuple(_clean(arg, secrets) for arg in record.args)
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        if any(secret in text for secret in secrets):
            # The exception object itself holds the secret: keep only the cleaned text.
            record.exc_text = _redact(text, secrets)
            record.exc_info = None


class RedactingRecordFactory:
    """A log record factory that passes every record through :func:`redact_record`."""

    def __init__(self, base: Callable[..., logging.LogRecord], secrets: Iterable[str]) -> None:
        self.base = base
        self.secrets = tuple(s for s in secrets if s)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        """Make the record as usual, then clean it."""
        record = self.base(*args, **kwargs)
        if self.secrets:
            redact_record(record, self.secrets)
        return record


class RedactingFormatter(logging.Formatter):
    """A formatter that replaces every secret in the formatted record."""

    def __init__(self, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt)
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then redact."""
        return _redact(super().format(record), self._secrets)


def setup_logging(level: str, secrets: Iterable[str], *, debug: bool = False) -> None:
    """Log to stderr at ``level`` (DEBUG with ``debug``), with every secret redacted from
    every record."""
    secrets = tuple(secrets)
    factory = logging.getLogRecordFactory()
    if isinstance(factory, RedactingRecordFactory):
        factory = factory.base  # set up again (tests): replace the secrets, do not nest
    logging.setLogRecordFactory(RedactingRecordFactory(factory, secrets))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else level)
    if not debug:
        # httpx logs every request URL at INFO: noise for an operator.
        logging.getLogger("httpx").setLevel(logging.WARNING)
