"""Quick polls: posted as native Telegram polls, answered by several people, closed on time
(once, also across a restart)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot import clock
from bot.db import transaction
from bot.groups.models import Group, GroupKind
from bot.polls.models import PollVote, QuickPoll
from tests.e2e.crowd import wait_until_delivered
from tests.e2e.harness import BotProcess
from tests.e2e.timeline import TimeMachine, eventually

QUESTION = "جلسهٔ بعد کی باشد؟"


async def write_poll(reza) -> None:
    await reza.send("/poll")
    await reza.send(QUESTION)
    await reza.send("When shall we meet?")
    reply = await reza.send("شنبه")
    assert "دو تا ده گزینه" in reply.text
    await reza.send("شنبه / Saturday\nیکشنبه / Sunday")
    await reza.press("فقط یک گزینه")


async def poll_messages(client, chat_id: int) -> list[dict]:
    return [m for m in await client.messages(chat_id, sender="bot") if m.get("poll")]


async def test_a_poll_in_the_group_chats_answered_and_closed_on_time(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    neda = await resident("ندا")
    chat = await client.create_chat("کارگروه سبز", "supergroup")
    await client.set_bot_status(chat["id"], by_user_id=reza.user_id, status="administrator")
    stranger = 7777  # in the group chat, never started the bot
    await client.add_user(id=stranger, first_name="Kaveh", language_code="fa", started=False)
    async with transaction(sessions) as session:
        session.add(
            Group(kind=GroupKind.WORKING_GROUP, name_fa="سبز", name_en="Green", chat_id=chat["id"])
        )
    await write_poll(reza)
    await reza.press("💬 گروه‌های تلگرامی متصل")
    reply = await reza.press("تا یک روز دیگر")
    assert "به ۱ گفتگو" in reply.text

    async def posted() -> bool:
        return bool(await poll_messages(client, chat["id"]))

    await eventually(posted)
    # Recorded too: a vote faster than the outbox records its poll finds no poll of ours.
    await wait_until_delivered(sessions)
    poll = (await poll_messages(client, chat["id"]))[0]["poll"]
    assert poll["question"] == f"{QUESTION} / When shall we meet?"
    assert [o["text"] for o in poll["options"]] == ["شنبه / Saturday", "یکشنبه / Sunday"]
    assert poll["is_anonymous"] is False
    for user, options in (
        (maryam.user_id, [0]),
        (neda.user_id, [1]),
        (stranger, [1]),
        (maryam.user_id, [1]),  # she changes her mind
        (neda.user_id, []),  # and Neda takes hers back
    ):
        await client.answer_poll(user, poll["id"], options)
    async with sessions() as session:
        votes = {v.voter_telegram_id: v for v in await session.scalars(select(PollVote))}
    assert set(votes) == {maryam.user_id, stranger}
    assert votes[maryam.user_id].options == [1] and votes[maryam.user_id].person_id is not None
    assert votes[stranger].person_id is None

    reply = await reza.send("/polls")
    assert "۲ نفر رأی داده‌اند" in reply.text and "• یکشنبه: ۲ (۱۰۰٪) — مریم" in reply.text

    machine = TimeMachine()
    machine.travel_to(clock.now() + timedelta(days=1, minutes=1))

    async def stopped() -> bool:
        return (await client.stats())["calls"].get("stopPoll", 0) == 1

    await eventually(stopped)
    assert (await poll_messages(client, chat["id"]))[0]["poll"]["is_closed"]
    await bot.restart()
    await asyncio.sleep(1.5)
    assert (await client.stats())["calls"].get("stopPoll", 0) == 1
    async with sessions() as session:
        assert len((await session.scalars(select(PollVote))).all()) == 2
        closed = await session.scalar(select(QuickPoll))
    assert closed is not None and closed.status == "closed"


async def test_a_private_poll_reaches_each_person_in_their_language(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    sara = await resident("Sara", "en", "English")
    await write_poll(reza)
    await reza.press("👤 خصوصی، برای کسانی که انتخاب می‌کنم…")
    await reza.press("ساکنان")
    reply = await reza.press("تا یک ساعت دیگر")
    assert "به ۲ گفتگو" in reply.text  # not Reza: staff are not among the residents

    async def received(someone, question: str) -> bool:
        return any((m.get("poll") or {}).get("question") == question for m in await someone.inbox())

    await eventually(lambda: received(maryam, QUESTION))
    await eventually(lambda: received(sara, "When shall we meet?"))
    await wait_until_delivered(sessions)  # recorded too, as above
    await maryam.vote(QUESTION, "یکشنبه")
    await sara.vote("When shall we meet?", "Saturday")

    machine = TimeMachine()
    await bot.stop()
    machine.travel_to(clock.now() + timedelta(hours=2))  # it closed while the bot was down
    await bot.start()

    async def every_copy_stopped() -> bool:
        return (await client.stats())["calls"].get("stopPoll", 0) == 2

    await eventually(every_copy_stopped)
    await bot.restart()
    await asyncio.sleep(1.5)
    assert (await client.stats())["calls"].get("stopPoll", 0) == 2
    reply = await reza.send("/polls")
    assert "۲ نفر رأی دادند؛ رأی‌گیری تمام شده است" in reply.text
    closed = [m["poll"]["is_closed"] for m in await sara.inbox() if m.get("poll")]
    assert closed == [True]
