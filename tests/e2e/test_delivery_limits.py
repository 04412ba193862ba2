"""Telegram's limits on the way out: a message too long for one arrives whole in parts, a chat
that only ever answers "wait" is given up on, and an error naming the bot's token is stored
without it."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

from aiogram.types import BufferedInputFile, InputMediaPhoto
from sqlalchemy import String, Text, select

from bot import clock
from bot.checkins.questions import ANSWER_MAX, Question
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.models import Delivery, DeliveryStatus
from bot.delivery.outbox import Outgoing
from bot.delivery.split import MORE
from bot.models import Base
from bot.reports.export import Dataset, export
from bot.sandbox.formatting import render
from tests.conftest import TOKEN
from tests.e2e.crowd import seed_residents, wait_until_delivered
from tests.e2e.harness import BotProcess, Person, inbox_has, plain
from tests.e2e.test_delivery import NEWS, broadcast
from tests.e2e.timeline import (
    TimeMachine,
    after_closing,
    eventually,
    group_with_checkin,
    round_asked,
)


def words(text: str) -> str:
    """The words as a reader sees them: the direction marks the bot adds are invisible."""
    return " ".join(text.replace("\u200e", "").replace("\u200f", "").split())


def shown(html: str) -> str:
    return render(html, "HTML", None).plain


ASKED = tuple(
    Question({"fa": f"گزارش بخش {n} چیست؟", "en": f"What is the report of part {n}?"})
    for n in (1, 2, 3)
)


def long_answer(who: str, question: int) -> str:
    """Near the longest answer a check-in takes (2,000 characters), marked to be found."""
    return f"[{who}{question}] " + "درختان پارک محله را آب دادیم و کاشتیم " * 51 + f"[{who}.]"


async def answer_at_length(someone: Person, who: str) -> list[str]:
    answers = [long_answer(who, n) for n in (1, 2, 3)]
    assert all(1900 < len(answer) <= ANSWER_MAX for answer in answers)
    for answer in answers:
        reply = await someone.send(answer)
    assert "saved" in reply.text or "ذخیره شد" in reply.text
    return answers


def received_in_order(messages: list[dict], questions: list[list[str]], copies: int = 1) -> None:
    """Every answer arrives whole, each question's after the previous question's, in every
    copy (Persian, then English, in a group chat)."""
    read = words("\n".join(plain(message) for message in messages))
    at = 0
    for _ in range(copies):
        for answers in questions:
            found = [read.find(words(answer), at) for answer in answers]
            assert -1 not in found, "an answer did not arrive whole, or out of order"
            at = max(found)


async def test_a_check_in_summary_too_long_for_one_message_arrives_whole_in_parts(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    sara = await resident("Sara", "en", "English")
    chat = await client.create_chat("کارگروه سبز", "supergroup")
    await client.set_bot_status(chat["id"], by_user_id=reza.user_id, status="administrator")
    due = await group_with_checkin(sessions, [maryam, sara], chat_id=chat["id"], questions=ASKED)
    machine = TimeMachine()
    await round_asked(machine, due, sara, "question 1 of 3")
    await eventually(lambda: inbox_has(maryam, "پرسش ۱ از ۳"))
    by_maryam = await answer_at_length(maryam, "M")
    by_sara = await answer_at_length(sara, "S")

    machine.travel_to(after_closing(due))
    await eventually(lambda: inbox_has(reza, "[S.]"))
    assert set(await wait_until_delivered(sessions)) == {"sent"}  # no part failed

    posted = await client.messages(chat["id"], sender="bot")
    title = next(n for n, message in enumerate(posted) if "پیگیری دوره‌ای" in plain(message))
    posted = posted[title:]  # after the bot's greeting
    both = sum(len(plain(message)) for message in posted)
    assert both > 5 * 4096 and len(posted) >= 6  # Persian, then English, in parts
    questions = [list(pair) for pair in zip(by_maryam, by_sara, strict=True)]
    received_in_order(posted, questions, copies=2)
    assert (await client.stats())["violations"]["group"] == 0  # parts paced like messages
    for_staff = [m for m in await reza.inbox() if "پیگیری دوره‌ای" in plain(m) or "[M" in plain(m)]
    assert len(for_staff) >= 2
    received_in_order(for_staff, questions)


async def test_a_direct_reply_too_long_for_one_message_arrives_in_parts(
    resident, bot: BotProcess, sessions
) -> None:
    maryam = await resident("مریم")
    due = await group_with_checkin(sessions, [maryam], questions=ASKED)
    machine = TimeMachine()
    await round_asked(machine, due, maryam, "پرسش ۱ از ۳")
    answers = await answer_at_length(maryam, "M")

    reply = await maryam.send("/mycheckins")
    assert len(reply.messages) >= 2
    received_in_order(reply.messages, [[answer] for answer in answers])


async def test_a_chat_that_only_ever_answers_429_is_given_up_with_a_reason(
    bot: BotProcess, client, sessions
) -> None:
    assert bot.app is not None
    bot.app.sender.max_rate_limited = 3  # 20 in production: a test need not wait that long
    residents = await seed_residents(sessions, client, 6)
    flooded = residents[0]
    await client.add_fault("429", method="sendMessage", chat_id=flooded.telegram_id)
    await broadcast(sessions, residents, "news:flood")

    assert await wait_until_delivered(sessions, "news:flood", within_s=30) == {
        "sent": 5,
        "failed": 1,
    }
    async with sessions() as session:
        row = await session.scalar(select(Delivery).where(Delivery.status == DeliveryStatus.FAILED))
    assert row is not None and row.chat_id == flooded.telegram_id
    assert row.last_error is not None and "rate limited 3 times" in row.last_error
    received = {action["chat_id"] for action in await client.sent()}
    assert received == {r.telegram_id for r in residents[1:]}


async def test_an_error_naming_the_token_is_stored_and_exported_without_it(
    bot: BotProcess, client, sessions
) -> None:
    residents = await seed_residents(sessions, client, 2)
    looping = residents[0]
    await client.add_fault("redirect", method="sendMessage", chat_id=looping.telegram_id)
    async with transaction(sessions) as session:
        await outbox.enqueue(session, [Outgoing("loop:1", looping.telegram_id, NEWS)])
    machine = TimeMachine()

    async def failed_at_last() -> bool:
        machine.travel_to(clock.now() + timedelta(minutes=2))  # past each retry's wait
        async with sessions() as session:
            return await session.scalar(select(Delivery.status)) == DeliveryStatus.FAILED

    await eventually(failed_at_last, within_s=30)
    async with sessions() as session:
        error = await session.scalar(select(Delivery.last_error))
        assert error is not None and "TooManyRedirects" in error and "<token>" in error
        secret = TOKEN.split(":")[1]
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String | Text):
                    found = await session.scalar(
                        select(column).where(column.contains(secret)).limit(1)
                    )
                    assert found is None, f"{table.name}.{column.name} holds the token"
        stream = io.BytesIO()
        assert await export(session, Dataset.DELIVERIES, "csv", "en", stream) == 1
        assert "TooManyRedirects" in stream.getvalue().decode()
        assert secret not in stream.getvalue().decode()
        stream = io.BytesIO()
        await export(session, Dataset.DELIVERIES, "xlsx", "en", stream)
        with zipfile.ZipFile(stream) as workbook:
            assert not any(secret.encode() in workbook.read(name) for name in workbook.namelist())


async def test_an_edit_too_long_is_shortened_and_a_long_caption_continues_below(
    resident, bot: BotProcess, client
) -> None:
    maryam = await resident("مریم")
    assert bot.app is not None
    replies = bot.app.bot  # the bot handlers answer with
    long = "\n".join(f"<b>بند {n}</b> " + "متن بلند گزارش " * 15 for n in range(60))
    sent = await replies.send_message(maryam.user_id, "در حال آماده شدن…")
    await replies.edit_message_text(long, chat_id=maryam.user_id, message_id=sent.message_id)
    edited = (await client.messages(maryam.user_id, sender="bot"))[-1]
    assert edited["edited"] and plain(edited).endswith(MORE)
    assert plain(edited).startswith("بند 0") and len(plain(edited)) > 3800  # whole lines

    report = BufferedInputFile(b"a,b\n", filename="report.csv")
    document = await replies.send_document(maryam.user_id, report, caption=long)
    assert document.document is not None  # the caller gets the file's message
    after = [
        m
        for m in await client.messages(maryam.user_id, sender="bot")
        if m["message_id"] >= document.message_id
    ]
    assert after[0]["document"] and 0 < len(plain(after[0])) <= 1024  # the caption
    assert len(after) > 4  # and the rest, in messages below it
    assert words("\n".join(plain(m) for m in after)) == words(shown(long))

    charts = [
        InputMediaPhoto(
            media=BufferedInputFile(b"\x89PNG\r\n\x1a\n", filename=f"{n}.png"),
            caption=None if n else long,
        )
        for n in range(2)
    ]
    album = await replies.send_media_group(maryam.user_id, charts)
    assert [m.media_group_id is not None for m in album] == [True, True]
    after = [
        m
        for m in await client.messages(maryam.user_id, sender="bot")
        if m["message_id"] >= album[0].message_id
    ]
    assert after[0]["photo"] and 0 < len(plain(after[0])) <= 1024  # the album's caption
    assert after[1]["photo"] and not plain(after[1]) and len(after) > 4
    assert words("\n".join(plain(m) for m in after)) == words(shown(long))
