"""Telegram delivers an update again when a webhook answered slowly or failed, and a polling
bot that stopped before confirming gets it again: every update counts once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.announcements.models import Announcement
from bot.surveys.models import SurveyAnswer
from tests.e2e.crowd import per_chat, seed_residents, wait_until_announced
from tests.e2e.harness import BotProcess, plain
from tests.e2e.test_database_away import answering

pytestmark = pytest.mark.parametrize("transport", ["polling", "webhook"], indirect=True)


async def count(sessions, entity) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(entity)) or 0)


async def test_a_send_pressed_once_but_delivered_twice_sends_once(
    staff, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    residents = await seed_residents(sessions, client, 5)
    await reza.send("/announce")
    await reza.send("جلسهٔ محله پنجشنبه است")
    await reza.send("The neighbourhood meets on Thursday")
    await reza.press("بدون پیوست")
    await reza.press("همه")
    data, message_id = await reza.button_data("✅ ارسال فوری")
    pressed = await client.callback(reza.user_id, reza.chat_id, message_id, data)
    (progress,) = [
        a["message"]["message_id"] for a in pressed["actions"] if a["method"] == "sendMessage"
    ]
    again = await client.redeliver(pressed["update_id"])
    # Nothing said to Reza a second time: meanwhile the outbox sends the news, to him too, and
    # the clock edits how far it has gone into the progress message the first press sent.
    replies = [
        action
        for action in again["actions"]
        if action["chat_id"] == reza.chat_id
        and "پنجشنبه" not in str(action["params"])
        and not (
            action["method"] == "editMessageText"
            and int(action["params"]["message_id"]) == progress
        )
    ]
    assert replies == [], [(a["method"], a["params"]) for a in replies]
    assert await count(sessions, Announcement) == 1
    assert await wait_until_announced(sessions, 1) == {"sent": 6}
    received = per_chat(
        [
            action
            for action in await client.sent()
            if "پنجشنبه" in str(action) or "Thursday" in str(action)
        ]
    )
    assert all(received[resident.telegram_id] == 1 for resident in residents)


async def test_a_survey_answer_delivered_twice_is_stored_once(
    resident, bot: BotProcess, client, sessions
) -> None:
    maryam = await answering(resident, sessions)
    answered = await client.send_message(maryam.user_id, "۱۲")
    assert any("۲ از ۳" in plain(a["message"]) for a in answered["actions"] if a.get("message"))
    again = await client.redeliver(answered["update_id"])
    assert again["actions"] == []  # no second "next question"
    async with sessions() as session:
        stored = dict(
            (await session.execute(select(SurveyAnswer.question, SurveyAnswer.value))).all()
        )
    assert stored == {"n0": '"12"'}
    asked = [plain(m) for m in await maryam.inbox() if "از ۳" in plain(m)]
    assert sum("۲ از ۳" in text for text in asked) == 1 and not any("۳ از ۳" in t for t in asked)
    reply = await maryam.send("۷")  # the person goes on where they were
    assert "۳ از ۳" in reply.text
