"""A resident's first minutes with Hamgam, in Persian and in English."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n.format import LRM, RLM
from bot.people.models import Person as PersonRow
from bot.people.models import PersonRole, Role
from tests.e2e.harness import BotProcess, buttons, granted, plain


async def stored(session: AsyncSession, telegram_id: int) -> PersonRow | None:
    session.expire_all()
    return await session.scalar(select(PersonRow).where(PersonRow.telegram_id == telegram_id))


async def test_maryam_starts_in_persian_then_switches_to_english(person, session) -> None:
    maryam = await person("مریم", "fa")

    reply = await maryam.send("/start")
    prompt = reply.messages[-1]
    assert "لطفاً زبان خود را انتخاب کنید" in plain(prompt)
    assert buttons(prompt) == ["فارسی", "English"]

    reply = await maryam.press("فارسی")
    assert "زبان: فارسی ✓" in reply.texts[0]
    welcome = reply.messages[-1]
    assert "به همگام خوش آمدید" in plain(welcome)
    assert "حریم خصوصی" in plain(welcome)
    assert buttons(welcome) == ["✅ موافقم"]

    reply = await maryam.press("✅ موافقم")
    assert "همه‌چیز آماده است" in reply.text
    assert "❓ راهنما" in buttons(reply.messages[-1])
    assert "👥 گروه‌ها" not in buttons(reply.messages[-1])  # not staff

    row = await stored(session, maryam.user_id)
    assert row is not None and row.language == "fa" and row.consented_at is not None
    assert list(await session.scalars(granted(row))) == [Role.RESIDENT]

    await maryam.send("/language")
    reply = await maryam.press("English")
    assert "I will speak English with you" in reply.text
    reply = await maryam.send("/help")
    assert "What I can do for you" in reply.text
    assert (await stored(session, maryam.user_id)).language == "en"


async def test_john_starts_in_english(person, session) -> None:
    john = await person("John", "en-GB")
    reply = await john.send("/start")
    assert "Please choose your language" in reply.text
    reply = await john.press("English")
    assert "Welcome to Hamgam" in reply.text
    reply = await john.press("✅ I agree")
    assert "You're all set" in reply.text
    assert "❓ Help" in buttons(reply.messages[-1])
    reply = await john.send("/language")
    reply = await john.press("فارسی")
    assert "از این پس با شما فارسی صحبت می‌کنم" in reply.text


async def test_persian_is_the_default_for_other_languages(person) -> None:
    hans = await person("Hans", "de")
    reply = await hans.send("/start")
    assert "لطفاً زبان خود را انتخاب کنید" in reply.text
    nobody = await person("Someone", None)
    assert "لطفاً زبان خود را انتخاب کنید" in (await nobody.send("/start")).text


async def test_lines_starting_left_to_right_are_marked_in_persian(resident) -> None:
    maryam = await resident()
    reply = await maryam.send("/help")
    raw_lines = reply.messages[-1]["text"].split("\n")
    command_lines = [line for line in raw_lines if "/start" in line or "/help" in line]
    # RLM for the line's direction, LRM to keep the command whole (RLM alone shows «start/»)
    assert command_lines and all(line.startswith(RLM + LRM + "/") for line in command_lines)


async def test_a_restart_mid_onboarding_resumes_where_the_person_was(
    person, bot: BotProcess, session
) -> None:
    maryam = await person()
    await maryam.send("/start")
    await bot.restart()
    reply = await maryam.press("فارسی")
    assert "به همگام خوش آمدید" in reply.text
    await bot.restart()
    reply = await maryam.send("سلام")  # typing instead of pressing: shown the note again
    assert buttons(reply.messages[-1]) == ["✅ موافقم"]
    await bot.restart()
    reply = await maryam.press("✅ موافقم")
    assert "همه‌چیز آماده است" in reply.text
    row = await stored(session, maryam.user_id)
    assert row is not None and row.consented_at is not None


async def test_stop_then_start_again(resident, session) -> None:
    maryam = await resident()
    reply = await maryam.send("/stop")
    assert "/start" in reply.text
    assert (await stored(session, maryam.user_id)).opted_out_at is not None
    reply = await maryam.send("/start")
    assert "دوباره پیام‌های همگام را دریافت می‌کنید" in reply.text
    assert (await stored(session, maryam.user_id)).opted_out_at is None


async def test_forget_deletes_personal_data_after_confirmation(resident, session) -> None:
    maryam = await resident()
    await maryam.send("/forget")
    reply = await maryam.press("لغو")
    assert "چیزی پاک نشد" in reply.text
    assert await stored(session, maryam.user_id) is not None

    await maryam.send("/forget")
    reply = await maryam.press("🗑 بله، اطلاعاتم پاک شود")
    assert "اطلاعات شخصی شما پاک شد" in reply.text
    assert await stored(session, maryam.user_id) is None
    forgotten = (
        await session.scalars(select(PersonRow).where(PersonRow.forgotten_at.is_not(None)))
    ).all()
    assert len(forgotten) == 1
    assert forgotten[0].display_name is None and forgotten[0].telegram_id is None
    roles = await session.scalars(select(PersonRole).where(PersonRole.person_id == forgotten[0].id))
    assert roles.all() == []

    reply = await maryam.send("/start")
    assert "لطفاً زبان خود را انتخاب کنید" in reply.text  # a new person


@pytest.mark.parametrize(
    "settings_overrides",
    [{"throttle_rate": 1000.0, "throttle_burst": 1000, "anonymous_min_responses": 7}],
)
async def test_the_privacy_note_states_the_anonymity_the_initiative_set(resident) -> None:
    maryam = await resident("مریم", "fa")
    note = (await maryam.send("/privacy")).text
    assert "دست‌کم ۶ نفر دیگر" in note and "دست‌کم ۷ پاسخ" in note

    await maryam.send("/language")
    await maryam.press("English")
    note = (await maryam.send("/privacy")).text
    assert "at least 6 other people's" in note and "at least 7 answers" in note
