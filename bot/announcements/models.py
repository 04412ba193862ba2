from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime


class AnnouncementStatus(StrEnum):
    SCHEDULED = "scheduled"  # waits for scheduled_at
    SENDING = "sending"  # its rows are in the outbox
    DONE = "done"
    CANCELLED = "cancelled"


class Announcement(Base):
    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    text_fa: Mapped[str | None] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    media: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    post_in_group_chats: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), default=AnnouncementStatus.SCHEDULED)
    recipients: Mapped[int | None] = mapped_column(Integer)
    # The staff member's message that shows sending progress, kept up to date.
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def batch(self) -> str:
        return f"announcement:{self.id}"
