"""Webhook mode: Telegram's secret token is required, and updates are handled as in polling."""

from __future__ import annotations

import aiohttp
import pytest

from bot.telegram.app import WEBHOOK_PATH
from tests.e2e.harness import BotProcess

pytestmark = pytest.mark.parametrize("transport", ["webhook"], indirect=True)


async def test_onboarding_over_a_webhook(person, bot: BotProcess, client) -> None:
    info = await client.webhook_info()
    assert info["url"].endswith(WEBHOOK_PATH)
    maryam = await person()
    reply = await maryam.send("/start")
    assert "لطفاً زبان خود را انتخاب کنید" in reply.text
    reply = await maryam.press("فارسی")
    assert "به همگام خوش آمدید" in reply.text


async def test_a_missing_or_wrong_secret_is_rejected(person, bot: BotProcess) -> None:
    maryam = await person()
    await maryam.send("/start")
    before = len(await maryam.inbox())
    settings = bot.settings
    url = f"http://127.0.0.1:{settings.webhook_listen_port}{WEBHOOK_PATH}"
    update = {
        "update_id": 10_000,
        "message": {
            "message_id": 10_000,
            "date": 0,
            "text": "/help",
            "chat": {"id": maryam.chat_id, "type": "private", "first_name": "مریم"},
            "from": {"id": maryam.user_id, "is_bot": False, "first_name": "مریم"},
        },
    }
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 401
        assert len(await maryam.inbox()) == before  # nothing was handled
        secret = {"X-Telegram-Bot-Api-Secret-Token": settings.webhook_secret_token}
        async with http.post(url, json=update, headers=secret) as response:
            assert response.status == 200
    assert len(await maryam.inbox()) == before + 1


async def test_survey_answers_are_replied_in_the_webhook_response(
    resident, bot: BotProcess, sessions
) -> None:
    """The next question goes back in the response to Telegram, after the answer is stored,
    with the same right-to-left care as any other message."""
    from bot.surveys.form import Form, Kind, Question
    from tests.e2e.timeline import eventually, survey_open_now

    maryam = await resident("مریم")
    form = Form(
        {"fa": "Neighbourhood survey", "en": "Neighbourhood survey"},
        tuple(Question(f"n{n}", Kind.NUMBER, {"fa": f"عدد {n}؟"}, required=True) for n in range(3)),
    )
    await survey_open_now(sessions, form, days=1)

    async def invited() -> bool:
        return any("Neighbourhood survey" in str(m.get("plain_text")) for m in await maryam.inbox())

    await eventually(invited)
    await maryam.press("▶️ شروع")
    reply = await maryam.send("۱۲")
    assert "عدد 1؟" in reply.text and "۲ از ۳" in reply.text
    question = reply.messages[-1]
    assert question["text"].startswith("\u200f")  # a Latin title line in a Persian message
