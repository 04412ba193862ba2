"""SQLite on the event loop's thread (bot/sqlite.py): writers of this process queue for the
write lock instead of failing or stalling the loop, another process's writer is waited for
without blocking the loop, and reading a result in chunks still works."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, event, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot import sqlite as inline
from bot.db import create_engine, scalar_aside, session_factory

METADATA = MetaData()
NOTE = Table("note", METADATA, Column("id", Integer, primary_key=True), Column("text", Text))


@pytest.fixture
async def database(tmp_path: Path):
    path = tmp_path / "notes.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    yield engine, path
    await engine.dispose()


async def test_writers_of_one_process_take_turns_and_all_commit(database) -> None:
    engine, _path = database
    sessions = session_factory(engine)
    order: list[str] = []

    async def write(name: str, pause: float) -> None:
        async with sessions() as session, session.begin():
            await session.execute(insert(NOTE).values(text=name))
            order.append(f"{name} wrote")
            await asyncio.sleep(pause)  # the transaction stays open across an await
            order.append(f"{name} commits")

    await asyncio.gather(write("first", 0.2), write("second", 0))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(NOTE)) == 2
    # The second writer waited for the first to commit instead of failing with "locked".
    assert order == ["first wrote", "first commits", "second wrote", "second commits"]


async def test_a_rolled_back_writer_lets_the_next_one_in(database) -> None:
    engine, _path = database
    sessions = session_factory(engine)
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await session.execute(insert(NOTE).values(text="never"))
            raise RuntimeError("the handler failed")
    async with asyncio.timeout(1), sessions() as session, session.begin():
        await session.execute(insert(NOTE).values(text="kept"))
    async with sessions() as session:
        assert list(await session.scalars(select(NOTE.c.text))) == ["kept"]


async def test_another_process_writer_is_waited_for_without_stopping_the_loop(
    database,
) -> None:
    engine, path = database
    sessions = session_factory(engine)
    other = sqlite3.connect(path, isolation_level=None)  # as the command line would
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO note (text) VALUES ('from the command line')")
    ticks = 0

    async def meanwhile() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def release_soon() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")

    ticker = asyncio.create_task(meanwhile())
    releaser = asyncio.create_task(release_soon())
    began = time.monotonic()
    async with sessions() as session, session.begin():
        await session.execute(insert(NOTE).values(text="from the bot"))
    waited = time.monotonic() - began
    ticker.cancel()
    await releaser
    other.close()
    assert waited >= 0.25  # it did wait for the other writer…
    assert ticks >= 10  # …and the loop went on meanwhile
    async with sessions() as session:
        texts = set(await session.scalars(select(NOTE.c.text)))
    assert texts == {"from the command line", "from the bot"}


async def test_a_writer_that_never_finishes_fails_as_locked(database, monkeypatch) -> None:
    engine, path = database
    monkeypatch.setattr(inline, "BUSY_WAIT_S", 0.2)
    sessions = session_factory(engine)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            async with sessions() as session, session.begin():
                await session.execute(insert(NOTE).values(text="too late"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(NOTE)) == 0


async def test_results_stream_in_chunks(database) -> None:
    engine, _path = database
    async with engine.begin() as connection:
        await connection.execute(insert(NOTE), [{"text": f"note {n}"} for n in range(2500)])
    async with engine.connect() as connection:
        result = await connection.stream(select(NOTE.c.text).execution_options(yield_per=1000))
        sizes = [len(chunk) async for chunk in result.partitions()]
    assert sizes == [1000, 1000, 500]


async def test_a_long_read_aside_runs_off_the_loops_thread(database) -> None:
    """scalar_aside (/export's COUNT over a million answers) reads on a connection of its own
    in a worker thread, so the loop goes on; it sees what is committed."""
    engine, _path = database
    sessions = session_factory(engine)
    threads: list[int] = []

    def seen(*_args: object) -> None:
        threads.append(threading.get_ident())

    async with sessions() as session, session.begin():
        await session.execute(insert(NOTE), [{"text": str(n)} for n in range(5)])
    count = select(func.count()).select_from(NOTE)
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        async with sessions() as session:
            assert await scalar_aside(session, count) == 5
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert threads and threading.get_ident() not in threads
