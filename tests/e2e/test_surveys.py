"""Residents answer surveys on their phones; staff make them in the bot or from an XLSForm
file, and read the results. Everything through the emulator, as people would."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from bot import clock
from bot.db import transaction
from bot.groups.models import Group, GroupKind, Membership
from bot.people.audience import Audience, AudienceKind
from bot.people.models import Person as PersonRow
from bot.surveys import service as surveys
from bot.surveys.form import Choice, Form, Kind, Question
from bot.surveys.models import Survey, SurveyAnswer, SurveyParticipant, SurveyResponse
from bot.surveys.xlsform import write_xlsform
from tests.e2e.harness import BotProcess, buttons, plain
from tests.e2e.timeline import TimeMachine, eventually, job_delivered, survey_open_now

NEIGHBOURHOOD = Form(
    {"fa": "نظرسنجی محله", "en": "Neighbourhood survey"},
    (
        Question(
            "area",
            Kind.SINGLE,
            {"fa": "محلهٔ شما کجاست؟", "en": "Where do you live?"},
            required=True,
            choices=(
                Choice("north", {"fa": "شمال", "en": "North"}),
                Choice("south", {"fa": "جنوب", "en": "South"}),
            ),
        ),
        Question(
            "matters",
            Kind.MULTIPLE,
            {"fa": "چه چیزهایی برایتان مهم است؟", "en": "What matters to you?"},
            required=True,
            choices=(
                Choice("park", {"fa": "پارک", "en": "Park"}),
                Choice("school", {"fa": "مدرسه", "en": "School"}),
                Choice("safety", {"fa": "امنیت", "en": "Safety"}),
            ),
        ),
        Question(
            "content",
            Kind.SCALE,
            {"fa": "چقدر از محله راضی هستید؟", "en": "How content are you?"},
            required=True,
            minimum=Decimal(1),
            maximum=Decimal(5),
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
        Question(
            "meeting",
            Kind.YES_NO,
            {"fa": "به جلسهٔ بعد می‌آیید؟", "en": "Will you come to the next meeting?"},
            required=True,
        ),
    ),
)


async def published(sessions, form: Form = NEIGHBOURHOOD, **options) -> int:
    return await survey_open_now(sessions, form, **options)


async def invited(someone) -> bool:
    return any("پرسش‌نامهٔ تازه" in plain(m) for m in await someone.inbox())


async def stored_answers(sessions) -> dict[str, str | None]:
    async with sessions() as session:
        rows = await session.execute(select(SurveyAnswer.question, SurveyAnswer.value))
        return dict(rows.all())


async def test_a_resident_completes_a_mixed_survey_in_persian(
    resident, bot: BotProcess, sessions
) -> None:
    maryam = await resident("مریم")
    await published(sessions)
    await eventually(lambda: invited(maryam))
    reply = await maryam.press("▶️ شروع")
    assert "۱ از ۶" in reply.text and "محلهٔ شما کجاست؟" in reply.text
    assert "رد شدن ⏭" not in buttons(reply.messages[-1])  # required
    reply = await maryam.press("شمال")
    assert "۲ از ۶" in reply.text
    await maryam.press("☐ پارک")
    reply = await maryam.press("☐ امنیت")
    assert "☑ امنیت" in buttons(reply.messages[-1])
    reply = await maryam.press("✔️ تمام")
    assert "چقدر از محله راضی هستید؟" in reply.text
    reply = await maryam.press("۴")
    assert "چند سال دارید؟" in reply.text and "عددی از ۰ تا ۱۲۰" in reply.text
    reply = await maryam.send("سی و چهار")
    assert "عدد" in reply.text
    reply = await maryam.send("۱۵۰")
    assert "بیشترین پاسخ ممکن ۱۲۰" in reply.text
    reply = await maryam.send("۳۴")
    assert "پیشنهادی دارید؟" in reply.text
    reply = await maryam.press("« بازگشت")  # change the age
    assert "چند سال دارید؟" in reply.text
    reply = await maryam.send("٣٥")  # Arabic-Indic digits
    reply = await maryam.press("رد شدن ⏭")
    assert "به جلسهٔ بعد می‌آیید؟" in reply.text
    reply = await maryam.send("آره")
    assert "پاسخ‌هایتان ذخیره شد" in reply.text

    assert await stored_answers(sessions) == {
        "area": '"north"',
        "matters": '["park", "safety"]',
        "content": '"4"',
        "age": '"35"',
        "idea": None,
        "meeting": '"yes"',
    }
    async with sessions() as session:
        response = await session.scalar(select(SurveyResponse))
    assert response is not None and response.finished and response.person_id is not None
    reply = await maryam.press("▶️ شروع")  # a second response
    assert reply.answer is not None and "پاسخ داده‌اید" in reply.answer["text"]


async def test_leave_and_come_back_after_a_restart(resident, bot: BotProcess, sessions) -> None:
    maryam = await resident("مریم")
    await published(sessions)
    await eventually(lambda: invited(maryam))
    await maryam.press("▶️ شروع")
    await maryam.press("جنوب")
    await maryam.press("☐ مدرسه")  # a choice picked, «done» not yet pressed
    await bot.restart()
    reply = await maryam.send("/surveys")
    assert "نظرسنجی محله" in reply.text
    reply = await maryam.press("▶️ ادامه: نظرسنجی محله")
    assert "۲ از ۶" in reply.text and "چه چیزهایی برایتان مهم است؟" in reply.text
    reply = await maryam.press("✔️ تمام")  # nothing chosen on this message
    assert reply.answer is not None and "دست‌کم یکی" in reply.answer["text"]
    await maryam.press("☐ مدرسه")
    await maryam.press("✔️ تمام")
    await bot.restart()
    reply = await maryam.send("۵")  # typed, straight after the restart
    assert "چند سال دارید؟" in reply.text
    answers = await stored_answers(sessions)
    assert answers["area"] == '"south"' and answers["content"] == '"5"'


async def test_an_anonymous_survey_keeps_no_link_to_the_person(
    staff, resident, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    survey_id = await published(sessions, anonymous=True)
    await eventually(lambda: invited(maryam))
    assert any("بی‌نام" in plain(m) for m in await maryam.inbox())
    await maryam.press("▶️ شروع")
    async with sessions() as session:
        link = await session.scalar(select(SurveyParticipant.response_id))
    assert link is not None  # only while she is part-way, to resume
    for step in ("شمال", "☐ پارک", "✔️ تمام", "۳"):
        await maryam.press(step)
    await maryam.send("۴۰")
    await maryam.press("رد شدن ⏭")
    reply = await maryam.press("خیر")
    assert "بدون نام شما" in reply.text
    async with sessions() as session:
        response = await session.scalar(select(SurveyResponse))
        participant = await session.scalar(select(SurveyParticipant))
        times = (await session.scalars(select(SurveyAnswer.answered_at))).all()
    assert response is not None and response.person_id is None
    assert response.started_at is None and response.finished_at is None
    assert set(times) == {None}
    assert participant is not None and participant.response_id is None and participant.finished
    reply = await maryam.press("▶️ شروع")
    assert reply.answer is not None and "پاسخ داده‌اید" in reply.answer["text"]

    machine = TimeMachine()
    machine.travel_to(clock.now() + timedelta(days=3, minutes=1))
    async with sessions() as session:

        async def closed() -> bool:
            async with sessions() as fresh:
                survey = await fresh.get(Survey, survey_id)
                return survey is not None and survey.status == "closed"

        await eventually(closed)
        assert await session.scalar(select(SurveyParticipant)) is None
    await reza.send("/results")
    [shown] = await job_delivered(reza, "#۱ نظرسنجی محله · بسته شده", sessions)
    assert "بی‌نام" in plain(shown) and "کمتر از ۵ پاسخ" in plain(shown)  # one is too few
    assert "نفر دعوت‌شده" not in plain(shown) and "شمال" not in plain(shown)
    async with sessions() as session:
        response = await session.scalar(select(SurveyResponse))
    assert response is not None and response.mixed  # written again at the close, counted
    reply = await maryam.press("▶️ شروع")
    assert reply.answer is not None and "بسته شده" in reply.answer["text"]


async def test_forged_and_stale_survey_buttons_are_refused(
    resident, bot: BotProcess, sessions
) -> None:
    maryam = await resident("مریم")
    await published(sessions)
    await eventually(lambda: invited(maryam))
    await maryam.press("▶️ شروع")
    old, old_message = await maryam.button_data("شمال")
    await maryam.press("شمال")
    reply = await maryam.tap(old, old_message)  # a question already passed
    assert reply.answer is not None and "گذشته‌اید" in reply.answer["text"]
    message_id = (await maryam.last())["message_id"]
    for data, expected in (
        ("sv:go:999:-1:0", "وجود ندارد"),  # no such survey
        ("sv:tog:1:1:99", "کار نمی‌کند"),  # a choice that does not exist
        ("sv:opt:1:1:0", "کار نمی‌کند"),  # «opt» on a several-choice question
        ("sv:skip:1:1:0", "اجباری"),  # a required question
        ("sv:opt:1:5:0", "گذشته‌اید"),  # a question not reached yet
    ):
        reply = await maryam.tap(data, message_id)
        assert reply.answer is not None and expected in reply.answer["text"], data
    assert (await stored_answers(sessions)) == {"area": '"north"'}


async def test_staff_write_a_survey_in_the_bot_and_read_its_results(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    await reza.send("/newsurvey")
    await reza.press("✍️ نوشتن همین‌جا، پرسش به پرسش")
    await reza.send("پارک محله")
    await reza.send("-")
    await reza.press("یک گزینه")
    await reza.send("کدام ساعت به پارک می‌روید؟")
    await reza.send("When do you go to the park?")
    reply = await reza.send("صبح")
    assert "دو تا ده گزینه" in reply.text
    await reza.send("صبح / Morning\nعصر / Evening")
    reply = await reza.press("اجباری")
    assert "پرسش ۱ اضافه شد" in reply.text
    await reza.press("➕ افزودن پرسش دیگر")
    await reza.press("عدد")
    await reza.send("چند بار در هفته؟")
    await reza.send("-")
    reply = await reza.send("ده")
    assert "مثل" in reply.text
    await reza.send("۰-۱۴")
    await reza.press("اختیاری (می‌شود از آن گذشت)")
    await reza.press("➕ افزودن پرسش دیگر")
    await reza.press("متن آزاد")
    await reza.send("چه چیزی پارک را بهتر می‌کند؟")
    await reza.send("-")
    await reza.press("حداکثر ۲۰۰ حرف")
    await reza.press("اجباری")
    await reza.press("✔️ پایان پرسش‌ها و انتخاب مخاطبان")
    await reza.press("همه")
    await reza.press("همین حالا")
    await reza.press("پس از ۳ روز")
    reply = await reza.press("👤 با نام (کارکنان می‌بینند چه کسی چه پاسخی داده)")
    assert "پیش‌نمایش برای خوانندگان فارسی" in reply.text
    assert (
        "پیش‌نمایش برای خوانندگان انگلیسی" in reply.text
        and "When do you go to the park?" in reply.text
    )
    assert "چند بار در هفته؟" in reply.text and "اختیاری" in reply.text
    reply = await reza.press("✅ انتشار")
    assert "منتشر شد" in reply.text

    await eventually(lambda: invited(maryam))
    await maryam.press("▶️ شروع")
    await maryam.press("عصر")
    reply = await maryam.send("۳")
    assert "حداکثر ۲۰۰ حرف" in reply.text
    reply = await maryam.send("ن" * 201)
    assert "کمتر از ۲۰۰ حرف" in reply.text
    reply = await maryam.send("نیمکت بیشتر 🌳")
    assert "ذخیره شد" in reply.text

    await reza.send("/results")
    shown, *photos = await job_delivered(reza, "#۱ پارک محله · باز", sessions)
    assert "۱ نفر پرسش‌نامه را کامل کرده‌اند" in plain(shown)
    assert "• عصر: ۱ (۱۰۰٪)" in plain(shown)
    assert "میانگین ۳" in plain(shown) and "🛑 بستن همین حالا" in buttons(shown)
    assert photos and all(m.get("photo") for m in photos)  # a chart a question, in an album
    png = await client.file_content(photos[0]["photo"][-1]["file_id"])
    assert png.startswith(b"\x89PNG")


async def test_an_xlsform_imported_by_sending_the_file(staff, bot: BotProcess, sessions) -> None:
    reza = await staff()
    sample = io.BytesIO()
    write_xlsform(NEIGHBOURHOOD, sample)
    reply = await reza.client.send_message(
        reza.user_id,
        chat_id=reza.chat_id,
        document=("neighbourhood.xlsx", sample.getvalue(), "application/vnd.ms-excel"),
    )
    texts = [plain(action["message"]) for action in reply["actions"] if action.get("message")]
    assert any("نظرسنجی محله" in text and "۶ پرسش آماده است" in text for text in texts)
    async with sessions() as session:
        draft = await session.scalar(select(Survey))
    assert draft is not None and surveys.form_of(draft) == NEIGHBOURHOOD

    broken = io.BytesIO()
    write_xlsform(NEIGHBOURHOOD, broken)
    from openpyxl import load_workbook

    broken.seek(0)
    book = load_workbook(broken)
    book["survey"]["A3"] = "geopoint"
    broken = io.BytesIO()
    book.save(broken)
    reply = await reza.client.send_message(
        reza.user_id,
        chat_id=reza.chat_id,
        document=("broken.xlsx", broken.getvalue(), "application/vnd.ms-excel"),
    )
    texts = [plain(action["message"]) for action in reply["actions"] if action.get("message")]
    assert any(
        "فایل وارد نشد" in text
        and "برگهٔ «survey»، ردیف ۳، ستون «type»" in text
        and "geopoint" in text
        for text in texts
    ), texts


async def test_one_reminder_to_those_who_started_and_rates_by_area_and_group(
    staff, resident, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    maryam, neda, sara = [await resident(name) for name in ("مریم", "ندا", "سارا")]
    async with transaction(sessions) as session:
        group = Group(kind=GroupKind.WORKING_GROUP, name_fa="کارگروه سبز", name_en="Green")
        session.add(group)
        await session.flush()
        for someone, area in ((maryam, "نارمک"), (neda, "نارمک"), (sara, "تجریش")):
            row = await session.scalar(
                select(PersonRow).where(PersonRow.telegram_id == someone.user_id)
            )
            assert row is not None
            row.area = area
            session.add(Membership(person_id=row.id, group_id=group.id))
    await published(sessions, audience=Audience(AudienceKind.AREAS, areas=("نارمک", "تجریش")))
    for someone in (maryam, neda, sara):
        await eventually(lambda someone=someone: invited(someone))
    await maryam.press("▶️ شروع")
    for step in ("شمال", "☐ پارک", "✔️ تمام", "۳"):
        await maryam.press(step)
    await maryam.send("۴۰")
    await maryam.press("رد شدن ⏭")
    await maryam.press("بله")
    await neda.press("▶️ شروع")
    await neda.press("جنوب")  # and no more

    machine = TimeMachine()
    machine.travel_to(clock.now() + timedelta(days=2, minutes=1))  # a day before closing
    await eventually(lambda: reminded(neda))
    machine.travel_to(clock.now() + timedelta(hours=12))
    await asyncio.sleep(1.5)
    assert [await reminded(someone) for someone in (maryam, neda, sara)] == [False, True, False]
    assert sum("⏰ یادآوری: پرسش‌نامهٔ" in plain(m) for m in await neda.inbox()) == 1

    await reza.send("/results")
    shown, *_charts = await job_delivered(reza, "#۱ نظرسنجی محله · باز", sessions)
    reply = plain(shown)
    assert "از ۳ نفر دعوت‌شده ۱ نفر پاسخ داده‌اند (۳۳٪)" in reply
    assert "به تفکیک محدوده: تجریش ۰ از ۱ نفر (۰٪)؛ نارمک ۱ از ۲ نفر (۵۰٪)" in reply
    assert "به تفکیک کارگروه: کارگروه سبز ۱ از ۳ نفر (۳۳٪)" in reply
    assert "۱ نفر پرسش‌نامه را کامل کرده‌اند و ۱ نفر فقط به بخشی از آن پاسخ داده‌اند" in reply


async def reminded(someone) -> bool:
    return any("⏰ یادآوری: پرسش‌نامهٔ" in plain(m) for m in await someone.inbox())
