from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.utils.i18n import I18n

from bot.i18n.format import rtl_safe


class RightToLeftLines(BaseRequestMiddleware):
    """Every text and caption leaving the bot in Persian gets RLM on its left-to-right lines,
    in one place rather than in every handler."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        language = self.i18n.current_locale
        if language == "fa":
            fields: dict[str, Any] = {}
            for name in ("text", "caption"):
                value = getattr(method, name, None)
                if isinstance(value, str):
                    fields[name] = rtl_safe(value, language)
            for name, value in fields.items():
                setattr(method, name, value)
        return await make_request(bot, method)
