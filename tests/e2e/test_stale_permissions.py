"""A multi-step flow's last step checks again what its first step allowed: between the steps a
member can be removed from a group, a staff member can lose the role, an object can go away
(and the conversation state survives restarts), so the step that stores or sends refuses."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from persiantools.jdatetime import JalaliDate
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.announcements.models import Announcement
from bot.checkins.models import CheckinAnswer
from bot.db import transaction
from bot.delivery.models import Delivery
from bot.groups.models import Group, GroupKind, Membership
from bot.i18n.format import TEHRAN
from bot.indicators.models import Direction, Frequency, Indicator, IndicatorValue
from bot.people.models import Person as PersonRow
from tests.e2e.harness import Person, inbox_has, plain
from tests.e2e.timeline import (
    TimeMachine,
    after_closing,
    eventually,
    group_with_checkin,
    round_asked,
)


async def _person_id(session: AsyncSession, someone: Person) -> int:
    found = await session.scalar(
        select(PersonRow.id).where(PersonRow.telegram_id == someone.user_id)
    )
    assert found is not None
    return found


async def _count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _fund_with_indicator(
    sessions: async_sessionmaker[AsyncSession], members: list[Person]
) -> None:
    """«کارگروه صندوق» owning a monthly indicator, with these members."""
    async with transaction(sessions) as session:
        group = Group(kind=GroupKind.WORKING_GROUP, name_fa="کارگروه صندوق", name_en="Fund")
        session.add(group)
        await session.flush()
        for someone in members:
            session.add(Membership(person_id=await _person_id(session, someone), group_id=group.id))
        session.add(
            Indicator(
                name={"fa": "خانواده‌های عضو صندوق", "en": "Families in the fund"},
                description={},
                unit={"fa": "خانوار", "en": "households"},
                baseline="40",
                target="120",
                direction=Direction.UP,
                frequency=Frequency.MONTHLY,
                group_id=group.id,
            )
        )


async def test_a_member_removed_from_the_group_while_reporting_a_value_is_refused(
    staff, resident, bot, sessions
) -> None:
    machine = TimeMachine()
    machine.travel_to(datetime.combine(JalaliDate(1405, 9, 15).to_gregorian(), time(12), TEHRAN))
    reza = await staff()
    maryam = await resident("مریم")
    sara = await resident("Sara", "en", "English")
    await _fund_with_indicator(sessions, [maryam, sara])

    for someone, indicator, month in (
        (maryam, "خانواده‌های عضو صندوق", "آذر ۱۴۰۵"),
        (sara, "Families in the fund", "Azar 1405"),
    ):
        await someone.send("/report_value")
        await someone.press(indicator)
        await someone.press(month)  # the bot now waits for the value

    await reza.send("/groups")
    await reza.press("کارگروه صندوق")
    await reza.press("👤 اعضا")
    await reza.press("✖ مریم")
    await reza.press("✖ Sara")

    reply = await maryam.send("۶۵")
    assert "دیگر نمی‌توانید این شاخص را گزارش کنید" in reply.text
    assert "ذخیره شد" not in reply.text
    reply = await sara.send("65")
    assert "You can no longer report this indicator" in reply.text
    assert await _count(sessions, IndicatorValue) == 0
    reply = await maryam.send("۶۵")  # the conversation is over: nothing waits for a value
    assert await _count(sessions, IndicatorValue) == 0


async def test_staff_who_lose_the_role_while_writing_an_announcement_cannot_send_it(
    staff, resident, bot, sessions
) -> None:
    reza, mina = await staff("رضا"), await staff("مینا")
    await resident("مریم")
    await reza.send("/announce")
    await reza.send("جلسهٔ عمومی محله پنجشنبه ساعت ۱۸ در مسجد")
    await reza.press("رد شدن: همان متن فارسی")
    await reza.press("بدون پیوست")
    await reza.press("همه")  # the review, with «send now» waiting

    await mina.send("/staff")
    await mina.press("✖ رضا")
    await mina.press("✔ بله، حذف شود")

    reply = await reza.press("✅ ارسال فوری")
    assert (
        reply.answer is not None and "فقط در اختیار کارکنان سازمان پشتیبان" in reply.answer["text"]
    )
    assert await _count(sessions, Delivery) == 0
    assert await _count(sessions, Announcement) == 0


async def test_a_member_removed_from_the_group_during_a_check_in_cannot_answer_it(
    staff, resident, bot, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    due = await group_with_checkin(sessions, [maryam])
    await round_asked(TimeMachine(), due, maryam, "پرسش ۱ از ۳")
    await maryam.send("همه چیز خوب پیش می‌رود")  # the first answer, while still a member

    await reza.send("/groups")
    await reza.press("کارگروه سبز")
    await reza.press("👤 اعضا")
    await reza.press("✖ مریم")

    reply = await maryam.send("کاشت نهال در پارک")
    assert "پرسش ۳ از ۳" not in reply.text
    assert "دیگر عضو «کارگروه سبز» نیستید" in reply.text
    async with sessions() as session:
        answers = (await session.scalars(select(CheckinAnswer.value))).all()
    assert answers == ["همه چیز خوب پیش می‌رود"]
    reply = await maryam.send("کاشت نهال در پارک")
    assert "دیگر عضو «کارگروه سبز» نیستید" in reply.text
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CheckinAnswer)) == 1


async def test_a_member_removed_during_a_round_is_neither_reminded_nor_counted(
    staff, resident, bot, sessions
) -> None:
    reza = await staff()
    maryam, sara, ali = [await resident(name) for name in ("مریم", "سارا", "علی")]
    due = await group_with_checkin(sessions, [maryam, sara, ali])
    machine = TimeMachine()
    await round_asked(machine, due, maryam, "پرسش ۱ از ۳")
    await maryam.send("همه چیز خوب پیش می‌رود")  # half-way, then staff remove her
    await reza.send("/groups")
    await reza.press("کارگروه سبز")
    await reza.press("👤 اعضا")
    await reza.press("✖ مریم")
    for answer in ("دیوارنگاری مدرسه", "رنگ خریدن", "نه"):
        await sara.send(answer)

    machine.travel_to(due + timedelta(minutes=62))  # the reminder, for those still asked
    await eventually(lambda: inbox_has(ali, "⏰ یادآوری"))
    machine.travel_to(after_closing(due))
    await eventually(lambda: inbox_has(reza, "نفر پاسخ دادند"))
    summary = next(plain(m) for m in await reza.inbox() if "نفر پاسخ دادند" in plain(m))
    assert "۱ نفر از ۲ نفر" in summary
    assert "پاسخ ندادند: علی" in summary
    assert "مریم" not in summary and "همه چیز خوب پیش می‌رود" not in summary
    assert not await inbox_has(maryam, "⏰ یادآوری")
