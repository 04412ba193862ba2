"""Databases for the suite: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db import create_engine, session_factory, transaction
from bot.models import Base
from bot.sandbox import Emulator, SandboxClient
from bot.schema import upgrade

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
BACKENDS = ["sqlite", "postgresql"]
# Shaped like a real token so that the bot's own validation accepts it.
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def pytest_report_header() -> list[str]:
    postgres = f"on {POSTGRES_URL}" if POSTGRES_URL else "skipped (TEST_DATABASE_URL unset)"
    redis = f"on {REDIS_URL}" if REDIS_URL else "skipped (TEST_REDIS_URL unset)"
    return [f"PostgreSQL tests: {postgres}", f"Redis tests: {redis}"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for every test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "hamgam.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await upgrade(url)


@pytest.fixture(scope="session")
def postgres_migrated() -> str | None:
    """The PostgreSQL test database, emptied and migrated once per run."""
    if not POSTGRES_URL:
        return None
    asyncio.run(_reset_postgres(POSTGRES_URL))
    return POSTGRES_URL


async def _truncate_postgres(url: str) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_migrated: str | None,
) -> str:
    if request.param == "sqlite":
        path = tmp_path / "hamgam.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    if postgres_migrated is None:
        pytest.skip("PostgreSQL: TEST_DATABASE_URL is not set")
    await _truncate_postgres(postgres_migrated)
    return postgres_migrated


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A committed-per-block session for arranging and checking stored rows."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    async with transaction(sessions) as opened:
        yield opened
    await engine.dispose()


@pytest.fixture(autouse=True)
def wall_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """The local Bot API emulator on a free port."""
    emulator = Emulator(TOKEN, webhook_retry_delay=0.05)
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[SandboxClient]:
    """The emulator's control API: act as people and groups, read what the bot did."""
    async with SandboxClient(emulator.base_url) as client:
        yield client
