"""Editing a message to what it already shows is never an error."""

from __future__ import annotations

from typing import cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    Response,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

EDITS = (EditMessageText, EditMessageReplyMarkup, EditMessageCaption)
NOT_MODIFIED = "message is not modified"


class SameEditIsDone(BaseRequestMiddleware):
    """Telegram refuses an edit that changes nothing («message is not modified»): a double tap,
    a press replayed on a message whose buttons are already gone. The message then shows what
    the handler wanted, so the edit counts as done and the handler goes on to confirm."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            if not isinstance(method, EDITS) or NOT_MODIFIED not in error.message:
                raise
            # What the session hands back is the method's result (aiogram annotates it as a
            # Response); True is what Telegram itself answers to an edit it has nothing to return.
            return cast(Response[TelegramType], True)
