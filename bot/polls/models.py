"""Quick polls: native Telegram polls in linked group chats or sent privately, and the votes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime


class PollStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PollTarget(StrEnum):
    CHATS = "chats"  # every linked group chat
    PRIVATE = "private"  # each person of an audience, in their private chat


class QuickPoll(Base):
    __tablename__ = "quick_poll"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    question: Mapped[dict[str, str]] = mapped_column(JSON)  # language → text
    options: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    target: Mapped[str] = mapped_column(String(8))
    audience: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # for PollTarget.PRIVATE
    status: Mapped[str] = mapped_column(String(8), default=PollStatus.OPEN, index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def batch(self) -> str:
        return f"poll:{self.id}"


class PollVote(Base):
    """The latest choice of one voter (a retracted vote is deleted). Voters in a group chat
    may never have started the bot: they are known by their Telegram id only."""

    __tablename__ = "poll_vote"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("quick_poll.id", ondelete="CASCADE"), primary_key=True
    )
    voter_telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    options: Mapped[list[int]] = mapped_column(JSON)
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
