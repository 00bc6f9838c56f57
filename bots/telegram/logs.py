"""python-telegram-bot's logs kept free of what people write: no message text, no user id."""

from __future__ import annotations

import logging
from collections.abc import Mapping

LIBRARY_LOGGERS = (
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.ext.Updater",
    "telegram.ext.Application",
    "telegram.request.BaseRequest",
)
"""python-telegram-bot loggers that can print raw updates (message text, user ids)."""


class _WithholdData(logging.Filter):
    """Keeps update contents out of python-telegram-bot's logs.

    Debug records there carry whole requests and updates; they are dropped. Other records keep
    their message, with any structured argument (an update, a request body) withheld.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG:
            return False
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg if isinstance(arg, int | float | BaseException) else "[withheld]"
                for arg in record.args
            )
        elif isinstance(record.args, Mapping):
            record.args = ()
        return True


_FILTER = _WithholdData()


def quiet_library_logs() -> None:
    """Attach the filter that keeps message text and user ids out of the library's logs."""
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
