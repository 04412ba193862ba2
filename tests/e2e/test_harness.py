"""The people tests act as can do what a person does in Telegram, polls included."""

from __future__ import annotations

from tests.e2e.harness import BotProcess


async def test_a_person_votes_in_a_poll_the_bot_sent(resident, bot: BotProcess) -> None:
    maryam = await resident()
    assert bot.app is not None
    await bot.app.bot.send_poll(maryam.chat_id, "کدام روز؟", ["شنبه", "یکشنبه"], is_anonymous=False)
    await maryam.vote("کدام روز؟", "یکشنبه")
    poll = (await maryam.last())["poll"]
    assert [option["voter_count"] for option in poll["options"]] == [0, 1]
    assert bot.app.failures == []
