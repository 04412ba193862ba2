"""The progress digest staff can switch on: to whom, how often, when it goes next."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime


class DigestFrequency(StrEnum):
    WEEKLY = "weekly"  # Saturday morning, the start of the Iranian week
    MONTHLY = "monthly"  # the first morning of each Jalali month


class Digest(Base):
    """One row at most: the initiative's digest. Stopped when next_at is None."""

    __tablename__ = "digest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    frequency: Mapped[str] = mapped_column(String(8))
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
