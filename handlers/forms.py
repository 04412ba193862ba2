"""What the staff's step-by-step forms share: their inline keyboards and their replies."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.locale import number


def keyboard(rows: Iterable[Iterable[tuple[str, CallbackData | str]]]) -> InlineKeyboardMarkup:
    """Rows of (label, callback data); an empty row is left out."""
    built = [
        [
            InlineKeyboardButton(
                text=text, callback_data=data if isinstance(data, str) else data.pack()
            )
            for text, data in row
        ]
        for row in rows
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row for row in built if row])


async def too_long(message: Message, limit: int) -> None:
    await message.answer(
        _("Please write it in up to {limit} characters.").format(limit=number(limit))
    )


async def show_answer(message: Message, answer: str) -> None:
    """A question answered with a button keeps its text and shows the answer under it
    (`answer`, HTML: «✓ …», «⏭ …») in place of its buttons, so the chat reads as what was asked
    and answered."""
    if message.html_text.endswith(answer):  # pressed twice
        await message.edit_reply_markup(reply_markup=None)
        return
    await message.edit_text(f"{message.html_text}\n\n{answer}", reply_markup=None)
