"""This database's own random name, for identifiers that leave it and must not collide with
another Hamgam's: a calendar event's UID (`meeting-1@hamgam` alone would be the same meeting in
every initiative, and again after a database reset).

Made the first time it is asked for, once: replicas that ask together insert the same row and
all read the one that won."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime, upsert

ROW = 1  # the table holds this one row


class Instance(Base):
    __tablename__ = "instance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


async def key(session: AsyncSession) -> str:
    """16 random hex digits (64 bits), the same for as long as the database lives."""
    found = await session.scalar(select(Instance.key).where(Instance.id == ROW))
    if found is not None:
        return found
    await session.execute(
        upsert(session, Instance)
        .values(id=ROW, key=secrets.token_hex(8), created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["id"])
    )
    made = await session.scalar(select(Instance.key).where(Instance.id == ROW))
    assert made is not None
    return made
