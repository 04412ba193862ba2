"""A working group's check-in round: prompts, answers in Persian digits, a reminder to the one
who did not answer, the window closing, and the summary in both languages."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from persiantools.jdatetime import JalaliDate
from sqlalchemy import select

from bot import clock
from bot.checkins import service as checkins
from bot.checkins.models import CheckinAnswer, CheckinRound, RoundStatus
from bot.checkins.questions import Kind, Question
from bot.db import transaction
from bot.i18n import format as fmt
from bot.i18n.format import TEHRAN
from tests.e2e.conftest import onboard
from tests.e2e.harness import BotProcess, Person, buttons, inbox_has, plain
from tests.e2e.timeline import (
    TimeMachine,
    after_closing,
    eventually,
    group_with_checkin,
    round_asked,
)


async def prompts_are(someone: Person, count: int) -> bool:
    return await prompts(someone) == count


async def prompts(someone: Person) -> int:
    """How many rounds have asked this person their first question."""
    return sum(
        "پرسش ۱ از" in plain(m) or "question 1 of" in plain(m) for m in await someone.inbox()
    )


async def test_a_restart_across_the_due_time_starts_the_round_once(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    await staff()
    maryam = await resident("مریم")
    due = await group_with_checkin(sessions, [maryam])
    machine = TimeMachine()
    await bot.stop()
    machine.travel_to(due + timedelta(hours=2))  # the bot was down at the due time
    await bot.start()
    await eventually(lambda: inbox_has(maryam, "پرسش ۱ از ۳"))
    await bot.restart()
    await bot.restart()
    await asyncio.sleep(1.5)  # two ticks of the clock after the restarts
    assert await prompts(maryam) == 1
    async with sessions() as session:
        assert len((await session.scalars(select(CheckinRound))).all()) == 1


async def test_away_paused_and_skipped_rounds_send_nothing(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    await staff()
    maryam = await resident("مریم")
    neda = await resident("ندا")
    tomorrow = (clock.now() + timedelta(days=1, hours=1)).astimezone(TEHRAN).date()
    due = await group_with_checkin(sessions, [maryam, neda], daily=True, skip=frozenset({tomorrow}))
    machine = TimeMachine()
    await round_asked(machine, due, neda, "پرسش ۱ از ۳")
    reply = await neda.press("در دسترس نیستم")
    assert "تا «برگشتم» را نزنید" in reply.text

    machine.travel_to(due + timedelta(days=1, minutes=1))  # tomorrow is skipped (a holiday)
    await asyncio.sleep(1.5)
    machine.travel_to(due + timedelta(days=2, minutes=1))
    await eventually(lambda: prompts_are(maryam, 2))
    assert await prompts(neda) == 1  # away: not asked again

    await neda.press("برگشتم")
    async with transaction(sessions) as session:
        await checkins.set_paused(session, 1, True, None)
    machine.travel_to(due + timedelta(days=3, minutes=1))
    await asyncio.sleep(1.5)
    assert await prompts(maryam) == 2  # paused: nothing
    async with transaction(sessions) as session:
        await checkins.set_paused(session, 1, False, None)
    machine.travel_to(due + timedelta(days=4, minutes=1))
    await eventually(lambda: prompts_are(neda, 2))  # back, and resumed
    async with sessions() as session:
        assert len((await session.scalars(select(CheckinRound))).all()) == 3


async def test_a_full_round(staff, resident, bot: BotProcess, client, sessions) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    sara = await resident("Sara", "en", "English")
    chat = await client.create_chat("کارگروه سبز", "supergroup")
    await client.set_bot_status(chat["id"], by_user_id=reza.user_id, status="administrator")
    due = await group_with_checkin(sessions, [maryam, sara], chat_id=chat["id"])
    machine = TimeMachine()

    await round_asked(machine, due, maryam, "پرسش ۱ از ۳")
    await eventually(lambda: inbox_has(sara, "question 1 of 3"))
    assert await inbox_has(maryam, "این هفته چه کردید؟")
    assert await inbox_has(sara, "What did your group do this week?")

    reply = await maryam.send("سه جلسه با شهرداری و ۱۲ نهال کاشتیم")
    assert "پرسش ۲ از ۳" in reply.text and "قدم بعدی چیست؟" in reply.text
    await maryam.send("کاشت ۲۰ نهال دیگر")
    reply = await maryam.send("نه")
    assert "پاسخ‌هایتان ذخیره شد" in reply.text
    reply = await maryam.send("/mycheckins")
    assert "کاشت ۲۰ نهال دیگر" in reply.text and "باز است" in reply.text
    reply = await maryam.press("✏️ تغییر پاسخ‌هایم: کارگروه سبز")
    assert "پرسش ۱ از ۳" in reply.text
    await maryam.send("سه جلسه با شهرداری و ۱۲ نهال کاشتیم")
    await maryam.send("کاشت ۲۵ نهال دیگر")
    await maryam.send("نه")

    machine.travel_to(due + timedelta(minutes=61))
    await eventually(lambda: inbox_has(sara, "A reminder"))
    assert not await inbox_has(maryam, "⏰")

    machine.travel_to(after_closing(due))
    await eventually(lambda: inbox_has(reza, "نفر پاسخ دادند"))
    summary = next(plain(m) for m in await reza.inbox() if "نفر پاسخ دادند" in plain(m))
    assert "پیگیری دوره‌ای کارگروه سبز" in summary
    assert "۱ نفر از ۲ نفر" in summary and "۵۰٪" in summary
    assert "Sara" in summary and "۱۲ نهال" in summary
    posted = plain((await client.messages(chat["id"], sender="bot"))[-1])
    assert "پیگیری دوره‌ای کارگروه سبز" in posted and "Check-in of Green" in posted

    reply = await sara.press("No update this time")
    assert reply.answer and reply.answer["text"] == "This check-in round has closed."
    async with sessions() as session:
        rounds = (await session.scalars(select(CheckinRound))).all()
        answers = (await session.scalars(select(CheckinAnswer))).all()
    assert [r.status for r in rounds] == [RoundStatus.CLOSED], [
        (r.due_at.isoformat(), r.closes_at.isoformat()) for r in rounds
    ]
    assert len(answers) == 3
    assert "کاشت ۲۵ نهال دیگر" in [answer.value for answer in answers]  # the changed answer


async def test_bad_answers_to_a_number_question_are_asked_again(
    staff, resident, bot: BotProcess, sessions
) -> None:
    await staff()
    maryam = await resident("مریم")
    due = await group_with_checkin(
        sessions,
        [maryam],
        questions=(Question({"fa": "چند نفر آمدند؟", "en": "How many came?"}, Kind.NUMBER),),
    )
    await round_asked(TimeMachine(), due, maryam, "چند نفر آمدند؟")
    for typed in ("بیست", "۱" * 5000, "12a"):
        reply = await maryam.send(typed)
        assert "لطفاً با یک عدد پاسخ دهید" in reply.text
    reply = await maryam.send("٢٣")
    assert "پاسخ‌هایتان ذخیره شد" in reply.text
    async with sessions() as session:
        answer = await session.scalar(select(CheckinAnswer))
    assert answer is not None and answer.value == "23"


async def test_choice_and_scale_questions(staff, resident, bot: BotProcess, sessions) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    questions = (
        Question(
            {"fa": "جلسهٔ بعد کجا باشد؟", "en": "Where should we meet next?"},
            Kind.CHOICE,
            ({"fa": "مسجد محله", "en": "The mosque"}, {"fa": "مدرسه", "en": "The school"}),
        ),
        Question({"fa": "این هفته چطور گذشت؟", "en": "How did this week go?"}, Kind.SCALE),
    )
    due = await group_with_checkin(sessions, [maryam], questions=questions)
    machine = TimeMachine()
    await round_asked(machine, due, maryam, "جلسهٔ بعد کجا باشد؟")
    reply = await maryam.send("مدرسه")  # typed, not pressed
    assert "یکی از دکمه‌ها" in reply.text
    reply = await maryam.press("مدرسه")
    assert "این هفته چطور گذشت؟" in reply.text
    reply = await maryam.send("۹")
    assert "یکی از دکمه‌ها" in reply.text
    reply = await maryam.send("۴")
    assert "پاسخ‌هایتان ذخیره شد" in reply.text
    machine.travel_to(after_closing(due))
    await eventually(lambda: inbox_has(reza, "نفر پاسخ دادند"))
    summary = next(plain(m) for m in await reza.inbox() if "نفر پاسخ دادند" in plain(m))
    assert "مریم: مدرسه" in summary and "مریم: ۴" in summary


async def test_a_check_in_kept_in_another_time_zone(staff, resident, bot: BotProcess, sessions):
    """A group that meets abroad keeps its check-in in its own zone; the reminder names the
    closing time in that zone too."""
    await staff()
    sara = await resident("Sara", "en", "English")
    berlin = ZoneInfo("Europe/Berlin")
    due = await group_with_checkin(sessions, [sara], zone=berlin)
    async with sessions() as session:
        from bot.checkins.models import Checkin

        checkin = await session.scalar(select(Checkin))
    assert checkin is not None
    assert checkin.schedule["timezone"] == "Europe/Berlin"
    assert checkin.schedule["at"] == due.astimezone(berlin).strftime("%H:%M")
    machine = TimeMachine()
    machine.travel_to(due - timedelta(minutes=1))
    await asyncio.sleep(1.5)
    assert not await inbox_has(sara, "question 1 of 3")  # not yet, in Berlin time
    await round_asked(machine, due, sara, "question 1 of 3")
    machine.travel_to(due + timedelta(minutes=61))
    await eventually(lambda: inbox_has(sara, "A reminder"))
    reminder = next(plain(m) for m in await sara.inbox() if "A reminder" in plain(m))
    assert "20:00" in reminder  # 20:00 the next day, Berlin time


async def test_the_week_that_crosses_the_persian_new_year(
    staff, resident, bot: BotProcess, sessions
) -> None:
    """A Thursday check-in from Esfand 1405 into Farvardin 1406, with the Nowruz holidays
    skipped: the rounds fall on the right days and the summaries name them in Jalali."""
    reza = await staff()
    maryam = await resident("مریم")
    machine = TimeMachine()
    esfand_27 = JalaliDate(1405, 12, 27).to_gregorian()  # a Thursday
    machine.travel_to(datetime.combine(esfand_27, time(10, 0), TEHRAN))
    nowruz = frozenset(JalaliDate(1406, 1, day).to_gregorian() for day in range(1, 8))
    due = await group_with_checkin(sessions, [maryam], skip=nowruz)

    machine.travel_to(due + timedelta(minutes=1))
    await eventually(lambda: prompts_are(maryam, 1))
    for answer in ("پاکسازی پارک", "جشن نوروز", "نه"):
        await maryam.send(answer)
    machine.travel_to(due + timedelta(days=7, minutes=1))  # ۵ فروردین: a holiday
    await eventually(lambda: inbox_has(reza, "۲۷ اسفند ۱۴۰۵"))
    await asyncio.sleep(1.5)
    assert await prompts(maryam) == 1
    machine.travel_to(due + timedelta(days=14, minutes=1))  # ۱۲ فروردین ۱۴۰۶
    await eventually(lambda: prompts_are(maryam, 2))
    await maryam.press("این بار خبر تازه‌ای ندارم")
    machine.travel_to(due + timedelta(days=15, hours=12))
    await eventually(lambda: inbox_has(reza, "۱۲ فروردین ۱۴۰۶"))
    summary = next(plain(m) for m in await reza.inbox() if "۱۲ فروردین ۱۴۰۶" in plain(m))
    assert "در نوبت قبل ۱۰۰٪ پاسخ داده بودند" in summary
    async with sessions() as session:
        days = [
            JalaliDate(round_.due_at.astimezone(TEHRAN).date()).strftime("%Y/%m/%d")
            for round_ in await session.scalars(select(CheckinRound).order_by(CheckinRound.due_at))
        ]
    assert days == ["1405/12/27", "1406/01/12"]


async def summary_of(reza: Person) -> str:
    await eventually(lambda: inbox_has(reza, "نفر پاسخ دادند"))
    return next(plain(m) for m in await reza.inbox() if "نفر پاسخ دادند" in plain(m))


async def test_two_members_with_one_name_are_two_people_in_the_summary(
    staff, person, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    ali = await onboard(
        await Person(bot.client, 7001, "علی", username="ali_tehrani").join_telegram()
    )
    other_ali = await onboard(await person("علی"))
    due = await group_with_checkin(sessions, [ali, other_ali])
    machine = TimeMachine()
    await round_asked(machine, due, ali, "پرسش ۱ از ۳")
    for answer in ("دیوارنگاری مدرسه", "رنگ خریدن", "نه"):
        await ali.send(answer)

    machine.travel_to(after_closing(due))
    summary = await summary_of(reza)
    assert "۱ نفر از ۲ نفر" in summary and "۵۰٪" in summary
    assert "پاسخ ندادند: علی (۲)" in summary
    assert f"• علی ({fmt.LRM}@ali_tehrani): دیوارنگاری مدرسه" in summary  # not «ali_tehrani@»
    assert summary.count("دیوارنگاری مدرسه") == 1


async def test_a_silent_member_who_takes_the_name_of_one_who_answered_stays_not_answered(
    staff, person, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    ali = await onboard(await person("علی"))
    hamid = await onboard(await person("حمید"))
    due = await group_with_checkin(sessions, [ali, hamid])
    machine = TimeMachine()
    await round_asked(machine, due, ali, "پرسش ۱ از ۳")
    for answer in ("دیوارنگاری مدرسه", "رنگ خریدن", "نه"):
        await ali.send(answer)
    await client.add_user(hamid.user_id, "علی")  # Hamid renames himself on Telegram
    await hamid.send("/mycheckins")

    machine.travel_to(after_closing(due))
    summary = await summary_of(reza)
    assert "۱ نفر از ۲ نفر" in summary
    assert "پاسخ ندادند: علی (۲)" in summary
    assert "• علی (۱): دیوارنگاری مدرسه" in summary


CHOICE_NUMBER_SCALE = (
    Question(
        {"fa": "جلسهٔ بعد کجا باشد؟", "en": "Where should we meet next?"},
        Kind.CHOICE,
        ({"fa": "مسجد محله", "en": "The mosque"}, {"fa": "مدرسه", "en": "The school"}),
    ),
    Question({"fa": "چند نهال کاشتید؟", "en": "How many saplings?"}, Kind.NUMBER),
    Question({"fa": "این هفته چطور گذشت؟", "en": "How did this week go?"}, Kind.SCALE),
)


async def test_mycheckins_shows_a_choice_by_its_label_and_numbers_in_persian_digits(
    staff, resident, bot: BotProcess, sessions
) -> None:
    await staff()
    maryam = await resident("مریم")
    due = await group_with_checkin(sessions, [maryam], questions=CHOICE_NUMBER_SCALE)
    await round_asked(TimeMachine(), due, maryam, "جلسهٔ بعد کجا باشد؟")
    await maryam.press("مدرسه")
    await maryam.send("1250.5")
    await maryam.press("۴")
    reply = await maryam.send("/mycheckins")
    assert "جلسهٔ بعد کجا باشد؟ مدرسه" in reply.text
    assert "چند نهال کاشتید؟ ۱٬۲۵۰٫۵" in reply.text
    assert "این هفته چطور گذشت؟ ۴" in reply.text


async def test_a_button_answer_is_shown_on_its_question_with_a_check_mark(
    staff, resident, bot: BotProcess, sessions
) -> None:
    await staff()
    maryam = await resident("مریم")
    due = await group_with_checkin(sessions, [maryam], questions=CHOICE_NUMBER_SCALE)
    await round_asked(TimeMachine(), due, maryam, "جلسهٔ بعد کجا باشد؟")
    question = await maryam.last()
    await maryam.press("مدرسه")
    edited = next(m for m in await maryam.inbox() if m["message_id"] == question["message_id"])
    assert "جلسهٔ بعد کجا باشد؟" in plain(edited) and "✓ مدرسه" in plain(edited)
    assert buttons(edited) == []
    await maryam.send("۱۲")
    question = await maryam.last()
    await maryam.press("۴")
    edited = next(m for m in await maryam.inbox() if m["message_id"] == question["message_id"])
    assert "✓ ۴" in plain(edited) and buttons(edited) == []


async def test_no_update_is_offered_before_the_first_answer_only(
    staff, resident, bot: BotProcess, sessions
) -> None:
    """«No update» means nothing to report: it has no answers. Once a member has begun
    answering, the rest of the round is theirs to finish (or to leave unanswered)."""
    reza = await staff()
    maryam = await resident("مریم")
    neda = await resident("ندا")
    due = await group_with_checkin(sessions, [maryam, neda])
    machine = TimeMachine()
    await round_asked(machine, due, maryam, "پرسش ۱ از ۳")
    # Neda's prompt too, so that it does not arrive among the replies to Maryam's answer.
    await eventually(lambda: inbox_has(neda, "پرسش ۱ از ۳"))
    assert "این بار خبر تازه‌ای ندارم" in buttons(await maryam.last())
    reply = await maryam.send("پاکسازی پارک")
    assert "پرسش ۲ از ۳" in reply.text
    assert "این بار خبر تازه‌ای ندارم" not in buttons(reply.messages[-1])
    assert "در دسترس نیستم" in buttons(reply.messages[-1])
    await maryam.send("جشن محله")
    reply = await maryam.press("این بار خبر تازه‌ای ندارم")  # still under the first question
    assert reply.answer and "پاسخ به این نوبت را شروع کرده‌اید" in reply.answer["text"]
    await maryam.send("نه")
    await neda.press("این بار خبر تازه‌ای ندارم")

    machine.travel_to(after_closing(due))
    summary = await summary_of(reza)
    assert "۲ نفر از ۲ نفر" in summary
    no_update = "خبر تازه‌ای نداشتند: ندا"
    assert no_update in summary and "ندا" not in summary.split(no_update, 1)[1]
    assert "• مریم: پاکسازی پارک" in summary


async def test_a_round_when_everyone_was_away_says_so_in_words(
    staff, resident, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    neda = await resident("ندا")
    due = await group_with_checkin(sessions, [maryam, neda], daily=True)
    machine = TimeMachine()
    machine.travel_to(due + timedelta(minutes=1))
    for someone in (maryam, neda):
        await eventually(lambda someone=someone: inbox_has(someone, "پرسش ۱ از ۳"))
        await someone.press("در دسترس نیستم")
    machine.travel_to(after_closing(due))
    summary = await summary_of_round(reza, due)
    assert "۰ از ۰" not in summary and "۰٪" not in summary
    assert "همه در دسترس نبودند" in summary
    assert "در دسترس نبودند: مریم، ندا" in summary

    # The next round starts while both are away: they are in its summary as away, not absent.
    following = due + timedelta(days=1)
    machine.travel_to(after_closing(following))
    summary = await summary_of_round(reza, following)
    assert "در دسترس نبودند: مریم، ندا" in summary
    assert await prompts(maryam) == 1


async def summary_of_round(reza: Person, due: datetime) -> str:
    day = fmt.day(due, "fa")

    async def posted() -> bool:
        return any("پیگیری دوره‌ای" in plain(m) and day in plain(m) for m in await reza.inbox())

    await eventually(posted)
    return next(
        plain(m) for m in await reza.inbox() if "پیگیری دوره‌ای" in plain(m) and day in plain(m)
    )
