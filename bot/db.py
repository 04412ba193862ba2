"""Engine, sessions and the declarative base shared by every domain's tables."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import sqlalchemy
from sqlalchemy import DateTime, Executable, MetaData, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine: SQLite drops the offset, so it is restored on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        from bot import sqlite

        path = _ensure_sqlite_folder(url)
        engine = create_async_engine(url, async_creator=sqlite.connector(path), **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _ensure_sqlite_folder(url: str) -> str:
    """The database file's path (its folder made if missing), or ":memory:"."""
    from pathlib import Path

    path = url.split(":///", 1)[-1] if ":///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return path or ":memory:"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # No waiting inside SQLite: it would stop the event loop (see bot/sqlite.py, which waits).
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted text is overwritten, not left in free pages that a copy of the file carries
    # (/forget). Some builds do this by default, not all.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


@contextmanager
def only_process(url: str) -> Iterator[None]:
    """Holds the SQLite database for this process while it runs the bot. SQLite takes one
    writing process: a second bot on the same file would fight the first for every write (and
    two clocks would run), so it is refused with a clear message instead. PostgreSQL is left
    to replicas, which coordinate through the database (see README, Deployment)."""
    path = _ensure_sqlite_folder(url) if url.startswith("sqlite") else ""
    if not path or path == ":memory:":
        yield
        return
    from pathlib import Path

    from bot.config import ConfigError

    lock = Path(path + ".lock").open("a")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"Another Hamgam process is already running on {path}. SQLite takes one"
                " process: stop the other one, or run several replicas on PostgreSQL."
            ) from None
        yield
    finally:
        lock.close()  # closing releases the lock


async def scalar_aside(session: AsyncSession, statement: Executable) -> Any:
    """The scalar of a long read (a COUNT over a million rows) without stopping the event loop.
    SQLite's calls run on the loop's own thread (bot/sqlite.py), so there it is read on a
    connection of its own in a worker thread, which sees what is committed; PostgreSQL's driver
    waits for the server without blocking the loop."""
    url = session.bind.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return await session.scalar(statement)

    def read() -> Any:
        engine = sqlalchemy.create_engine(url.set(drivername="sqlite"), poolclass=NullPool)
        try:
            with engine.connect() as connection:
                return connection.scalar(statement)
        finally:
            engine.dispose()

    return await asyncio.to_thread(read)


class Pending(Protocol):
    """Writes to a store outside the database that wait for the transaction."""

    async def write(self) -> None: ...


P = TypeVar("P", bound=Pending)


class Session(AsyncSession):
    """A session whose commit also makes the writes that wait on it take effect, and whose
    rollback drops them: writes to a store outside the database (the replicas' conversations
    in Redis) then happen when, and only when, the transaction commits."""

    def pending(self, owner: object, make: Callable[[], P] | None = None) -> P | None:
        """The writes `owner` has waiting on this transaction; made by `make` when there are
        none yet and it is given."""
        waiting: dict[object, Pending] = self.info.setdefault(_PENDING, {})
        if owner not in waiting and make is not None:
            waiting[owner] = make()
        return waiting.get(owner)  # type: ignore[return-value]

    def uncommitted(self) -> bool:
        """Whether a commit has anything to do: a transaction, or writes waiting on one."""
        return self.in_transaction() or bool(self.info.get(_PENDING))

    async def commit(self) -> None:
        await super().commit()
        for pending in self.info.pop(_PENDING, {}).values():
            await pending.write()

    async def rollback(self) -> None:
        self.info.pop(_PENDING, None)
        await super().rollback()


_PENDING = "pending_writes"


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=Session, expire_on_commit=False)


def upsert(session: AsyncSession, entity: Any) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that can say what to do on a conflict: both databases have ON CONFLICT, but
    SQLAlchemy spells it in each dialect's own construct."""
    if session.bind.dialect.name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session that commits when the block ends and rolls back if it raises."""
    async with sessions() as session, session.begin():
        yield session


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
