from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, TelegramObject
from aiogram.utils.i18n import I18n

from bot.i18n.format import rtl_safe, rtl_safe_label


class RightToLeftLines(BaseRequestMiddleware):
    """Every text, caption and button label a handler sends is laid out for its reader
    (`rtl_safe`), in one place rather than in every handler.

    It acts only while a reader's language is set (an update being handled, or a job speaking
    in one language). Without one the text is already directed for its reader: a reply a handler
    returned, which aiogram sends after the update's middlewares have exited (RightToLeftReplies
    directed it), or an outbox row, directed per reader (and per half when in both languages) by
    `bot.delivery.content.render`. Guessing the default language there put RLM before English."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if (language := self.i18n.ctx_locale.get(None)) is not None:
            right_to_left(method, language)
        return await make_request(bot, method)


class RightToLeftReplies(BaseMiddleware):
    """The same for a reply a handler returns to go back in the webhook response, which no
    request middleware sees."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        result = await handler(event, data)
        if isinstance(result, TelegramMethod):
            right_to_left(result, self.i18n.current_locale)
        return result


def right_to_left(method: TelegramMethod[Any], language: str) -> None:
    """Text, caption and button labels, each line in the reader's direction (`rtl_safe`)."""
    for name in ("text", "caption"):
        value = getattr(method, name, None)
        if isinstance(value, str):
            setattr(method, name, rtl_safe(value, language))
    markup = getattr(method, "reply_markup", None)
    if isinstance(markup, InlineKeyboardMarkup):
        # A copy: a keyboard built once may go to readers of the other language too.
        method.reply_markup = markup.model_copy(
            update={
                "inline_keyboard": [
                    [
                        button.model_copy(update={"text": rtl_safe_label(button.text, language)})
                        for button in row
                    ]
                    for row in markup.inline_keyboard
                ]
            }
        )
