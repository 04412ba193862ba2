"""Filters every update meets on its way through the routers, as coroutines.

aiogram runs a synchronous filter (a magic `F.…` expression) in a worker thread; the routers'
own filters are checked for every update in every router, so those hops added up to most of
an update's cost. These say the same thing without leaving the event loop.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject


def _chat(event: TelegramObject) -> Chat | None:
    if isinstance(event, Message):
        return event.chat
    if isinstance(event, CallbackQuery) and event.message is not None:
        return event.message.chat
    return None


class PrivateChat(Filter):
    """A message, or a button pressed on a message, in a private chat."""

    async def __call__(self, event: TelegramObject) -> bool:
        chat = _chat(event)
        return chat is not None and chat.type == "private"


class GroupChat(Filter):
    """A message, a button or a membership change in a group or supergroup chat."""

    async def __call__(self, event: TelegramObject) -> bool:
        chat = _chat(event) or getattr(event, "chat", None)
        return chat is not None and chat.type in ("group", "supergroup")


class Typed(Filter):
    """Text a person typed that is not a command."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and not message.text.startswith("/")


class NotText(Filter):
    """A photo, a sticker, a voice note… anything but text."""

    async def __call__(self, message: Message) -> bool:
        return message.text is None


class Attachment(Filter):
    """A photo or a document."""

    async def __call__(self, message: Message) -> bool:
        return message.photo is not None or message.document is not None


class Workbook(Filter):
    """A spreadsheet sent as a document: an XLSForm survey, whatever the sender was doing."""

    async def __call__(self, message: Message) -> bool:
        name = (message.document.file_name or "").lower() if message.document else ""
        return name.endswith((".xlsx", ".xls"))
