"""A person flooding the bot is slowed politely; everyone else is answered as usual."""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"throttle_rate": 2.0, "throttle_burst": 8}


async def test_a_flood_is_throttled_without_slowing_others(resident, client) -> None:
    flooder = await resident("سیل")
    neighbour = await resident("همسایه")
    before = len(await flooder.inbox())
    results = await asyncio.gather(
        *(
            client.send_message(user_id=flooder.user_id, text=f"پیام {n}", wait=False)
            for n in range(60)
        )
    )
    assert len(results) == 60
    reply = await neighbour.send("/help")
    assert "کارهایی که برایتان انجام می‌دهم" in reply.text
    await flooder.send("/help")  # waits until everything before it was handled
    answers = (await flooder.inbox())[before:]
    slow_down = [
        m for m in answers if "خیلی سریع پشت سر هم پیام می‌فرستید" in (m.get("plain_text") or "")
    ]
    assert 1 <= len(slow_down) <= 3
    assert len(answers) < 30  # most of the flood was dropped, not answered one by one
