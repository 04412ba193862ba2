from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime


class JobKind(StrEnum):
    EXPORT = "export"
    REPORT = "report"
    RESULTS = "results"  # a survey's /results
    PARTICIPATION = "participation"  # /checkins' participation chart


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"  # a child process works on it; its heartbeat says it still does
    DONE = "done"  # its results are in the outbox
    FAILED = "failed"


class BackgroundJob(Base):
    """One piece of long staff work, asked for in a chat and answered there."""

    __tablename__ = "background_job"
    __table_args__ = (Index("ix_background_job_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(4))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    # The message that shows the job's progress, edited as it goes.
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(300))
