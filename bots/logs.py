"""Logging and output that can never print a token.

Libraries log request URLs (httpx logs Telegram's, which contain the token, and
python-telegram-bot logs its API URL), and their exceptions quote the token
(``InvalidToken: The token ... was rejected``), so every log record is cleaned as it is made:
any message, argument or traceback holding a secret is replaced by its text with the secret
redacted. Every handler sees the cleaned record, ours and any other. The formatter redacts the
final text once more, in case a library replaces the record factory, and ``safety-bot`` writes
its stdout and stderr through :class:`RedactingStream`, so a traceback, a warning or a print
cannot show one either.

A secret is removed in every form it can take in text: whole, URL-encoded, escaped as in a
``repr`` or JSON, and each long part on its own (a Telegram token's secret after the colon, a
Discord token's parts between the dots), as a split or a parsed token shows them.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
SHORTEST_SECRET = 8
"""Forms shorter than this are not redacted: no real token is (Telegram's are 45 characters
and more, Discord's 59 and more), and replacing a few letters would garble every line."""
SHORTEST_PART = 12
"""Parts of a token this long or longer are secrets on their own (Telegram's 35-character
secret, Discord's id and signature); shorter ones (a bot id, a timestamp) are not."""
_SEPARATORS = re.compile(r"[:.]")


def secret_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Every form of ``secrets`` that must not appear in text, longest first."""
    forms: set[str] = set()
    for secret in secrets:
        whole = {
            secret,
            quote(secret, safe=""),
            quote(secret),
            quote_plus(secret),
            json.dumps(secret)[1:-1],
            repr(secret)[1:-1],
        }
        parts = {p for p in _SEPARATORS.split(secret) if len(p) >= SHORTEST_PART}
        forms |= {f for f in whole if len(f) >= SHORTEST_SECRET} | parts
    return tuple(sorted(forms, key=len, reverse=True))


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
        self.secrets = secret_forms(secrets)

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
        self._secrets = secret_forms(secrets)

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


class RedactingStream(io.TextIOBase):
    """A text stream that writes to ``stream`` with every secret redacted.

    Text is passed on a line at a time (and what is left on :meth:`flush`), so a secret
    written in pieces, as ``print`` and ``traceback`` do, is still caught whole.
    """

    def __init__(self, stream: TextIO, secrets: Iterable[str]) -> None:
        super().__init__()
        self.stream = stream
        self.secrets = secret_forms(secrets)
        self._pending = ""

    def write(self, text: str) -> int:
        """Keep ``text``; pass on every complete line, redacted."""
        self._pending += text
        if "\n" in self._pending:
            lines, _, self._pending = self._pending.rpartition("\n")
            self.stream.write(_redact(lines + "\n", self.secrets))
        return len(text)

    def flush(self) -> None:
        """Pass on what is kept (a prompt without a newline), redacted, and flush."""
        if self._pending:
            self.stream.write(_redact(self._pending, self.secrets))
            self._pending = ""
        self.stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding


def redact_output(secrets: Iterable[str]) -> None:
    """Write ``sys.stdout`` and ``sys.stderr`` through :class:`RedactingStream` from now on,
    for the rest of the process (what Python prints at exit included)."""
    secrets = tuple(secrets)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, RedactingStream):
            stream.flush()
            stream = stream.stream  # set up again (tests): replace the secrets, do not nest
        setattr(sys, name, RedactingStream(stream, secrets))
