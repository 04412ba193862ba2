"""Telegram's bad days on demand, and sending limits measured or enforced."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile

from bot.sandbox import SandboxClient, SandboxError

BotFactory = Callable[..., Bot]
MARYAM, REZA = 1001, 1002


@pytest.fixture
async def residents(client: SandboxClient) -> list[int]:
    """Two residents who have started the bot."""
    for user_id in (MARYAM, REZA):
        await client.send_message(user_id, "/start", wait=False)
    return [MARYAM, REZA]


async def test_429_surfaces_as_retry_after_and_skips_the_call(
    bot: Bot, client: SandboxClient, residents: list[int]
) -> None:
    await client.add_fault("429", method="sendMessage", times=1, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(MARYAM, "news")
    assert caught.value.retry_after == 3
    await bot.send_message(MARYAM, "news")
    assert [m["plain_text"] for m in await client.messages(MARYAM, sender="bot")] == ["news"]
    failed, succeeded = await client.actions()
    assert failed["error"] == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert succeeded["ok"] and len(await client.sent()) == 1
    assert (await client.stats())["errors"] == {"429": 1}


async def test_5xx_and_403_faults(bot: Bot, client: SandboxClient, residents: list[int]) -> None:
    await client.add_fault("5xx", status=502, times=1)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(MARYAM, "x")
    await client.add_fault("403", chat_id=REZA)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(REZA, "x")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(REZA, "again: until cleared")
    await bot.send_message(MARYAM, "other chats are fine")
    await client.clear_faults()
    await bot.send_message(REZA, "cleared")


async def test_faults_without_a_method_spare_get_updates(
    bot: Bot, client: SandboxClient, residents: list[int]
) -> None:
    await client.add_fault("5xx", status=500)
    assert len(await bot.get_updates()) == 2
    with pytest.raises(TelegramServerError):
        await bot.get_me()


async def test_slow_answers_still_succeed(
    bot: Bot, client: SandboxClient, residents: list[int]
) -> None:
    await client.add_fault("slow", method="sendMessage", delay=0.3, times=1)
    began = time.monotonic()
    await bot.send_message(MARYAM, "eventually")
    assert time.monotonic() - began >= 0.3


async def test_timeouts_are_never_performed(
    make_bot: BotFactory, client: SandboxClient, residents: list[int]
) -> None:
    impatient = make_bot(timeout=0.3)
    await client.add_fault("timeout", method="sendMessage", delay=5, times=1)
    with pytest.raises(TelegramNetworkError, match="Request timeout"):
        await impatient.send_message(MARYAM, "lost")
    await impatient.send_message(MARYAM, "retried")
    assert [m["plain_text"] for m in await client.messages(MARYAM, sender="bot")] == ["retried"]


async def test_bad_fault_specs_are_refused(client: SandboxClient) -> None:
    with pytest.raises(SandboxError, match="fault kind must be one of"):
        await client.add_fault("flood")


async def test_violations_are_counted_but_not_enforced_by_default(
    bot: Bot, client: SandboxClient, residents: list[int]
) -> None:
    for n in range(3):  # chat_per_s 1 + chat_burst 1 allows two in a second
        await bot.send_message(MARYAM, f"burst {n}")
    group = await client.create_chat("Neighbours")
    await client.set_bot_status(group["id"], MARYAM, "member", wait=False)
    await client.set_limits(group_per_min=2, global_per_s=5)
    for n in range(3):
        await bot.send_message(group["id"], f"announcement {n}")
    stats = await client.stats()
    assert stats["violations"] == {"global": 1, "chat": 1, "group": 1}
    assert stats["sent"] == 6 and stats["calls"]["sendMessage"] == 6


async def test_enforced_limits_answer_429_with_time_to_wait(
    bot: Bot, client: SandboxClient, residents: list[int]
) -> None:
    limits = await client.set_limits(enforce=True, chat_burst=0)
    assert limits["enforce"] is True and limits["chat_per_s"] == 1
    await bot.send_message(MARYAM, "one")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(MARYAM, "two")
    assert caught.value.retry_after == 1
    await bot.send_message(REZA, "another chat is fine")
    await bot.edit_message_text("edits are not counted", chat_id=MARYAM, message_id=2)
    assert (await client.stats())["violations"]["chat"] == 1
    assert len(await client.messages(MARYAM, sender="bot")) == 1


async def test_a_redirect_loop_fails_with_an_error_that_names_the_url(
    bot: Bot, client: SandboxClient, residents: list[int]
) -> None:
    await client.add_fault("redirect", method="sendMessage", chat_id=MARYAM)
    with pytest.raises(TelegramNetworkError, match="TooManyRedirects") as caught:
        await bot.send_message(MARYAM, "lost in a loop")
    assert bot.token in str(caught.value)  # what a careless bot would store or log
    await bot.send_message(REZA, "other chats are fine")
    assert await client.messages(MARYAM, sender="bot") == []


async def test_texts_and_captions_are_measured_after_parsing_as_telegram_measures_them(
    bot: Bot, residents: list[int]
) -> None:
    fits = "<b>" + "&lt;" * 4096 + "</b>"  # 16,391 characters of HTML, 4,096 shown
    sent = await bot.send_message(MARYAM, fits)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(MARYAM, fits + "x")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.edit_message_text("ی" * 4097, chat_id=MARYAM, message_id=sent.message_id)
    photo = BufferedInputFile(b"\x89PNG\r\n\x1a\n", filename="p.png")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_photo(MARYAM, photo, caption="ی" * 1025)
    document = BufferedInputFile(b"a,b\n", filename="d.csv")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_document(MARYAM, document, caption="<i>" + "&amp;" * 1025 + "</i>")
    await bot.send_document(MARYAM, document, caption="<i>" + "&amp;" * 1024 + "</i>")
