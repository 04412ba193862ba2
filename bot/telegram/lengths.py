"""Direct replies within Telegram's length limits, split by the outbox's splitter
(bot/delivery/split.py), so that a handler never has to count."""

from __future__ import annotations

import html
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.enums import ParseMode
from aiogram.methods import (
    EditMessageCaption,
    EditMessageText,
    Response,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

from bot.delivery.split import CAPTION_LIMIT, TEXT_LIMIT, shorten_html, split_html


class FitTelegramLimits(BaseRequestMiddleware):
    """A text too long for one message goes out in several, one after the other, the keyboard
    under the last (whose answer the caller gets, e.g. to edit it later); a caption too long
    (an album's too) keeps its first part and the rest follows as messages; an edit, which
    cannot become two messages, is shortened and says so."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if isinstance(method, SendMessage) and not method.entities:
            parts = _split(bot, method.parse_mode, method.text, TEXT_LIMIT)
            if len(parts) > 1:
                return await self._send_parts(make_request, bot, method, parts)  # type: ignore[return-value]
        elif isinstance(method, EditMessageText) and not method.entities:
            method.text = _shorten(bot, method.parse_mode, method.text, TEXT_LIMIT)
        elif isinstance(method, EditMessageCaption) and method.caption:
            method.caption = _shorten(bot, method.parse_mode, method.caption, CAPTION_LIMIT)
        elif isinstance(method, SendPhoto | SendDocument) and method.caption:
            parts = _split(bot, method.parse_mode, method.caption, TEXT_LIMIT, CAPTION_LIMIT)
            method.caption, *rest = parts
            return await self._then_rest(
                make_request, bot, method, [(method.parse_mode, text) for text in rest]
            )
        elif isinstance(method, SendMediaGroup):
            media, later = [], []
            for item in method.media:
                if item.caption and not item.caption_entities:
                    parts = _split(bot, item.parse_mode, item.caption, TEXT_LIMIT, CAPTION_LIMIT)
                    item = item.model_copy(update={"caption": parts[0]})
                    later += [(item.parse_mode, text) for text in parts[1:]]
                media.append(item)
            method.media = media
            return await self._then_rest(make_request, bot, method, later)
        return await make_request(bot, method)

    @staticmethod
    async def _then_rest(
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: SendPhoto | SendDocument | SendMediaGroup,
        rest: list[tuple[str | Default | None, str]],
    ) -> Response[Any]:
        """The files, then what did not fit in their captions, as messages below them."""
        response = await make_request(bot, method)
        for parse_mode, text in rest:
            await make_request(
                bot,
                SendMessage(
                    chat_id=method.chat_id,
                    message_thread_id=method.message_thread_id,
                    text=text,
                    parse_mode=parse_mode,
                ),
            )
        return response

    @staticmethod
    async def _send_parts(
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: SendMessage,
        parts: list[str],
    ) -> Response[Any]:
        response = None
        for number, text in enumerate(parts, start=1):
            first, last = number == 1, number == len(parts)
            update: dict[str, Any] = {"text": text}
            if not first:  # only the first part answers the message it replies to
                update |= {"reply_parameters": None, "reply_to_message_id": None}
            if not last:
                update["reply_markup"] = None
            response = await make_request(bot, method.model_copy(update=update))
        assert response is not None
        return response


def _html(bot: Bot, parse_mode: str | Default | None) -> bool:
    if isinstance(parse_mode, Default):
        parse_mode = bot.default[parse_mode.name]
    return parse_mode == ParseMode.HTML


def _split(
    bot: Bot,
    parse_mode: str | Default | None,
    text: str,
    limit: int,
    first_limit: int | None = None,
) -> list[str]:
    if _html(bot, parse_mode):
        return split_html(text, limit, first_limit)
    # Plain text, escaped so that no character is taken for a tag, and given back as it was.
    escaped = split_html(html.escape(text, quote=False), limit, first_limit)
    return [html.unescape(part) for part in escaped]


def _shorten(bot: Bot, parse_mode: str | Default | None, text: str, limit: int) -> str:
    if _html(bot, parse_mode):
        return shorten_html(text, limit)
    return html.unescape(shorten_html(html.escape(text, quote=False), limit))
