"""SQLite on the event loop's own thread, one writing transaction at a time.

SQLAlchemy's async SQLite dialect drives aiosqlite, which runs every call on a worker thread.
Each hand-over costs about 100 µs of wall time and half of that of the loop's CPU, and the
dialect makes two to four of them per statement, while the indexed statements a bot makes
take one or two µs in SQLite itself (measured on this project's machine: `python -m
bench.answers`, and README, Speed). So `Connection` below calls sqlite3 directly and offers
the part of aiosqlite's interface that SQLAlchemy's dialect uses; the dialect, the pool and
the ORM work unchanged on top of it.

Running on the loop changes how waiting for a lock must work. SQLite takes one writer at a
time and a second one waits in SQLite's busy handler, which here would stop the whole loop,
including the first writer, which could then never commit. So a connection takes the
engine's `WriteLock` (an asyncio lock) before a transaction's first write and gives it back
at commit or rollback; writers of this process queue in order instead of sleeping and
polling. A writer of another process (the command line) is waited for without blocking
the loop: SQLite answers "busy" at once (busy_timeout 0) and the statement is tried again
after a short asynchronous sleep.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

BUSY_WAIT_S = 5.0  # how long a writer waits for the database, as busy_timeout did before
# The first word of statements that take SQLite's write lock.
WRITING = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "WITH")


class WriteLock:
    """One writing transaction at a time among an engine's connections."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        try:
            async with asyncio.timeout(BUSY_WAIT_S):  # not wait_for: that makes a task each time
                await self._lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None

    def release(self) -> None:
        self._lock.release()


class Connection:
    """An aiosqlite-compatible connection that runs each call at once on the caller's thread."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], writes: WriteLock) -> None:
        self._connect = connect
        self._writes = writes
        self._writing = False
        self._connection: sqlite3.Connection | None = None

    def __await__(self) -> Any:
        return self._open().__await__()

    async def _open(self) -> Connection:
        self._connection = self._connect()
        return self

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("Connection closed")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _Opening:
        return _Opening(Cursor(self, self._conn.cursor()))

    async def commit(self) -> None:
        try:
            self._conn.commit()
        finally:
            self._done_writing()

    async def rollback(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self._done_writing()

    async def close(self) -> None:
        try:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        finally:
            self._done_writing()

    def stop(self) -> None:
        """What SQLAlchemy calls to terminate a connection it gave up on."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._done_writing()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def _run(self, sql: str, call: Callable[[], Any]) -> Any:
        """Runs a statement, first taking the write lock if it writes; waits out another
        process's write lock while nothing of this transaction has been written yet."""
        if not self._writing and sql.lstrip()[:7].upper().startswith(WRITING):
            await self._writes.acquire()
            self._writing = True
        fresh = not self._conn.in_transaction  # nothing written yet: safe to try again
        deadline = None
        while True:
            try:
                return call()
            except sqlite3.OperationalError as error:
                if not (fresh and _busy(error)):
                    raise
                deadline = deadline or time.monotonic() + BUSY_WAIT_S
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.005)

    def _done_writing(self) -> None:
        if self._writing:
            self._writing = False
            self._writes.release()


def _busy(error: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY, or one of its extended codes (the low byte is the primary code)."""
    return (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


class Cursor:
    """aiosqlite's cursor interface over a sqlite3 cursor."""

    def __init__(self, connection: Connection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> Cursor:
        await self._connection._run(sql, lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        await self._connection._run(sql, lambda: self._cursor.executemany(sql, parameters))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> Sequence[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aiter__(self) -> AsyncIterator[Any]:
        while rows := self._cursor.fetchmany(256):
            for row in rows:
                yield row

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _Opening:
    """`await connection.cursor()` and `async with connection.cursor()`, as in aiosqlite."""

    def __init__(self, cursor: Cursor) -> None:
        self._cursor = cursor

    def __await__(self) -> Any:
        return self.__aenter__().__await__()

    async def __aenter__(self) -> Cursor:
        return self._cursor

    async def __aexit__(self, *_exc: object) -> None:
        await self._cursor.close()


def connector(path: str) -> Callable[[], Any]:
    """SQLAlchemy's `async_creator` for a database file (or ":memory:"): each connection is
    a `Connection`, and the connections of one engine share one `WriteLock`."""
    writes = WriteLock()

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(path, timeout=0, check_same_thread=False)

    async def create() -> Connection:
        return await Connection(connect, writes)

    return create
