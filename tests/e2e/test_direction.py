"""The right-to-left mark goes only where the reader reads right to left: an English reader gets
none, by either transport, and a group chat's English half of a bilingual message gets none."""

from __future__ import annotations

import pytest

from bot.i18n.format import RLM
from tests.e2e.harness import BotProcess, inbox_has, plain
from tests.e2e.test_surveys import NEIGHBOURHOOD
from tests.e2e.timeline import (
    TimeMachine,
    after_closing,
    eventually,
    group_with_checkin,
    round_asked,
)


def marked(messages: list[dict]) -> list[str]:
    """The lines of these messages that begin with a right-to-left mark."""
    return [
        line
        for message in messages
        for line in str(message.get("text") or message.get("caption") or "").split("\n")
        if line.startswith(RLM)
    ]


@pytest.mark.parametrize("transport", ["polling", "webhook"], indirect=True)
async def test_an_english_reader_answers_a_survey_without_a_right_to_left_mark(
    resident, bot: BotProcess, sessions
) -> None:
    from tests.e2e.timeline import survey_open_now

    sara = await resident("Sara", "en", "English")
    await survey_open_now(sessions, NEIGHBOURHOOD)
    await eventually(lambda: inbox_has(sara, "Neighbourhood survey"))
    replies = [await sara.press("▶️ Start")]
    replies.append(await sara.press("North"))
    await sara.press("☐ Park")
    replies.append(await sara.press("✔️ Done"))
    replies.append(await sara.press("4"))
    replies.append(await sara.send("thirty"))  # refused, with a hint
    replies.append(await sara.send("34"))
    replies.append(await sara.press("Skip ⏭"))
    replies.append(await sara.send("yes"))
    assert "Your answers are saved" in replies[-1].text
    sent = [message for reply in replies for message in reply.messages]
    assert len(sent) >= 8 and marked(sent) == []
    assert marked(await sara.inbox()) == []


async def test_a_group_chat_gets_the_mark_in_the_persian_half_only(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    sara = await resident("Sara", "en", "English")
    chat = await client.create_chat("کارگروه سبز", "supergroup")
    await client.set_bot_status(chat["id"], by_user_id=reza.user_id, status="administrator")
    due = await group_with_checkin(sessions, [maryam, sara], chat_id=chat["id"])
    machine = TimeMachine()
    await round_asked(machine, due, sara, "question 1 of 3")
    for answer in ("Planted 12 trees", "More trees", "No"):
        await sara.send(answer)

    machine.travel_to(after_closing(due))
    await eventually(lambda: inbox_has(reza, "نفر پاسخ دادند"))
    await eventually(lambda: _posted_has(client, chat["id"], "Check-in of Green"))
    posted = [m for m in await client.messages(chat["id"], sender="bot") if "Green" in plain(m)]
    text = "\n".join(str(message.get("text")) for message in posted)
    persian, english = text.split("— — —")
    assert any(line.startswith(RLM + "• Sara") for line in persian.split("\n"))  # a Latin name
    assert "Sara" in english and RLM not in english
    assert marked(await sara.inbox()) == []


async def _posted_has(client, chat_id: int, text: str) -> bool:
    return any(text in plain(message) for message in await client.messages(chat_id, sender="bot"))
