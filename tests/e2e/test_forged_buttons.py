"""Button presses Telegram would never send are refused and change nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.groups.models import Group, Membership
from bot.people.models import Person as PersonRow


async def test_malformed_and_unknown_callback_data(resident, session) -> None:
    maryam = await resident()
    message_id = (await maryam.last())["message_id"]
    for data in (
        "",
        "zzz",
        "lang",
        "lang:xx",
        "lang:fa:extra",
        "grp:open:abc",
        "consent:1:2",
        "forget:maybe",
        "menu",
        "\u202eevil",
        "x" * 64,
    ):
        reply = await maryam.tap(data, message_id)
        assert reply.answer is not None, data
        assert reply.answer["text"] in (
            "این دکمه دیگر کار نمی‌کند.",
            "این کار فقط در اختیار کارکنان سازمان پشتیبان است.",
        ), data
    session.expire_all()
    row = await session.scalar(select(PersonRow).where(PersonRow.telegram_id == maryam.user_id))
    assert row is not None and row.language == "fa" and row.forgotten_at is None


async def test_a_button_from_someone_elses_chat_is_refused(resident, session) -> None:
    maryam = await resident()
    neda = await resident("ندا")
    await maryam.send("/forget")
    data, message_id = await maryam.button_data("🗑 بله، اطلاعاتم پاک شود")
    reply = await neda.tap(data, message_id, chat_id=maryam.chat_id)
    assert reply.answer and reply.answer["text"] == "این دکمه برای شما نیست."
    session.expire_all()
    forgotten = await session.scalar(
        select(func.count()).select_from(PersonRow).where(PersonRow.forgotten_at.is_not(None))
    )
    assert forgotten == 0


async def test_stale_buttons_are_refused(staff, resident, session) -> None:
    reza = await staff()
    await reza.send("/groups")
    data, message_id = await reza.button_data("➕ کارگروه تازه")
    # A group that does not exist (never did, or a button from another database).
    reply = await reza.tap("grp:open:999", message_id)
    assert reply.answer and reply.answer["text"] == "این گروه دیگر وجود ندارد."
    reply = await reza.tap("grpm:999:1", message_id)
    assert reply.answer is not None
    # A consent button pressed again changes nothing.
    maryam = await resident()
    agreed_at = await session.scalar(
        select(PersonRow.consented_at).where(PersonRow.telegram_id == maryam.user_id)
    )
    reply = await maryam.tap("consent", (await maryam.last())["message_id"])
    assert "همه‌چیز آماده است" in reply.text
    session.expire_all()
    assert (
        await session.scalar(
            select(PersonRow.consented_at).where(PersonRow.telegram_id == maryam.user_id)
        )
        == agreed_at
    )
    assert await session.scalar(select(func.count()).select_from(Group)) == 0
    assert await session.scalar(select(func.count()).select_from(Membership)) == 0
    assert data.startswith("grp:")


async def test_an_old_button_after_forget_does_not_bring_the_person_back(resident, session) -> None:
    maryam = await resident()
    await maryam.send("/language")
    data, message_id = await maryam.button_data("English")
    await maryam.send("/forget")
    await maryam.press("🗑 بله، اطلاعاتم پاک شود")
    reply = await maryam.tap(data, message_id)
    assert reply.answer and "/start" in reply.answer["text"]
    session.expire_all()
    rows = (await session.scalars(select(PersonRow))).all()
    assert len(rows) == 1 and rows[0].telegram_id is None and rows[0].language is None
