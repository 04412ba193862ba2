"""Backbone staff removing staff from the bot: one confirmation, and never the last one who can
still use the bot (only the shell can do that, for recovery)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.people.models import Person as PersonRow
from bot.people.models import Role
from tests.e2e.harness import granted


async def is_staff(session: AsyncSession, telegram_id: int) -> bool:
    session.expire_all()
    row = await session.scalar(select(PersonRow).where(PersonRow.telegram_id == telegram_id))
    return row is not None and Role.STAFF in list(await session.scalars(granted(row)))


async def test_the_only_staff_member_who_started_the_bot_cannot_remove_themselves(
    staff, session
) -> None:
    reza = await staff()
    await reza.send("/staff")
    await reza.press("➕ افزودن کارمند")
    await reza.send("424242")  # staff who never started the bot
    reply = await reza.press("✖ رضا")
    assert "تنها کارمندی هستید که ربات را شروع کرده" in reply.text
    assert await is_staff(session, reza.user_id)
    assert await is_staff(session, 424242)


async def test_removing_a_staff_member_asks_first_and_its_buttons_cannot_be_replayed(
    staff, session
) -> None:
    reza, mina = await staff("رضا"), await staff("مینا")
    await reza.send("/staff")
    reply = await reza.press("✖ مینا")
    assert "مینا از کارکنان سازمان پشتیبان حذف شود؟" in reply.text
    assert await is_staff(session, mina.user_id)
    yes, message_id = await reza.button_data("✔ بله، حذف شود")

    reply = await reza.press("لغو")
    assert reply.answer and "چیزی تغییر نکرد" in reply.answer["text"]
    assert await is_staff(session, mina.user_id)
    replayed = await reza.tap(yes, message_id)  # the question was answered: its button is spent
    assert replayed.answer and replayed.answer["text"] == "این دکمه دیگر کار نمی‌کند."
    assert await is_staff(session, mina.user_id)

    await reza.send("/staff")
    await reza.press("✖ مینا")
    forged_data, message_id = await reza.button_data("✔ بله، حذف شود")
    guessed = forged_data[:-1] + ("1" if forged_data.endswith("0") else "0")
    forged = await reza.tap(guessed, message_id)
    assert forged.answer and forged.answer["text"] == "این دکمه دیگر کار نمی‌کند."
    assert await is_staff(session, mina.user_id)

    reply = await reza.press("✔ بله، حذف شود")
    assert reply.answer and "حذف شد" in reply.answer["text"]
    assert not await is_staff(session, mina.user_id)
    reply = await mina.send("/groups")
    assert "در اختیار کارکنان سازمان پشتیبان است" in reply.text

    await reza.send("/staff")
    await reza.press("➕ افزودن کارمند")
    await reza.send(str(mina.user_id))  # back on the staff: the old «yes» must not undo that
    replayed = await reza.tap(forged_data, message_id)
    assert replayed.answer and replayed.answer["text"] == "این دکمه دیگر کار نمی‌کند."
    assert await is_staff(session, mina.user_id)


async def test_staff_can_remove_themselves_while_another_who_started_the_bot_remains(
    staff, session
) -> None:
    reza, john = await staff("رضا"), await staff("John", "English")
    await john.send("/staff")
    reply = await john.press("✖ John")
    assert "Remove John from the backbone staff?" in reply.text
    reply = await john.press("✔ Yes, remove")
    assert reply.answer and "Removed" in reply.answer["text"]
    assert not await is_staff(session, john.user_id)
    assert await is_staff(session, reza.user_id)
    # Now reza is the last one who started the bot: the same refusal, in Persian.
    await reza.send("/staff")
    reply = await reza.press("✖ رضا")
    assert "تنها کارمندی هستید" in reply.text
