"""Conversations kept outside the database (bot/telegram/storage.py: WrittenOnCommit, Redis on
replicas; aiogram's memory storage stands in for it here) change with the update's commit:
read back within the update, written by its commit, dropped by its rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import create_engine, session_factory
from bot.telegram.storage import WrittenOnCommit, update_session

KEY = StorageKey(bot_id=1, chat_id=2, user_id=2)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    yield session_factory(engine)
    await engine.dispose()


async def test_an_updates_changes_are_written_by_its_commit(sessions) -> None:
    outside = MemoryStorage()
    storage = WrittenOnCommit(outside)
    await outside.set_state(KEY, "Answering:survey")
    async with sessions() as session:
        token = update_session.set(session)
        try:
            await storage.set_state(KEY, None)
            await storage.set_data(KEY, {"survey": 3})
            assert await storage.get_state(KEY) is None
            assert await storage.get_data(KEY) == {"survey": 3}
            assert await outside.get_state(KEY) == "Answering:survey"
            await session.commit()
        finally:
            update_session.reset(token)
    assert await outside.get_state(KEY) is None
    assert await outside.get_data(KEY) == {"survey": 3}


async def test_an_updates_changes_are_dropped_by_its_rollback(sessions) -> None:
    outside = MemoryStorage()
    storage = WrittenOnCommit(outside)
    await outside.set_state(KEY, "Answering:survey")
    async with sessions() as session:
        token = update_session.set(session)
        try:
            await storage.set_state(KEY, None)
            await session.rollback()
            assert await storage.get_state(KEY) == "Answering:survey"
            await session.commit()
        finally:
            update_session.reset(token)
    assert await outside.get_state(KEY) == "Answering:survey"


async def test_outside_an_update_changes_are_written_at_once() -> None:
    outside = MemoryStorage()
    await WrittenOnCommit(outside).set_state(KEY, "Answering:survey")
    assert await outside.get_state(KEY) == "Answering:survey"
