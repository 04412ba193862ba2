"""Polling stopped, or crashed, while updates are being handled: none is lost and none is
handled twice after the restart."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.harness import BotProcess, plain
from tests.e2e.test_concurrency import Gate
from tests.e2e.timeline import eventually


async def helps(someone, text: str) -> int:
    return sum(plain(message) == text for message in await someone.inbox())


@pytest.mark.parametrize("crash", [False, True], ids=["stopped", "crashed"])
async def test_updates_in_flight_at_a_stop_or_crash_are_handled_once(
    resident, bot: BotProcess, client, monkeypatch, crash: bool
) -> None:
    maryam = await resident("مریم")
    neda = await resident("ندا")
    help_text = (await neda.send("/help")).text
    gate = Gate(monkeypatch, maryam.user_id)
    await client.send_message(maryam.user_id, "/help", wait=False)
    await asyncio.wait_for(gate.reached.wait(), 10)
    # Neda's update finishes, but is not confirmed while Maryam's, before it, is unfinished.
    await client.send_message(neda.user_id, "/help", wait=False)
    await eventually(lambda: _helped(neda, help_text, 2))

    assert bot._polling is not None
    if crash:  # killed mid-update: Maryam's is cut short, nothing of it committed
        bot._polling.cancel()
        await asyncio.gather(bot._polling, return_exceptions=True)
        bot._polling = None
        gate.open.set()
        await bot.stop()
        assert await helps(maryam, help_text) == 0
    else:  # SIGTERM: Maryam's update is finished before the bot stops
        stopping = asyncio.create_task(bot.stop())
        gate.open.set()
        await stopping
        assert await helps(maryam, help_text) == 1
    await bot.start()
    # Telegram sends again what was not confirmed: Maryam's is handled (once), Neda's skipped.
    await eventually(lambda: _helped(maryam, help_text, 1))
    await client.send_message(neda.user_id, "/help")  # handled after whatever came again
    assert await helps(maryam, help_text) == 1
    assert await helps(neda, help_text) == 3


async def _helped(someone, text: str, times: int) -> bool:
    return await helps(someone, text) >= times
