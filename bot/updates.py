"""Telegram updates already handled, and updates parked until the database takes them.

Telegram delivers an update again when a webhook answered slowly or failed, and a polling bot
that stopped before confirming one gets it again; replicas share one database, so the record
of what was handled lives there, written in the update's own transaction."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, bindparam, delete, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime, upsert

# Telegram keeps an update for redelivery for at most 24 hours.
KEEP_HANDLED = timedelta(hours=25)
# A parked update still failing after this long is given up (and logged by the caller).
KEEP_PARKED = timedelta(hours=24)


class HandledUpdate(Base):
    __tablename__ = "handled_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ParkedUpdate(Base):
    """An update the database could not take for a while in polling mode, kept to be handled
    again by the clock (its offset was confirmed, so Telegram will not send it again)."""

    __tablename__ = "parked_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    parked_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Built once: this runs for every update.
_RECORD = {
    name: dialect.insert(HandledUpdate)
    .values(update_id=bindparam("update_id"), handled_at=bindparam("at"))
    .on_conflict_do_nothing(index_elements=["update_id"])
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
_TO_RECORD = "hamgam.update_id"


class AlreadyHandled(Exception):
    """The update's record was there when its own was to be written: it was handled before,
    and what this handling did is rolled back."""


def record_when_committed(session: AsyncSession, update_id: int) -> None:
    """The update is recorded as handled by the session's next commit, in that transaction,
    which raises AlreadyHandled instead when it was handled before: only what is committed
    counts, the record costs one statement (no read first), and an update that stores nothing
    writes only at its end (on SQLite a write holds the one write lock until the commit)."""
    session.sync_session.info[_TO_RECORD] = update_id


@event.listens_for(Session, "before_commit")
def _record(session: Session) -> None:
    update_id = session.info.pop(_TO_RECORD, None)
    if update_id is not None:
        connection = session.connection()
        recorded = connection.execute(
            _RECORD[connection.dialect.name], {"update_id": update_id, "at": clock.now()}
        )
        if not recorded.rowcount:
            raise AlreadyHandled(update_id)


async def forget_handled(session: AsyncSession) -> None:
    """Past the time Telegram could send an update again, its record serves nothing."""
    await session.execute(
        delete(HandledUpdate).where(HandledUpdate.handled_at < clock.now() - KEEP_HANDLED)
    )


async def park(session: AsyncSession, update_id: int, payload: dict[str, Any]) -> None:
    await session.execute(
        upsert(session, ParkedUpdate)
        .values(update_id=update_id, payload=payload, parked_at=clock.now())
        .on_conflict_do_nothing(index_elements=["update_id"])
    )


async def parked(session: AsyncSession) -> list[tuple[int, dict[str, Any], datetime]]:
    """Parked updates in the order Telegram sent them."""
    rows = await session.execute(
        select(ParkedUpdate.update_id, ParkedUpdate.payload, ParkedUpdate.parked_at).order_by(
            ParkedUpdate.update_id
        )
    )
    return [(row.update_id, row.payload, row.parked_at) for row in rows]


async def unpark(session: AsyncSession, update_id: int) -> None:
    await session.execute(delete(ParkedUpdate).where(ParkedUpdate.update_id == update_id))


# Connection exceptions, serialization failure, deadlock, shutdown, too many connections.
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03", "53300"})


def transient(error: BaseException) -> bool:
    """A database error that goes away by trying again: the connection lost, the database
    locked or busy, a serialization failure or deadlock. Not a wrong statement or a broken
    constraint, which would fail the same way every time."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated or isinstance(error, InterfaceError):
            return True
        original = error.orig
        state = getattr(original, "sqlstate", None) or ""
        if state.startswith("08") or state in _TRANSIENT_SQLSTATES:
            return True
        if isinstance(original, sqlite3.OperationalError):
            code = getattr(original, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            # bot/sqlite.py's own write lock gave up waiting (no result code of SQLite's).
            return str(original) == "database is locked"
    return False
