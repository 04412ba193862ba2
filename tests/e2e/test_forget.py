"""/forget, after a resident's full week: no table keeps anything that leads back to them (the
whole schema is scanned, so a table added later is covered too), and the figures stay."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins import service as checkins
from bot.checkins.models import CheckinRound
from bot.checkins.questions import Kind as CheckinKind
from bot.checkins.questions import Question as CheckinQuestion
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.models import Delivery
from bot.groups import service as groups
from bot.groups.models import Group
from bot.indicators import service as indicators
from bot.indicators.models import Direction, Frequency, IndicatorValue
from bot.meetings.models import MeetingInvitee
from bot.models import Base
from bot.people import service as people
from bot.surveys.form import Choice, Form, Kind, Question
from bot.surveys.models import SurveyAnswer, SurveyResponse
from tests.e2e.crowd import wait_until_announced, wait_until_delivered
from tests.e2e.harness import BotProcess, Person, buttons, plain
from tests.e2e.test_announcements import compose
from tests.e2e.test_meetings import invite, three_days_ahead
from tests.e2e.timeline import (
    TimeMachine,
    after_closing,
    eventually,
    group_with_checkin,
    survey_open_now,
)

TELEGRAM_ID = 987654321
NAME = "پروانه زرینقلم"
USERNAME = "parvaneh_zq"
CHECKIN_TEXT = "بازارچه مخفی پشت باغ گلستان"
SURVEY_TEXT = "کتابخانه سیار برای کوچه نرگس"
DENIED_TEXT = "رازی نهان از همسایه ها"
AREA = "محله نارنجستان"
TAG = "نانوای سر کوچه"

CHECKIN_QUESTIONS = (
    CheckinQuestion({"fa": "این هفته چه کردید؟", "en": "What did you do?"}),
    CheckinQuestion(
        {"fa": "چند خانوار؟", "en": "How many households?"}, CheckinKind.INDICATOR, (), 1
    ),
    CheckinQuestion(
        {"fa": "حالتان چطور است؟", "en": "How are you?"},
        CheckinKind.CHOICE,
        ({"fa": "خوب", "en": "Good"}, {"fa": "خسته", "en": "Tired"}),
    ),
)

SURVEY = Form(
    {"fa": "پرسش‌نامهٔ محله", "en": "Neighbourhood survey"},
    (
        Question(
            "side",
            Kind.SINGLE,
            {"fa": "کدام سمت محله؟", "en": "Which side?"},
            required=True,
            choices=(
                Choice("north", {"fa": "شمال", "en": "North"}),
                Choice("south", {"fa": "جنوب", "en": "South"}),
            ),
        ),
        Question(
            "age",
            Kind.NUMBER,
            {"fa": "چند سال دارید؟", "en": "How old are you?"},
            required=True,
            integer=True,
            minimum=Decimal(0),
            maximum=Decimal(120),
        ),
        Question("idea", Kind.TEXT, {"fa": "پیشنهادی دارید؟", "en": "Any idea?"}),
    ),
)


async def has(someone: Person, text: str) -> bool:
    return any(text in plain(message) for message in await someone.inbox())


def traces(value: Any) -> list[str]:
    """What in one stored value leads back to the person."""
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, int):
        return ["telegram id"] if value == TELEGRAM_ID else []
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    wanted = {
        "telegram id": str(TELEGRAM_ID),
        "name": NAME,
        "username": USERNAME,
        "check-in text": CHECKIN_TEXT,
        "survey text": SURVEY_TEXT,
        "denied text": DENIED_TEXT,
        "area": AREA,
        "tag": TAG,
    }
    return [what for what, needle in wanted.items() if needle in text]


async def everything_left(session: AsyncSession) -> list[str]:
    """Every table and column of the schema, read generically, with what leads back."""
    found = []
    for table in Base.metadata.sorted_tables:
        for row in (await session.execute(select(table))).mappings():
            for column, value in row.items():
                found += [f"{table.name}.{column}: {what}" for what in traces(value)]
    return found


def checkpoint(database_url: str) -> Path:
    """The SQLite file with its write-ahead log folded in."""
    path = Path(database_url.split(":///", 1)[1])
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return path


async def figures(session: AsyncSession) -> dict[str, Any]:
    """What the backbone's reports count, which must not change when someone leaves."""
    round_id = await session.scalar(select(CheckinRound.id))
    assert round_id is not None
    non_text = await session.execute(
        select(SurveyAnswer.question, SurveyAnswer.value).where(SurveyAnswer.question != "idea")
    )
    rsvps = await session.execute(
        select(MeetingInvitee.rsvp, func.count()).group_by(MeetingInvitee.rsvp)
    )
    return {
        "round": await checkins.participation_rate(session, round_id),
        "responses": await session.scalar(
            select(func.count()).select_from(SurveyResponse).where(SurveyResponse.finished)
        ),
        "survey answers": sorted(non_text.all()),
        "rsvps": dict(rsvps.all()),
        "indicator values": sorted((await session.scalars(select(IndicatorValue.value))).all()),
        "announcement reach": await outbox.counts(session, "announcement:1"),
    }


