"""Where each person is in a multi-step conversation, kept in the database so that a restart
resumes it (aiogram's storages are memory, Redis or MongoDB; none keeps SQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime


class ConversationState(Base):
    __tablename__ = "conversation_state"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)


async def forget(session: AsyncSession, telegram_id: int) -> None:
    """/forget: every conversation the person had goes. Keys are aiogram's
    «fsm:<bot>:<chat>[:<thread>]:<user>:<destiny>» (bot.telegram.storage)."""
    part = str(telegram_id)
    keys = await session.scalars(
        select(ConversationState.key).where(ConversationState.key.like(f"%:{part}:%"))
    )
    theirs = [key for key in keys if part in key.split(":")[2:-1]]
    if theirs:
        await session.execute(delete(ConversationState).where(ConversationState.key.in_(theirs)))
