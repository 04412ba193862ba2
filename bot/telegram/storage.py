from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.conversations import ConversationState
from bot.db import Session, transaction, upsert

# The session of the update being handled: state changes then commit (or roll back) together
# with what the handler stored, and SQLite never sees two writers from one update.
update_session: ContextVar[AsyncSession | None] = ContextVar("update_session", default=None)


@dataclass
class _Conversation:
    state: str | None
    data: dict[str, Any]


class DatabaseStorage(BaseStorage):
    """aiogram FSM storage on our own database, so conversations survive restarts. Every
    update reads its conversation, so rows are read and written with plain Core statements,
    and a write that changes nothing is not made."""

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
    async def _held(session: AsyncSession, key: str) -> _Conversation:
        """The conversation, read once per session: one update asks for its state and data
        several times."""
        held: dict[str, _Conversation] = session.info.setdefault("conversations", {})
        if key not in held:
            connection = await session.connection()
            row = (await connection.execute(_READ, {"key": key})).first()
            held[key] = _Conversation(row.state, row.data or {}) if row else _Conversation(None, {})
        return held[key]

    async def _read(self, key: StorageKey) -> _Conversation:
        async with self._session() as session:
            return await self._held(session, self._keys.build(key))

    async def _write(self, key: StorageKey, **values: Any) -> None:
        async with self._session() as session:
            built = self._keys.build(key)
            held = await self._held(session, built)
            if all(getattr(held, name) == value for name, value in values.items()):
                return
            for name, value in values.items():
                setattr(held, name, value)
            row = {"state": held.state, "data": held.data, "updated_at": clock.now()}
            connection = await session.connection()
            await connection.execute(
                upsert(session, ConversationState.__table__)
                .values(key=built, **row)
                .on_conflict_do_update(index_elements=["key"], set_=row)
            )

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._write(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._read(key)).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict((await self._read(key)).data)

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""


class _Changes:
    """The conversations an update changed, written to their store when it commits."""

    def __init__(self, storage: BaseStorage) -> None:
        self.storage = storage
        self.states: dict[StorageKey, str | None] = {}
        self.data: dict[StorageKey, dict[str, Any]] = {}

    async def write(self) -> None:
        for key, state in self.states.items():
            await self.storage.set_state(key, state)
        for key, data in self.data.items():
            await self.storage.set_data(key, data)


class WrittenOnCommit(BaseStorage):
    """Conversations kept outside the database (Redis, for replicas) change when the update's
    transaction commits, not before: an update retried after its commit failed (the database
    away for a moment) must find the conversation where it left it, or the answer it retries
    would be refused (the survey's end already recorded) and lost. Within the update, what it
    wrote is read back before it is committed; a rollback drops it."""

    def __init__(self, storage: BaseStorage) -> None:
        self.storage = storage

    def _changes(self, *, made: bool) -> _Changes | None:
        """The update's changes (None outside an update, where writes are made at once, or
        when `made` is false and it has none)."""
        session = update_session.get()
        if not isinstance(session, Session):
            return None
        return session.pending(self, (lambda: _Changes(self.storage)) if made else None)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        changes = self._changes(made=True)
        if changes is None:
            await self.storage.set_state(key, state)
        else:
            changes.states[key] = state.state if isinstance(state, State) else state

    async def get_state(self, key: StorageKey) -> str | None:
        changes = self._changes(made=False)
        if changes is not None and key in changes.states:
            return changes.states[key]
        return await self.storage.get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        changes = self._changes(made=True)
        if changes is None:
            await self.storage.set_data(key, data)
        else:
            changes.data[key] = dict(data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        changes = self._changes(made=False)
        if changes is not None and key in changes.data:
            return dict(changes.data[key])
        return await self.storage.get_data(key)

    async def close(self) -> None:
        await self.storage.close()


_READ = select(ConversationState.state, ConversationState.data).where(
    ConversationState.key == bindparam("key")
)


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
        if isinstance(session, Session) and session.uncommitted():
            await session.commit()
        return await make_request(bot, method)
