"""An edit to what a message already shows is done, not an error; other refusals stay errors."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from bot.sandbox import SandboxClient
from bot.telegram.edits import SameEditIsDone
from tests.sandbox.test_emulator import MARYAM, keyboard


async def test_editing_text_markup_or_caption_to_the_same_is_done(
    bot: Bot, client: SandboxClient
) -> None:
    await client.add_user(MARYAM, "Maryam", language_code="fa")
    await client.send_message(MARYAM, "/start", wait=False)
    bot.session.middleware(SameEditIsDone())
    sent = await bot.send_message(MARYAM, "Question 1", reply_markup=keyboard("A"))
    for _twice in range(2):
        await bot.edit_message_text(
            text="Question 1 ✓ A", chat_id=MARYAM, message_id=sent.message_id
        )
        await bot.edit_message_reply_markup(chat_id=MARYAM, message_id=sent.message_id)
    photo = await bot.send_photo(
        MARYAM, BufferedInputFile(b"\x89PNG\r\n\x1a\n", "chart.png"), caption="Chart"
    )
    for _twice in range(2):
        await bot.edit_message_caption(
            caption="Chart ✓", chat_id=MARYAM, message_id=photo.message_id
        )
    assert (await client.messages(MARYAM, sender="bot"))[-2]["plain_text"] == "Question 1 ✓ A"

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=MARYAM, message_id=999)
