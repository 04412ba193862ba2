"""Staff set up and change a check-in in the bot: every part of it from the card, with bad
input re-asked, and a running round untouched by what changes for the next ones."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from bot.audit import AuditEntry
from bot.checkins.models import Checkin
from bot.db import transaction
from bot.groups.models import Group, GroupKind
from bot.i18n.format import TEHRAN
from tests.e2e.harness import BotProcess, buttons, plain
from tests.e2e.timeline import TimeMachine, eventually, group_with_checkin, job_delivered


async def stored(sessions) -> Checkin:
    async with sessions() as session:
        checkin = await session.scalar(select(Checkin))
    assert checkin is not None
    return checkin


async def new_checkin(reza, sessions) -> None:
    async with transaction(sessions) as session:
        session.add(Group(kind=GroupKind.WORKING_GROUP, name_fa="کارگروه سبز", name_en="Green"))
    reply = await reza.send("/checkins")
    assert "هنوز پیگیری دوره‌ای" in reply.text
    await reza.press("➕ پیگیری دوره‌ای تازه")
    await reza.press("کارگروه سبز")
    await reza.press("شنبه")
    reply = await reza.send("ساعت شش")
    assert "مثل" in reply.text
    reply = await reza.send("۱۸:۳۰")
    assert "هر شنبه ساعت ۱۸:۳۰" in reply.text
    assert "فردای آن روز ساعت ۲۰:۰۰" in reply.text and "۴ ساعت پس از پرسش" in reply.text


async def test_staff_set_the_schedule_from_the_card(staff, bot: BotProcess, sessions) -> None:
    reza = await staff()
    await new_checkin(reza, sessions)

    await reza.press("🗓 روزهای هفته")
    await reza.press("دوشنبه")
    reply = await reza.press("✅ شنبه")
    assert "✅ دوشنبه" in buttons(reply.messages[-1]) and "شنبه" in buttons(reply.messages[-1])
    reply = await reza.press("✅ دوشنبه")  # the last day stays
    assert reply.answer is not None and "دست‌کم یک روز" in reply.answer["text"]
    reply = await reza.press("✔️ تمام")
    assert "هر دوشنبه ساعت ۱۸:۳۰" in reply.text

    await reza.press("🕐 ساعت")
    reply = await reza.send("۲۵:۰۰")
    assert "مثل" in reply.text
    reply = await reza.send("۰۹:۱۵")
    assert "هر دوشنبه ساعت ۰۹:۱۵" in reply.text

    reply = await reza.press("🌐 منطقهٔ زمانی")
    assert "وقت ایران" in buttons(reply.messages[-1]) and "Asia/Tehran" not in buttons(
        reply.messages[-1]
    )
    reply = await reza.send("Mars/Olympus")
    assert "نمی‌شناسم" in reply.text
    reply = await reza.send("berlin")
    assert "منطقهٔ زمانی: وقت آلمان (برلین)" in reply.text

    await reza.press("📅 ماهانه")
    reply = await reza.send("۴۰")
    assert "۱ تا ۳۱" in reply.text
    await reza.send("۱۵")
    reply = await reza.press("ماه‌های شمسی")
    assert "روز ۱۵ هر ماه شمسی ساعت ۰۹:۱۵" in reply.text

    checkin = await stored(sessions)
    assert checkin.schedule["month_day"] == 15 and checkin.schedule["weekdays"] == []
    assert checkin.schedule["calendar"] == "jalali" and checkin.schedule["at"] == "09:15"
    assert checkin.schedule["timezone"] == "Europe/Berlin"
    async with sessions() as session:
        edits = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "checkin.edit"))
        ).all()
    assert len(edits) == 5  # two days, the time, the zone, the day of the month


async def test_time_zones_are_shown_by_their_names(staff, bot: BotProcess, sessions) -> None:
    """Time zones read as people name them, in each reader's language, not as IANA ids."""
    reza = await staff()
    await new_checkin(reza, sessions)
    reply = await reza.press("🌐 منطقهٔ زمانی")
    assert buttons(reply.messages[-1]) == [
        "وقت ایران",
        "وقت آلمان (برلین)",
        "وقت بریتانیا",
        "وقت کانادا (تورنتو)",
    ]
    reply = await reza.press("وقت بریتانیا")
    assert "منطقهٔ زمانی: وقت بریتانیا" in reply.text and "Europe" not in reply.text
    assert (await stored(sessions)).schedule["timezone"] == "Europe/London"
    await reza.press("🌐 منطقهٔ زمانی")
    reply = await reza.send("پاریس")  # typed by its city, in Persian
    assert "منطقهٔ زمانی: وقت فرانسه" in reply.text
    await reza.press("🌐 منطقهٔ زمانی")
    reply = await reza.send("وقت بریتانیا")  # or as the button said
    assert "منطقهٔ زمانی: وقت بریتانیا" in reply.text

    sara = await staff("Sara", "English")
    await sara.send("/checkins")
    reply = await sara.press("✏️ #1 Green")
    assert "Time zone: United Kingdom Time" in reply.text
    reply = await sara.press("🌐 Time zone")
    assert buttons(reply.messages[-1]) == [
        "Iran Time",
        "Germany (Berlin) Time",
        "United Kingdom Time",
        "Canada (Toronto) Time",
    ]


