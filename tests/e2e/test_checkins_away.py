"""«I'm away» is never a trap: the way back is offered wherever check-ins are talked about, an
away period may end on a day of the member's choosing, and pressing «I'm back» twice confirms."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta

from persiantools.jdatetime import JalaliDate
from sqlalchemy import select

from bot import clock
from bot.checkins.models import CheckinParticipant, CheckinRound, Participation
from bot.i18n import format as fmt
from bot.i18n.format import TEHRAN
from bot.people.models import Person as PersonRow
from tests.e2e.harness import BotProcess, Person, buttons, plain
from tests.e2e.test_checkins import prompts, prompts_are
from tests.e2e.timeline import TimeMachine, eventually, group_with_checkin, round_asked


async def stored(sessions, someone: Person) -> PersonRow:
    async with sessions() as session:
        row = await session.scalar(
            select(PersonRow).where(PersonRow.telegram_id == someone.user_id)
        )
    assert row is not None
    return row


async def test_an_away_member_finds_the_way_back_in_mycheckins_and_in_help(
    staff, resident, bot: BotProcess, sessions
) -> None:
    await staff()
    neda = await resident("ندا")
    due = await group_with_checkin(sessions, [neda])
    await round_asked(TimeMachine(), due, neda, "پرسش ۱ از ۳")
    await neda.press("در دسترس نیستم")
    async with sessions() as session:
        round_id = await session.scalar(select(CheckinRound.id))
    prompt = next(m for m in await neda.inbox() if "پرسش ۱ از ۳" in plain(m))
    reply = await neda.tap(f"chk:opt:{round_id}:0:0", prompt["message_id"])  # a stale button
    assert "برگشتم" in buttons(reply.messages[-1])

    reply = await neda.send("/help")
    assert "/away" in reply.text
    reply = await neda.send("/mycheckins")
    assert "در دسترس نیستید" in reply.text
    assert "برگشتم" in buttons(reply.messages[0])
    reply = await neda.press("برگشتم")  # on the newest message showing it: /mycheckins
    assert "دوباره خوش آمدید" in reply.text
    assert (await stored(sessions, neda)).away_since is None

    reply = await neda.send("/away")
    assert "یک هفته" in buttons(reply.messages[0])
    await neda.press("تا وقتی خودم بگویم برگشتم")
    assert (await stored(sessions, neda)).away_since is not None
    reply = await neda.send("/away")
    assert "برگشتم" in buttons(reply.messages[0])


async def test_pressing_im_back_on_a_message_whose_buttons_are_gone_confirms_it(
    staff, resident, bot: BotProcess, sessions
) -> None:
    """A double tap, or a client that has not redrawn the message yet: the state changes and
    the person is told, although the message has nothing left to edit."""
    await staff()
    neda = await resident("ندا")
    due = await group_with_checkin(sessions, [neda], daily=True)
    machine = TimeMachine()
    await round_asked(machine, due, neda, "پرسش ۱ از ۳")
    await neda.press("در دسترس نیستم")
    data, first = await neda.button_data("برگشتم")
    reply = await neda.press("برگشتم")
    assert "دوباره خوش آمدید" in reply.text

    machine.travel_to(due + timedelta(days=1, minutes=1))
    await eventually(lambda: prompts_are(neda, 2))
    await neda.press("در دسترس نیستم")
    reply = await neda.tap(data, first)  # the first «I'm back», whose buttons are gone
    assert "دوباره خوش آمدید" in reply.text
    assert (await stored(sessions, neda)).away_since is None


async def test_an_away_period_ends_on_the_day_typed_and_check_ins_resume_on_their_own(
    staff, resident, bot: BotProcess, sessions
) -> None:
    await staff()
    neda = await resident("ندا")
    due = await group_with_checkin(sessions, [neda], daily=True)
    machine = TimeMachine()
    await round_asked(machine, due, neda, "پرسش ۱ از ۳")
    await neda.press("در دسترس نیستم")
    reply = await neda.press("تا روزی که تعیین می‌کنم")
    assert "کدام روز برمی‌گردید" in reply.text

    reply = await neda.send("پس‌فردا")
    assert "لطفاً تاریخ را این‌طور بنویسید" in reply.text
    reply = await neda.send("۱۴۰۵/۱۲/۳۰")  # not a leap year: no such day
    assert "چنین روزی در تقویم نیست" in reply.text
    today = due.astimezone(TEHRAN).date()
    past = JalaliDate(today - timedelta(days=2)).strftime("%Y/%m/%d")
    reply = await neda.send(fmt.localize_digits(past, "fa"))
    assert "روزی بعد از امروز" in reply.text
    assert (await stored(sessions, neda)).away_until is None

    back_on = today + timedelta(days=3)
    typed = fmt.localize_digits(JalaliDate(back_on).strftime("%Y/%m/%d"), "fa")
    reply = await neda.send(typed)
    assert f"تا {fmt.day(back_on, 'fa')}" in reply.text
    assert "برگشتم" in buttons(reply.messages[-1])
    until = (await stored(sessions, neda)).away_until
    assert until == datetime.combine(back_on, time(0), TEHRAN)
    reply = await neda.send("/mycheckins")
    assert f"تا {fmt.day(back_on, 'fa')}" in reply.text

    machine.travel_to(due + timedelta(days=2, minutes=1))
    await asyncio.sleep(1.5)
    assert await prompts(neda) == 1  # still away
    machine.travel_to(due + timedelta(days=3, minutes=1))
    await eventually(lambda: prompts_are(neda, 2))  # back on the day she named
    assert (await stored(sessions, neda)).away_since is None


async def test_away_for_a_week_in_english_and_a_gregorian_date(
    staff, resident, bot: BotProcess, sessions
) -> None:
    await staff()
    sara = await resident("Sara", "en", "English")
    await sara.send("/away")
    reply = await sara.press("For a week")
    week = clock.now().astimezone(TEHRAN).date() + timedelta(days=7)
    assert f"until {fmt.day(week, 'en')}" in reply.text
    assert (await stored(sessions, sara)).away_until == datetime.combine(week, time(0), TEHRAN)

    await sara.send("/away")
    await sara.press("Until a day I type")
    later = clock.now().astimezone(TEHRAN).date() + timedelta(days=20)
    reply = await sara.send(later.isoformat())
    assert f"until {fmt.day(later, 'en')}" in reply.text
    assert "\u200f" not in plain(reply.messages[-1])

    await sara.press("Until a day I type")
    await sara.press("I'm back")  # she settles it with a button instead
    await sara.send(later.isoformat())
    assert (await stored(sessions, sara)).away_since is None


async def test_going_away_from_the_away_card_skips_the_open_round_and_keeps_its_end(
    staff, resident, bot: BotProcess, sessions
) -> None:
    await staff()
    neda = await resident("ندا")
    due = await group_with_checkin(sessions, [neda])
    await round_asked(TimeMachine(), due, neda, "پرسش ۱ از ۳")
    await neda.send("/away")
    await neda.press("یک هفته")
    async with sessions() as session:
        assert await session.scalar(select(CheckinParticipant.status)) == Participation.AWAY
    until = (await stored(sessions, neda)).away_until
    assert until is not None

    reply = await neda.press("در دسترس نیستم")  # still under the question
    assert (await stored(sessions, neda)).away_until == until
    assert f"تا {fmt.day(until, 'fa')}" in reply.text
