"""Databases for the suite: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set.

Under pytest-xdist each worker has a PostgreSQL database and a Redis database of its own,
derived from the URLs given, so that workers never see each other's rows."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db import create_engine, session_factory, transaction
from bot.models import Base
from bot.sandbox import Emulator, SandboxClient
from bot.schema import upgrade

# "gw0", "gw1"… in a pytest-xdist worker; unset in a run without workers.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _postgres_for_worker(url: str | None) -> str | None:
    """The given database for a run without workers; "<name>_gw0" and so on for workers
    (made on the same server when missing: `_reset_postgres`)."""
    if url is None or WORKER is None:
        return url
    parsed = make_url(url)
    worker_url = parsed.set(database=f"{parsed.database}_{WORKER}")
    return worker_url.render_as_string(hide_password=False)


def _redis_for_worker(url: str | None) -> str | None:
    """The given Redis database for a run without workers; the next ones for workers: worker
    gw0 uses it, gw1 the one after it, and so on (Redis has 16 by default)."""
    if url is None or WORKER is None:
        return url
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0) + int(WORKER.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{number}"))


POSTGRES_URL = _postgres_for_worker(os.environ.get("TEST_DATABASE_URL"))
REDIS_URL = _redis_for_worker(os.environ.get("TEST_REDIS_URL"))
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


async def _create_postgres(url: str) -> None:
    """A worker's database, made through the database TEST_DATABASE_URL names."""
    parsed = make_url(url)
    server = create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    async with server.connect() as connection:
        exists = await connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        )
        if not exists:
            await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    await server.dispose()


async def _reset_postgres(url: str) -> None:
    if WORKER is not None:
        await _create_postgres(url)
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


# Every row deleted (dependent tables first) and every sequence restarted, in one round trip.
# DELETE, not TRUNCATE: on the few rows a test leaves it takes a fraction of the time, as
# TRUNCATE makes every table and index anew.
_EMPTY = "\n".join(
    [
        "DO $$ DECLARE sequence record; BEGIN",
        *(f'DELETE FROM "{table.name}";' for table in reversed(Base.metadata.sorted_tables)),
        "FOR sequence IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP",
        "PERFORM setval(format('public.%I', sequence.sequencename), 1, false);",
        "END LOOP; END $$",
    ]
)


async def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text(_EMPTY))
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
    await _empty_postgres(postgres_migrated)
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
