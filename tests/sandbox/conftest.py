"""Fixtures: a running emulator, its control client, and aiogram bots pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.sandbox import Emulator
from tests.conftest import TOKEN

BOT_ID = int(TOKEN.split(":")[0])


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def bot_id() -> int:
    return BOT_ID


@pytest.fixture
def api_url(emulator: Emulator) -> str:
    """Base of raw Bot API calls: ``f"{api_url}/getMe"``."""
    return f"{emulator.base_url}/bot{TOKEN}"


BotFactory = Callable[..., Bot]


@pytest.fixture
async def make_bot(emulator: Emulator) -> AsyncIterator[BotFactory]:
    """Build aiogram bots pointed at the emulator (closed after the test)."""
    bots: list[Bot] = []

    def build(token: str = TOKEN, timeout: float = 10) -> Bot:
        api = TelegramAPIServer.from_base(emulator.base_url)
        session = AiohttpSession(api=api, timeout=timeout)
        bots.append(Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML")))
        return bots[-1]

    yield build
    for made in bots:
        await made.session.close()


@pytest.fixture
def bot(make_bot: BotFactory) -> Bot:
    return make_bot()


Polling = Callable[[Dispatcher], AbstractAsyncContextManager[None]]
Eventually = Callable[[Callable[[], bool]], Awaitable[None]]


@pytest.fixture
def eventually() -> Eventually:
    """Wait (in tiny steps, 5 s at most) for a condition another task brings about."""

    async def wait_for(condition: Callable[[], bool]) -> None:
        for _ in range(500):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("condition not met within 5 s")

    return wait_for


@pytest.fixture
def polling(bot: Bot) -> Polling:
    """Run a dispatcher in polling mode, handling updates one by one, for a block."""

    @asynccontextmanager
    async def run(dp: Dispatcher) -> AsyncIterator[None]:
        started = asyncio.Event()
        dp.startup.register(started.set)
        task = asyncio.create_task(
            dp.start_polling(
                bot,
                handle_signals=False,
                handle_as_tasks=False,
                polling_timeout=1,
                close_bot_session=False,
            )
        )
        await started.wait()
        try:
            yield
        finally:
            await dp.stop_polling()
            await task

    return run
