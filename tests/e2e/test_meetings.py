"""Meetings: invitations with a calendar file and RSVP buttons, reminders that are never
wrong (declined, moved, cancelled, downtime), a series across the Persian new year,
attendance and a follow-up. Time is moved, never slept through."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

from persiantools.jdatetime import JalaliDate
from sqlalchemy import select

from bot import clock
from bot.db import transaction
from bot.groups.models import Group, GroupKind, Membership
from bot.i18n.format import TEHRAN
from bot.meetings import ics
from bot.meetings import service as meetings
from bot.meetings.models import Meeting, MeetingInvitee
from bot.meetings.recurrence import Frequency, from_first
from bot.people.models import Person as PersonRow
from tests.calendar_view import master_and_overrides, shown
from tests.e2e.harness import BotProcess, buttons, plain
from tests.e2e.timeline import TimeMachine, eventually


async def working_group(sessions, *members) -> int:
    async with transaction(sessions) as session:
        group = Group(kind=GroupKind.WORKING_GROUP, name_fa="کارگروه سبز", name_en="Green")
        session.add(group)
        await session.flush()
        for someone in members:
            person_id = await session.scalar(
                select(PersonRow.id).where(PersonRow.telegram_id == someone.user_id)
            )
            session.add(Membership(person_id=person_id, group_id=group.id))
    return group.id


def jalali(moment: datetime) -> str:
    """«۱۴۰۵/۰۹/۱۰ ۱۸:۰۰», as a staff member would type it."""
    local = moment.astimezone(TEHRAN)
    typed = JalaliDate(local.date()).strftime("%Y/%m/%d") + local.strftime(" %H:%M")
    return typed.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def three_days_ahead() -> datetime:
    day = (clock.now() + timedelta(days=3)).astimezone(TEHRAN).date()
    return datetime.combine(day, time(18, 0), TEHRAN).astimezone(UTC)


async def invite(reza, starts: datetime, repeat: str = "تکرار نمی‌شود") -> None:
    await reza.send("/newmeeting")
    await reza.press("☐ کارگروه سبز")
    await reza.press("تمام")
    await reza.send("جلسهٔ ماهانه")
    await reza.send("Monthly meeting")
    await reza.send("بررسی داده‌های محله")
    await reza.send("-")
    await reza.send(jalali(starts))
    await reza.press("۶۰ دقیقه")
    await reza.send("سرای محله")
    await reza.press(repeat)
    await reza.press("۲۴ ساعت و ۱ ساعت قبل")
    reply = await reza.press("📨 ارسال دعوت‌نامه‌ها")
    assert "دعوت‌نامه برای" in reply.text


async def count(someone, text: str) -> int:
    return sum(text in plain(m) for m in await someone.inbox())


async def test_invitation_calendar_file_rsvp_and_reminders(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    maryam, neda = await resident("مریم"), await resident("ندا")
    sara = await resident("Sara", "en", "English")
    await working_group(sessions, maryam, neda, sara)
    starts = three_days_ahead()

    await reza.send("/newmeeting")
    await reza.press("☐ کارگروه سبز")
    await reza.press("☐ کارکنان سازمان پشتیبان")  # people in no group: the staff
    await reza.press("تمام")
    await reza.send("جلسهٔ ماهانه")
    await reza.send("Monthly meeting")
    await reza.send("بررسی داده‌های محله")
    await reza.send("-")
    reply = await reza.send("فردا ساعت شش")
    assert "مثلاً" in reply.text or "این‌طور" in reply.text
    reply = await reza.send("۱۴۰۵/۱۲/۳۱ ۱۸:۰۰")
    assert "چنین روزی در تقویم نیست" in reply.text
    reply = await reza.send("۱۴۰۰/۰۱/۰۱ ۱۰:۰۰")
    assert "گذشته است" in reply.text
    await reza.send(jalali(starts))
    await reza.press("۶۰ دقیقه")
    await reza.send("سرای محله")
    await reza.press("تکرار نمی‌شود")
    reply = await reza.press("۲۴ ساعت و ۱ ساعت قبل")
    assert "جلسهٔ ماهانه" in reply.text and "سرای محله" in reply.text
    reply = await reza.press("📨 ارسال دعوت‌نامه‌ها")
    assert "دعوت‌نامه برای ۴ نفر" in reply.text  # three members and Reza

    async def invited(someone) -> bool:
        return any(m.get("document") for m in await someone.inbox())

    for someone in (maryam, neda, sara):
        await eventually(lambda someone=someone: invited(someone))
    card = next(m for m in await sara.inbox() if m.get("document"))
    assert "Monthly meeting" in plain(card) and "I'll come" in str(card["reply_markup"])
    data = await client.file_content(card["document"]["file_id"])
    start, duration, summary = ics.read_start(data)
    assert start == starts and duration == timedelta(hours=1) and summary == "Monthly meeting"
    persian = next(m for m in await maryam.inbox() if m.get("document"))
    _start, _duration, title = ics.read_start(
        await client.file_content(persian["document"]["file_id"])
    )
    assert title == "جلسهٔ ماهانه"

    reply = await maryam.press("✅ می‌آیم")
    assert reply.answer is not None and "ثبت شد" in reply.answer["text"]
    await neda.press("❌ نمی‌توانم بیایم")

    machine = TimeMachine()
    machine.travel_to(starts - timedelta(hours=24) + timedelta(minutes=1))
    await eventually(lambda: _at_least(sara, "A reminder", 1))
    await eventually(lambda: _at_least(maryam, "⏰ یادآوری", 1))
    machine.travel_to(starts - timedelta(hours=1) + timedelta(minutes=1))
    await eventually(lambda: _at_least(maryam, "⏰ یادآوری", 2))
    await eventually(lambda: _at_least(sara, "A reminder", 2))
    machine.travel_to(starts + timedelta(minutes=5))
    await asyncio.sleep(1.5)
    assert await count(neda, "⏰ یادآوری") == 0  # she declined
    assert await count(maryam, "⏰ یادآوری") == 2
    reply = await maryam.press("❌ نمی‌توانم بیایم")  # too late to change
    assert reply.answer is not None and "شروع شده" in reply.answer["text"]

    reply = await reza.send("/meetings")
    assert "۱ نفر می‌آیند" in reply.text and "۱ نفر نمی‌آیند" in reply.text
    assert "۲ نفر هنوز پاسخ نداده‌اند" in reply.text  # Sara and Reza


async def _at_least(someone, text: str, times: int) -> bool:
    return await count(someone, text) >= times


async def test_moved_between_the_reminders_then_cancelled(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    await working_group(sessions, maryam)
    starts = three_days_ahead()
    await invite(reza, starts)
    machine = TimeMachine()
    machine.travel_to(starts - timedelta(hours=24) + timedelta(minutes=1))
    await eventually(lambda: _at_least(maryam, "⏰ یادآوری", 1))

    later = starts + timedelta(days=2)
    await reza.send("/meetings")
    await reza.press("🕒 تغییر زمان")
    reply = await reza.send(jalali(later))
    assert "۱ نفر" in reply.text
    await eventually(lambda: _at_least(maryam, "تغییر کرد", 1))
    moved = next(m for m in await maryam.inbox() if "تغییر کرد" in plain(m))
    start, _duration, _title = ics.read_start(
        await client.file_content(moved["document"]["file_id"])
    )
    assert start == later

    machine.travel_to(starts - timedelta(hours=1) + timedelta(minutes=1))  # the old time
    await asyncio.sleep(1.5)
    assert await count(maryam, "⏰ یادآوری") == 1
    machine.travel_to(later - timedelta(hours=24) + timedelta(minutes=1))
    await eventually(lambda: _at_least(maryam, "⏰ یادآوری", 2))
    machine.travel_to(later - timedelta(hours=1) + timedelta(minutes=1))
    await eventually(lambda: _at_least(maryam, "⏰ یادآوری", 3))

    # Another meeting, cancelled: a notice and nothing more.
    again = later + timedelta(days=7)
    await invite(reza, again)
    await reza.send("/meetings")
    await reza.press("✖ لغو جلسه")
    await reza.press("✖ بله، جلسه لغو شود")
    await eventually(lambda: _at_least(maryam, "لغو شد", 1))
    machine.travel_to(again - timedelta(minutes=30))
    await asyncio.sleep(1.5)
    assert await count(maryam, "⏰ یادآوری") == 3


async def test_a_reminder_missed_while_down_is_sent_once_before_the_start_never_after(
    staff, resident, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    await working_group(sessions, maryam)
    starts = three_days_ahead()
    await invite(reza, starts)
    await eventually(lambda: _at_least(maryam, "دعوت", 1))
    machine = TimeMachine()
    await bot.stop()
    machine.travel_to(starts - timedelta(hours=2))  # the 24-hour reminder fell while down
    await bot.start()
    await eventually(lambda: _at_least(maryam, "⏰ یادآوری", 1))
    await bot.restart()
    await asyncio.sleep(1.5)
    assert await count(maryam, "⏰ یادآوری") == 1
    await bot.stop()
    machine.travel_to(starts + timedelta(minutes=10))  # the 1-hour one fell too; it has begun
    await bot.start()
    await asyncio.sleep(1.5)
    assert await count(maryam, "⏰ یادآوری") == 1


def first_saturday(year: int, month: int) -> date:
    day = JalaliDate(year, month, 1).to_gregorian()
    while day.weekday() != 5:
        day += timedelta(days=1)
    return day


async def test_a_monthly_series_across_the_persian_new_year(
    staff, resident, bot: BotProcess, sessions
) -> None:
    await staff()
    maryam = await resident("مریم")
    sara = await resident("Sara", "en", "English")
    group_id = await working_group(sessions, maryam, sara)
    machine = TimeMachine()
    first_day = first_saturday(1405, 12)
    first = datetime.combine(first_day, time(17, 0), TEHRAN).astimezone(UTC)
    machine.travel_to(first - timedelta(days=1))
    async with transaction(sessions) as session:
        meeting, _people = await meetings.create(
            session,
            title={"fa": "کمیتهٔ راهبری", "en": "Steering committee"},
            agenda={},
            starts_at=first,
            duration_min=60,
            place="سرای محله",
            link=None,
            timezone="Asia/Tehran",
            group_ids=[group_id],
            recurrence=from_first(first, Frequency.MONTHLY_WEEKDAY),
            author_id=None,
        )
    machine.travel_to(first + timedelta(hours=2))  # the first has ended: the next is set
    second_day = first_saturday(1406, 1)  # after Nowruz

    async def next_set() -> bool:
        async with sessions() as session:
            return len((await session.scalars(select(Meeting))).all()) == 2

    await eventually(next_set)
    async with sessions() as session:
        following = await session.scalar(select(Meeting).where(Meeting.series_id == meeting.id))
        invited = (await session.scalars(select(MeetingInvitee.person_id))).all()
    assert following is not None
    assert following.starts_at.astimezone(TEHRAN).date() == second_day
    assert following.starts_at.astimezone(TEHRAN).time() == time(17, 0)
    assert len(invited) == 2 + 2  # both meetings, both members
    persian_day = str(JalaliDate(second_day).day).translate(
        str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    )
    await eventually(lambda: _at_least(maryam, f"{persian_day} فروردین ۱۴۰۶", 1))
    await eventually(lambda: _at_least(sara, second_day.strftime("Sat %-d %b %Y, 17:00"), 1))


async def test_attendance_and_a_follow_up_to_those_who_came(
    staff, resident, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    maryam, neda = await resident("مریم"), await resident("ندا")
    await working_group(sessions, maryam, neda)
    starts = three_days_ahead()
    await invite(reza, starts)
    TimeMachine().travel_to(starts + timedelta(minutes=30))
    reply = await reza.send("/meetings")
    assert "✅ حضور و غیاب" in str(reply.messages)
    await reza.press("✅ حضور و غیاب")
    reply = await reza.press("☐ مریم")
    assert "☑ مریم" in str(reply.messages[-1]["reply_markup"])
    await reza.press("تمام")
    await reza.press("✉️ پیام پس از جلسه")
    await reza.send("صورت‌جلسه: درختکاری جمعه.")
    reply = await reza.press("کسانی که آمدند")
    assert "۱ نفر" in reply.text
    await eventually(lambda: _at_least(maryam, "صورت‌جلسه: درختکاری جمعه.", 1))
    await asyncio.sleep(1)
    assert await count(neda, "صورت‌جلسه") == 0
    async with sessions() as session:
        marks = dict(
            (await session.execute(select(MeetingInvitee.person_id, MeetingInvitee.attended))).all()
        )
    assert sorted(marks.values(), key=str) == [None, True]
    reply = await reza.send("/meetings")
    assert any(m.get("photo") for m in reply.messages)  # attendance per group, as a chart


async def calendar_files(someone, client, text: str) -> list[bytes]:
    """The .ics files of the messages that say `text`, oldest first."""
    return [
        await client.file_content(m["document"]["file_id"])
        for m in await someone.inbox()
        if m.get("document") and text in plain(m)
    ]


async def test_a_weekly_series_shows_every_week_in_the_calendar_across_a_move_and_a_cancel(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    await working_group(sessions, maryam)
    first = three_days_ahead()
    weeks = [first + timedelta(days=7 * n) for n in range(8)]
    horizon = weeks[-1] + timedelta(hours=1)
    await invite(reza, first, repeat="هر هفته")
    await eventually(lambda: _at_least(maryam, "دعوت به جلسه", 1))
    [invited] = await calendar_files(maryam, client, "دعوت به جلسه")
    assert [item.starts_at for item in shown(invited, horizon)] == weeks
    master, _overrides = master_and_overrides(invited)
    uid = str(master["UID"])
    assert uid != "meeting-1@hamgam" and uid.endswith("@hamgam")

    # The first meeting moves a day later: the calendar moves that one, the rest stay.
    await reza.send("/meetings")
    await reza.press("🕒 تغییر زمان")
    await reza.send(jalali(first + timedelta(days=1)))
    await eventually(lambda: _at_least(maryam, "تغییر کرد", 1))
    [moved] = await calendar_files(maryam, client, "تغییر کرد")
    after_move = shown(moved, horizon)
    assert [item.starts_at for item in after_move] == [first + timedelta(days=1), *weeks[1:]]
    assert after_move[0].moved
    assert str(master_and_overrides(moved)[0]["UID"]) == uid
    assert all(item.sequence > master["SEQUENCE"] for item in after_move)

    # Once it is over the second is set; its invitation carries the series as it stands.
    machine = TimeMachine()
    machine.travel_to(first + timedelta(days=1, hours=2))
    await eventually(lambda: _at_least(maryam, "دعوت به جلسه", 2))
    second_invitation = (await calendar_files(maryam, client, "دعوت به جلسه"))[-1]
    assert [item.starts_at for item in shown(second_invitation, horizon)] == [
        item.starts_at for item in after_move
    ]
    assert str(master_and_overrides(second_invitation)[0]["UID"]) == uid

    # The second is cancelled: only that week leaves the calendar.
    await reza.send("/meetings")
    await reza.press("✖ لغو جلسه")
    await reza.press("✖ بله، جلسه لغو شود")
    await eventually(lambda: _at_least(maryam, "لغو شد", 1))
    [cancelled] = await calendar_files(maryam, client, "لغو شد")
    after_cancel = shown(cancelled, horizon)
    assert [item.starts_at for item in after_cancel] == [
        first + timedelta(days=1),
        *weeks[2:],
    ]
    assert min(item.sequence for item in after_cancel) > max(
        item.sequence for item in shown(second_invitation, horizon)
    )
    assert str(master_and_overrides(cancelled)[0]["UID"]) == uid

    # After a restart the third is set when the second's time has passed: the same event.
    await bot.restart()
    machine.travel_to(weeks[1] + timedelta(hours=2))
    await eventually(lambda: _at_least(maryam, "دعوت به جلسه", 3))
    third_invitation = (await calendar_files(maryam, client, "دعوت به جلسه"))[-1]
    assert str(master_and_overrides(third_invitation)[0]["UID"]) == uid
    assert [item.starts_at for item in shown(third_invitation, horizon)] == [
        item.starts_at for item in after_cancel
    ]


async def test_reminders_go_on_after_a_one_off_meeting_has_ended(
    staff, resident, bot: BotProcess, sessions
) -> None:
    """A one-off meeting's «no rule» was once read as a series to continue, and the clock
    stopped at the first meeting's end: no reminder for anything after it."""
    reza = await staff()
    maryam = await resident("مریم")
    await working_group(sessions, maryam)
    first = three_days_ahead()
    later = first + timedelta(days=3)
    await invite(reza, first)
    await invite(reza, later)
    await eventually(lambda: _at_least(maryam, "دعوت به جلسه", 2))
    machine = TimeMachine()
    machine.travel_to(first + timedelta(hours=2))  # the first is over
    await asyncio.sleep(1.5)
    machine.travel_to(later - timedelta(hours=24) + timedelta(minutes=1))
    await eventually(lambda: _at_least(maryam, "⏰ یادآوری", 1))  # none for the first: it passed


async def test_the_preview_before_the_invitations_shows_the_agenda(
    staff, resident, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    await working_group(sessions, await resident("مریم"))
    await reza.send("/newmeeting")
    await reza.press("☐ کارگروه سبز")
    await reza.press("تمام")
    await reza.send("جلسهٔ ماهانه")
    await reza.send("Monthly meeting")
    await reza.send("بررسی داده‌های محله")
    await reza.send("Reviewing the neighbourhood's data")
    await reza.send(jalali(three_days_ahead()))
    await reza.press("۶۰ دقیقه")
    await reza.send("سرای محله")
    await reza.press("تکرار نمی‌شود")
    reply = await reza.press("۲۴ ساعت و ۱ ساعت قبل")
    assert "دستور جلسه" in reply.text and "بررسی داده‌های محله" in reply.text
    assert "📨 ارسال دعوت‌نامه‌ها" in buttons(reply.messages[-1])
