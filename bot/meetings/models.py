"""Meetings of the steering committee and working groups, who is invited, RSVPs, attendance.

A recurring meeting is a series of rows: the first holds the recurrence, each later one
points to it (series_id) and is created when the one before has ended, with fresh RSVPs.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Rsvp(StrEnum):
    PENDING = "pending"
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


class Meeting(Base):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[dict[str, str]] = mapped_column(JSON)  # language → text
    agenda: Mapped[dict[str, str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The time the series' rule gave this meeting; moving the meeting leaves it, so the next
    # of the series is never the slot this one was moved away from.
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_min: Mapped[int] = mapped_column(Integer)
    place: Mapped[str | None] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64))
    reminders_min: Mapped[list[int]] = mapped_column(JSON)  # minutes before the start
    # On the first meeting of a series: bot.meetings.recurrence.Recurrence; None when one-off.
    recurrence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    series_ended: Mapped[bool] = mapped_column(Boolean, default=False)
    group_ids: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default=MeetingStatus.SCHEDULED, index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # the calendar file's version
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    @property
    def batch(self) -> str:
        return f"meeting:{self.id}"


class MeetingInvitee(Base):
    __tablename__ = "meeting_invitee"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    rsvp: Mapped[str] = mapped_column(String(8), default=Rsvp.PENDING)
    rsvp_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended: Mapped[bool | None] = mapped_column(Boolean)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    # The next reminder's moment, so the clock finds due reminders with one indexed query.
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
