"""Who an audience is (the README's table "Audiences"), and the preview saying so: how many
under each role, and their names on request while the audience is small."""

from __future__ import annotations

from sqlalchemy import select

from bot.delivery.models import Delivery
from tests.e2e.crowd import seed_residents, wait_until_announced
from tests.e2e.harness import BotProcess, buttons, plain
from tests.e2e.test_announcements import compose
from tests.e2e.test_groups import create_group


async def test_residents_are_everyone_but_staff_however_they_joined(
    staff, resident, person, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()  # started the bot like a resident, then was made staff
    maryam = await resident("مریم")
    john = await resident("John", "en", "English")
    code = await create_group(reza, "کارگروه فضای سبز", "Green spaces")
    sara = await person("Sara", "en")
    await sara.send(f"/start {code}")  # a member through the invite link
    await sara.press("English")
    await sara.press("✅ I agree")

    await compose(reza)
    reply = await reza.press("ساکنان")
    assert "برای ۳ نفر فرستاده می‌شود" in reply.text
    [shown] = [m for m in reply.messages if "👥" in plain(m)]
    assert "ساکنان: ۳ نفر" in plain(shown)
    assert "• ۲ ساکن" in plain(shown) and "• ۱ عضو کارگروه" in plain(shown)
    assert "کارکنان" not in plain(shown)
    assert "👥 نمایش نام‌ها" in buttons(shown)

    reply = await reza.press("👥 نمایش نام‌ها")
    assert "• ۲ ساکن: John، مریم" in reply.text
    assert "• ۱ عضو کارگروه: Sara" in reply.text
    assert "رضا" not in reply.text

    await reza.press("✅ ارسال فوری")
    await wait_until_announced(sessions, 1)
    async with sessions() as session:
        reached = set(
            await session.scalars(select(Delivery.chat_id).where(Delivery.batch.is_not(None)))
        )
    assert reached == {maryam.user_id, john.user_id, sara.user_id}

    await compose(reza)
    reply = await reza.press("همه")
    assert "همه: ۴ نفر" in reply.text and "• ۱ کارمند سازمان پشتیبان" in reply.text


async def test_a_large_audience_is_counted_but_not_listed(staff, bot: BotProcess, sessions, client):
    reza = await staff()
    await seed_residents(sessions, client, 31)
    await compose(reza)
    reply = await reza.press("ساکنان")
    assert "ساکنان: ۳۱ نفر" in reply.text
    assert not any("نام‌ها" in label for m in reply.messages for label in buttons(m))
