"""Keeping the bot token out of every log line and every stored error text: an error from
aiohttp or aiogram can name the request's URL, and the token is part of it."""

from __future__ import annotations

import logging
import re

# A bot token ("123456:ABC…"), its colon possibly percent-encoded in a URL.
_TOKEN = re.compile(r"\d{3,20}(?::|%3[Aa])[A-Za-z0-9_-]{30,}")


def redact(text: str) -> str:
    """`text` without any bot token in it. Redact before cutting a text short: a cut token
    would no longer be recognised."""
    return _TOKEN.sub("<token>", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg = redact(message)
            record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Routine chatter that would bury what matters at start: each migration step, aiogram's
    # "Start polling" (our own start-up line says the bot is up), every handled update.
    for noisy in ("alembic", "aiogram.dispatcher", "aiogram.event", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
