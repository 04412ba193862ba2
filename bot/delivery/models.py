from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime

# Ids that may pass two billion on a busy initiative; SQLite only auto-increments INTEGER.
BigId = BigInteger().with_variant(Integer, "sqlite")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # handed to Telegram; its outcome not yet recorded
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"  # the person blocked the bot (403)
    SKIPPED = "skipped"  # opted out, unreachable or forgotten before it was due, or cancelled


FINAL = (
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.UNREACHABLE,
    DeliveryStatus.SKIPPED,
)


class Delivery(Base):
    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Enqueueing the same key twice creates one row, e.g. "announcement:12:345".
    key: Mapped[str] = mapped_column(String(160), unique=True)
    # What the row belongs to, for progress and reports, e.g. "announcement:12".
    batch: Mapped[str | None] = mapped_column(String(64), index=True)
    # NULL once the person it went to has used /forget (the row stays, for reach figures).
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # None: the person's language at send time; "fa", "en", or "both" (for group chats).
    language: Mapped[str | None] = mapped_column(String(4))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Not sent at all once this has passed (a reminder for a meeting that has begun).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Telegram's id of the poll this row sent: votes (poll_answer) name only the poll.
    poll_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
