"""Logging set-up that can never print a token.

Libraries log request URLs (httpx logs Telegram's, which contain the token), so redaction
happens on the final formatted text of every record, tracebacks included.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

REDACTED = "[redacted]"


class RedactingFormatter(logging.Formatter):
    """A formatter that replaces every secret in the formatted record."""

    def __init__(self, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt)
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then redact."""
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def setup_logging(level: str, secrets: Iterable[str], *, debug: bool = False) -> None:
    """Log to stderr at ``level`` (DEBUG with ``debug``), with every secret redacted."""
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
        # httpx logs every request URL at INFO; Telegram's contain the token, and the rest
        # is noise for an operator.
        logging.getLogger("httpx").setLevel(logging.WARNING)