async def test_after_forget_no_table_holds_anything_that_leads_back_and_the_figures_stay(
    staff, resident, bot: BotProcess, client, sessions, database_url: str
) -> None:
    reza = await staff()
    neda = await resident("ندا")
    chat = await client.create_chat("کارگروه سبز", "supergroup")
    await client.set_bot_status(chat["id"], by_user_id=reza.user_id, status="administrator")
    due = await group_with_checkin(sessions, [neda], chat_id=chat["id"])
    async with transaction(sessions) as session:
        group_id = await session.scalar(select(Group.id))
        reza_id = (await people.find(session, reza.user_id)).id  # type: ignore[union-attr]
        await indicators.create(
            session,
            name={"fa": "خانوارهای همراه", "en": "Households"},
            description={},
            unit={"fa": "خانوار", "en": "households"},
            baseline=Decimal(0),
            target=Decimal(100),
            direction=Direction.UP,
            frequency=Frequency.MONTHLY,
            group_id=group_id,
            author_id=reza_id,
        )
        await checkins.edit(session, 1, reza_id, questions=CHECKIN_QUESTIONS)
        code = await groups.new_invite(session, group_id, reza_id)

    # Parvaneh joins the working group by its invite link.
    parvaneh = await Person(client, TELEGRAM_ID, NAME, "fa", username=USERNAME).join_telegram()
    await parvaneh.send(f"/start {code}")
    await parvaneh.press("فارسی")
    reply = await parvaneh.press("✅ موافقم")
    assert "عضو «کارگروه سبز» شدید" in reply.text

    # She tries a staff command, with words of her own after it.
    reply = await parvaneh.send(f"/announce {DENIED_TEXT}")
    assert "فقط در اختیار کارکنان" in reply.text
    async with transaction(sessions) as session:
        await people.describe(session, TELEGRAM_ID, AREA, (TAG,), (), reza_id)

    # She reports the group's indicator.
    await parvaneh.send("/report_value")
    reply = await parvaneh.press("خانوارهای همراه")
    await parvaneh.press(buttons(reply.messages[-1])[0])
    reply = await parvaneh.send("۴۲")
    assert "ذخیره شد" in reply.text

    # A named survey, with a written answer.
    await survey_open_now(sessions, SURVEY)
    await eventually(lambda: has(parvaneh, "پرسش‌نامهٔ محله"))
    await parvaneh.press("▶️ شروع")
    await parvaneh.press("شمال")
    await parvaneh.send("۳۴")
    reply = await parvaneh.send(SURVEY_TEXT)
    assert "پاسخ‌هایتان ذخیره شد" in reply.text

    # A meeting of her group: she will come.
    await invite(reza, three_days_ahead())
    await eventually(lambda: has(parvaneh, "جلسهٔ ماهانه"))
    reply = await parvaneh.press("✅ می‌آیم")
    assert reply.answer is not None and "ثبت شد" in reply.answer["text"]

    # An announcement to everyone.
    await compose(reza)
    await reza.press("همه")
    await reza.press("✅ ارسال فوری")
    assert (await wait_until_announced(sessions, 1))["sent"] == 3

    # The check-in round: she answers with words of her own; the summary names her.
    machine = TimeMachine()
    machine.travel_to(due + timedelta(minutes=1))
    await eventually(lambda: has(parvaneh, "پرسش ۱ از ۳"))
    await eventually(lambda: has(neda, "پرسش ۱ از ۳"))
    await parvaneh.send(CHECKIN_TEXT)
    await parvaneh.send("۱۲")
    reply = await parvaneh.press("خوب")
    assert "پاسخ‌هایتان ذخیره شد" in reply.text
    await neda.send("کاشت بیست نهال")
    await neda.send("۸")
    await neda.press("خسته")
    machine.travel_to(after_closing(due))

    async def summarised() -> bool:
        posted = [plain(m) for m in await client.messages(chat["id"], sender="bot")]
        return any(CHECKIN_TEXT in text and NAME in text for text in posted)

    await eventually(summarised)
    await wait_until_delivered(sessions)
    async with sessions() as session:
        before = await figures(session)
        assert await everything_left(session)  # the scan sees her before she leaves

    if database_url.startswith("sqlite"):
        checkpoint(database_url)  # what she gave is in the file itself, as after any checkpoint
    await parvaneh.send("/forget")
    reply = await parvaneh.press("🗑 بله، اطلاعاتم پاک شود")
    assert "اطلاعات شخصی شما پاک شد" in reply.text

    async with sessions() as session:
        left = await everything_left(session)
        assert left == [], "\n".join(left)
        assert await figures(session) == before
        chat_summary = await session.scalar(
            select(Delivery.content).where(Delivery.key == "checkin:1:summary:chat")
        )
    assert chat_summary is not None and "کاشت بیست نهال" in json.dumps(
        chat_summary, ensure_ascii=False
    )  # composed again without her, not emptied
    assert Counter(before["announcement reach"]) == Counter({"sent": 3})

    if database_url.startswith("sqlite"):  # nor do the file's free pages, which a backup copies
        await bot.stop()
        stored = checkpoint(database_url).read_bytes()
        for text in (NAME, USERNAME, CHECKIN_TEXT, SURVEY_TEXT, DENIED_TEXT, AREA, TAG):
            assert text.encode() not in stored, text
