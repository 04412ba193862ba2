from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import create_engine, session_factory, transaction
from bot.people import service as people
from bot.sandbox import Emulator, SandboxClient
from tests.e2e.harness import BotProcess, Person, bot_settings, free_port


@pytest.fixture(params=["polling"])
def transport(request: pytest.FixtureRequest) -> str:
    """Tests that must hold in both modes parametrize this with ["polling", "webhook"]."""
    return str(request.param)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Settings a test module changes for its bot (override this fixture). Tests act faster
    than any person, so flood protection is relaxed except where it is under test."""
    return {"throttle_rate": 1000.0, "throttle_burst": 1000}


@pytest.fixture
async def bot(
    database_url: str,
    emulator: Emulator,
    client: SandboxClient,
    transport: str,
    settings_overrides: dict[str, object],
    tmp_path: Path,
) -> AsyncIterator[BotProcess]:
    overrides = dict(settings_overrides)
    if not database_url.startswith("sqlite"):
        # Beside the SQLite file by default; on PostgreSQL a folder of the test's own, not
        # data/work, where tests running at once in other workers would meet the same job ids.
        overrides.setdefault("work_dir", tmp_path / "work")
    if transport == "webhook":
        port = free_port()
        overrides |= {
            "webhook_url": f"http://127.0.0.1:{port}",
            "webhook_listen_host": "127.0.0.1",
            "webhook_listen_port": port,
        }
    process = BotProcess(bot_settings(database_url, emulator.base_url, **overrides), client)
    await process.start()
    yield process
    await process.stop()
    assert process.failures == [], "an update raised an unhandled exception"


PersonFactory = Callable[..., Awaitable[Person]]


@pytest.fixture
def person(client: SandboxClient, bot: BotProcess) -> PersonFactory:
    """A new person on Telegram who has not written to the bot yet."""
    counter = iter(range(5001, 6000))

    async def make(
        first_name: str = "مریم",
        language_code: str | None = "fa",
        user_id: int | None = None,
    ) -> Person:
        return await Person(
            client, user_id or next(counter), first_name, language_code
        ).join_telegram()

    return make


async def onboard(someone: Person, language_label: str = "فارسی") -> Person:
    await someone.send("/start")
    await someone.press(language_label)
    agree = "✅ موافقم" if language_label == "فارسی" else "✅ I agree"
    await someone.press(agree)
    return someone


@pytest.fixture
def resident(person: PersonFactory) -> Callable[..., Awaitable[Person]]:
    """A person who has started the bot, chosen a language and agreed to the privacy note."""

    async def make(
        first_name: str = "مریم", language_code: str | None = "fa", language: str = "فارسی"
    ) -> Person:
        return await onboard(await person(first_name, language_code), language)

    return make


@pytest.fixture
def staff(
    resident: Callable[..., Awaitable[Person]], database_url: str
) -> Callable[..., Awaitable[Person]]:
    """An onboarded backbone staff member (made staff the way `hamgam staff add` does)."""

    async def make(first_name: str = "رضا", language: str = "فارسی") -> Person:
        someone = await resident(first_name, "fa" if language == "فارسی" else "en", language)
        engine = create_engine(database_url)
        async with transaction(session_factory(engine)) as session:
            await people.add_staff(session, someone.user_id, None)
        await engine.dispose()
        return someone

    return make


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the bot's database, for arranging rows and checking what was stored."""
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()
