"""Logging set-up that keeps the bot token out of every log line."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,}")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg = _TOKEN.sub("<token>", message)
            record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = _TOKEN.sub(
                "<token>", logging.Formatter().formatException(record.exc_info)
            )
            record.exc_info = None
        return True


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
