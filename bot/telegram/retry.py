from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)


class RetryTransientErrors(BaseRequestMiddleware):
    """A direct reply that meets Telegram's flood limit (429), a server error (5xx) or a network
    timeout is tried again a few times, waiting as Telegram asks, before the update fails."""

    def __init__(self, attempts: int = 3, longest_wait: float = 10.0, backoff: float = 0.5):
        self.attempts = attempts
        self.longest_wait = longest_wait
        self.backoff = backoff

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        attempt = 1
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt >= self.attempts or error.retry_after > self.longest_wait:
                    raise
                wait = float(error.retry_after)
            except (TelegramServerError, TelegramNetworkError):
                if attempt >= self.attempts:
                    raise
                wait = self.backoff * 2 ** (attempt - 1)
            log.info(
                "%s failed (attempt %d), retrying in %.1f s", method.__api_method__, attempt, wait
            )
            await asyncio.sleep(wait)
            attempt += 1