async def test_staff_set_window_reminders_summary_and_holidays(
    staff, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    await new_checkin(reza, sessions)

    await reza.press("⏳ مهلت پاسخ")
    await reza.press("همان روز")
    reply = await reza.send("۰۸:۰۰")  # before the round at 18:30
    assert "پیش از شروع نوبت" in reply.text
    reply = await reza.send("۲۱:۰۰")
    assert "همان روز ساعت ۲۱:۰۰" in reply.text

    await reza.press("🔔 یادآوری‌ها")
    reply = await reza.send("۲۰")  # answers are only taken for two and a half hours
    assert "فقط تا ۲٫۵ ساعت" in reply.text
    reply = await reza.send("یک")
    assert "حداکثر سه عدد" in reply.text
    reply = await reza.send("۲، ۰٫۵")
    assert "۰٫۵، ۲ ساعت پس از پرسش" in reply.text

    await reza.press("⏳ مهلت پاسخ")
    await reza.press("فردای آن روز")
    reply = await reza.send("۱۲:۰۰")
    assert "فردای آن روز ساعت ۱۲:۰۰" in reply.text

    await reza.press("📣 جمع‌بندی")
    reply = await reza.press("کارکنان")
    assert "جمع‌بندی برای کارکنان فرستاده می‌شود" in reply.text

    await reza.press("🚫 روزهای بدون نوبت")
    reply = await reza.send("۱۴۰۵/۱۲/۳۱")  # 1405 is not a leap year
    assert "چنین روزی در تقویم نیست" in reply.text
    reply = await reza.send("۱۴۰۶/۰۱/۰۱")
    assert "نوبتی نخواهد بود" in reply.text and "روزهای بدون نوبت:" in reply.text
    await reza.press("🚫 روزهای بدون نوبت")
    await reza.send("2027-03-22")
    reply = await reza.press("🚫 روزهای بدون نوبت")
    assert len([b for b in buttons(reply.messages[-1]) if b.startswith("↩️")]) == 2
    reply = await reza.press(buttons(reply.messages[-1])[0])
    assert reply.answer is not None and "انجام شد" in reply.answer["text"]

    checkin = await stored(sessions)
    assert checkin.window == {"days_after": 1, "at": "12:00", "reminders_after_min": [30, 120]}
    assert checkin.summary_to == "staff"
    assert checkin.schedule["skip_dates"] == ["2027-03-22"]  # ۱۴۰۶/۰۱/۰۱ was taken back
    assert date(2027, 3, 21).isoformat() not in checkin.schedule["skip_dates"]


async def test_new_questions_reach_the_next_round_not_the_open_one(
    staff, resident, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    due = await group_with_checkin(sessions, [maryam], daily=True)
    machine = TimeMachine()
    machine.travel_to(due + timedelta(minutes=1))
    await eventually(lambda: _has(maryam, "پرسش ۱ از ۳"))

    await reza.send("/checkins")
    await reza.press("✏️ شمارهٔ ۱ کارگروه سبز")
    await reza.press("❓ پرسش‌ها")
    await reza.press("➕ افزودن پرسش")
    await reza.press("یکی از چند گزینه")
    reply = await reza.send("ن" * 301)
    assert "حداکثر در ۳۰۰ حرف" in reply.text
    await reza.send("جلسهٔ بعد کجا باشد؟")
    await reza.send("Where should we meet next?")
    reply = await reza.send("فقط یکی")
    assert "دو تا هشت گزینه" in reply.text
    reply = await reza.send("مسجد محله / The mosque\nمدرسه / The school")
    assert "۴. جلسهٔ بعد کجا باشد؟" in reply.text
    await reza.press("❓ پرسش‌ها")
    reply = await reza.press("🗑 حذف پرسش ۲")
    assert "قدم بعدی چیست؟" not in reply.text and "۳. جلسهٔ بعد کجا باشد؟" in reply.text

    # The open round goes on with the three questions it started with.
    reply = await maryam.send("درختکاری")
    assert "پرسش ۲ از ۳" in reply.text and "قدم بعدی چیست؟" in reply.text
    await maryam.send("آبیاری")
    reply = await maryam.send("نه")
    assert "ذخیره شد" in reply.text

    # The next day's round asks the new three.
    machine.travel_to(due + timedelta(days=1, minutes=1))
    await eventually(lambda: _has(maryam, "پرسش ۱ از ۳", count=2))
    reply = await maryam.send("کاشت نهال")
    reply = await maryam.send("نه")
    assert "جلسهٔ بعد کجا باشد؟" in reply.text and "مدرسه" in buttons(reply.messages[-1])


async def test_pause_delete_and_who_may_change_a_check_in(
    staff, resident, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    await new_checkin(reza, sessions)
    reply = await reza.press("⏸ توقف")
    assert "⏸ متوقف شده" in reply.text and "▶️ ادامه" in buttons(reply.messages[-1])
    assert (await stored(sessions)).paused

    data, message_id = await reza.button_data("🗑 حذف")
    reply = await maryam.tap(data, (await maryam.last())["message_id"])  # forged: not staff
    assert reply.answer is not None and "سازمان پشتیبان" in reply.answer["text"]
    reply = await maryam.send("/checkins")
    assert "سازمان پشتیبان" in reply.text
    await stored(sessions)  # still there

    await reza.press("🗑 حذف")
    reply = await reza.press("🗑 بله، حذف همراه با همهٔ نوبت‌ها و پاسخ‌ها")
    assert "هنوز پیگیری دوره‌ای" in reply.text
    reply = await reza.tap(data, message_id)  # the card's old button
    assert reply.answer is not None and "وجود ندارد" in reply.answer["text"]
    async with sessions() as session:
        assert await session.scalar(select(Checkin)) is None


async def test_the_list_shows_participation_over_time_as_a_chart(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    due = await group_with_checkin(sessions, [maryam], daily=True)
    machine = TimeMachine()
    for day in range(3):
        machine.travel_to(due + timedelta(days=day, minutes=1))
        await eventually(lambda day=day: _has(maryam, "پرسش ۱ از ۳", count=day + 1))
        if day != 1:
            await maryam.press("این بار خبر تازه‌ای ندارم")
    third_closes = datetime.combine(
        due.astimezone(TEHRAN).date() + timedelta(days=3), time(20, 0), TEHRAN
    )
    machine.travel_to(third_closes + timedelta(minutes=1))
    await eventually(lambda: _has(reza, "نفر پاسخ دادند", count=3))

    [photo] = await job_delivered(reza, "/checkins", sessions)
    assert "مشارکت" in plain(photo) and "۱۰۰٪ · ۰٪ · ۱۰۰٪" in plain(photo)
    png = await client.file_content(photo["photo"][-1]["file_id"])
    assert png.startswith(b"\x89PNG")


async def _has(someone, text: str, count: int = 1) -> bool:
    return sum(text in plain(message) for message in await someone.inbox()) >= count
