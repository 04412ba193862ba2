from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversations import ConversationState
from bot.db import transaction

# The session of the update being handled: state changes then commit (or roll back) together
# with what the handler stored, and SQLite never sees two writers from one update.
update_session: ContextVar[AsyncSession | None] = ContextVar("update_session", default=None)


class DatabaseStorage(BaseStorage):
    """aiogram FSM storage on our own database, so conversations survive restarts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        session = update_session.get()
        if session is not None:
            yield session
            return
        async with transaction(self._sessions) as session:
            yield session

    @staticmethod
    async def _get(session: AsyncSession, key: str) -> ConversationState | None:
        """The row, read once per session: the identity map holds rows only weakly, and one
        update asks for its state and data several times."""
        held: dict[str, ConversationState | None] = session.info.setdefault("conversations", {})
        if key not in held:
            held[key] = await session.get(ConversationState, key)
        return held[key]

    async def _row(self, key: StorageKey) -> ConversationState | None:
        async with self._session() as session:
            return await self._get(session, self._keys.build(key))

    async def _write(self, key: StorageKey, **values: Any) -> None:
        async with self._session() as session:
            built = self._keys.build(key)
            row = await self._get(session, built)
            if row is None:
                row = ConversationState(key=built, state=None, data={})
                session.add(row)
                session.info["conversations"][built] = row
            for name, value in values.items():
                setattr(row, name, value)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._write(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._row(key)
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._row(key)
        return dict(row.data) if row and row.data else {}

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""


class CommitBeforeSending(BaseRequestMiddleware):
    """What an update stored is committed before the bot tells anyone about it: a reply never
    shows something that is then rolled back, and no database lock is held while Telegram
    answers (SQLite has one writer; a slow round trip would hold up every other update)."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        session = update_session.get()
        if session is not None and session.in_transaction():
            await session.commit()
        return await make_request(bot, method)
