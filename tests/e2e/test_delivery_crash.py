"""A process killed with SIGKILL in the middle of a broadcast and started again: every
recipient has the message; duplicates no more than the rows in flight at the kill.

The bot runs as a real `python -m bot run` subprocess, because only a real process can be
killed without running any of its cleanup (an in-process "crash" would still close sessions
and finish tasks)."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import create_engine, session_factory, transaction
from bot.delivery import outbox
from bot.delivery.content import Content
from bot.delivery.models import Delivery, DeliveryStatus
from bot.delivery.outbox import Outgoing
from bot.sandbox import Emulator, SandboxClient
from tests.conftest import TOKEN
from tests.e2e.crowd import per_chat, seed_residents, wait_until_delivered

RESIDENTS = 1000
SEND_RATE = 100
PROJECT_ROOT = Path(__file__).resolve().parents[2]
NEWS = Content(text={"fa": "جلسهٔ محله پنجشنبه است", "en": "The neighbourhood meets Thursday"})


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def start_bot(database_url: str, api_url: str) -> asyncio.subprocess.Process:
    """`python -m bot run` exactly as deployed (polling), pointed at the emulator."""
    env = os.environ | {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "DATABASE_URL": database_url,
        "SEND_RATE": str(SEND_RATE),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("WEBHOOK_URL", None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=PROJECT_ROOT
    )


async def wait_for(
    condition: Callable[[], Awaitable[bool]],
    process: asyncio.subprocess.Process,
    within_s: float,
    what: str,
) -> None:
    """Polls `condition` until it holds; fails early if the bot exited on its own."""
    deadline = time.monotonic() + within_s
    while not await condition():
        if process.returncode is not None:
            raise AssertionError(f"the bot exited with {process.returncode} before {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {within_s} s: {what}")
        await asyncio.sleep(0.05)


@contextmanager
def no_collections() -> Iterator[None]:
    """The emulator shares this process, and a full collection of its ~280,000 objects stalls
    the event loop for ~180 ms; the sends that queue meanwhile are stamped all at once, which
    the emulator's sliding window counts as a burst the bot never sent. A minute without the
    cycle collector costs little memory."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGKILL)
    await asyncio.wait_for(process.wait(), 10)


@pytest.mark.timeout(180)  # two real start-ups of the bot and ~11 s of paced sending
async def test_a_broadcast_killed_midway_is_finished_after_restart_with_few_duplicates(
    database_url: str,
    emulator: Emulator,
    client: SandboxClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await client.set_limits(global_per_s=SEND_RATE, chat_per_s=1, chat_burst=0, group_per_min=20)
    residents = await seed_residents(sessions, client, RESIDENTS)
    async with transaction(sessions) as session:
        added = await outbox.enqueue(
            session,
            [
                Outgoing(
                    f"crash:{r.person_id}",
                    r.telegram_id,
                    NEWS,
                    person_id=r.person_id,
                    batch="crash",
                )
                for r in residents
            ],
        )
    assert added == RESIDENTS

    async def a_third_sent() -> bool:
        # stats() is a few counters: cheap for the emulator, unlike the full sent() journal
        return int((await client.stats())["sent"]) >= RESIDENTS // 3

    processes: list[asyncio.subprocess.Process] = []
    with no_collections():
        try:
            first = await start_bot(database_url, emulator.base_url)
            processes.append(first)
            await wait_for(a_third_sent, first, 60, "a third of the broadcast was sent")
            await kill(first)
            sent_at_kill = int((await client.stats())["sent"])
            async with sessions() as session:
                in_flight = int(
                    await session.scalar(
                        select(func.count())
                        .select_from(Delivery)
                        .where(Delivery.status == DeliveryStatus.SENDING)
                    )
                    or 0
                )
            assert sent_at_kill < RESIDENTS, "the kill came too late to interrupt the broadcast"

            second = await start_bot(database_url, emulator.base_url)
            processes.append(second)
            statuses = await wait_until_delivered(sessions, "crash", within_s=60)
        finally:
            for process in processes:
                await kill(process)

    assert statuses == {DeliveryStatus.SENT.value: RESIDENTS}
    received = per_chat(await client.sent())
    assert set(received) == {r.telegram_id for r in residents}
    duplicates = sum(count - 1 for count in received.values())
    assert duplicates <= in_flight, f"{duplicates} duplicates, {in_flight} rows were in flight"
    assert (await client.stats())["violations"] == {"global": 0, "chat": 0, "group": 0}
