from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime


class SummaryTo(StrEnum):
    CHAT = "chat"  # the group's linked Telegram chat
    STAFF = "staff"
    BOTH = "both"


class Checkin(Base):
    __tablename__ = "checkin"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group.id", ondelete="CASCADE"), index=True)
    schedule: Mapped[dict[str, Any]] = mapped_column(JSON)  # checkins.schedule.Schedule
    window: Mapped[dict[str, Any]] = mapped_column(JSON)  # checkins.schedule.Window
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # checkins.questions
    summary_to: Mapped[str] = mapped_column(String(8), default=SummaryTo.BOTH)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Rounds are due from this moment on: creation, or the last resume (a paused check-in does
    # not catch up on the rounds it skipped).
    active_since: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class RoundStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CheckinRound(Base):
    """One occurrence of a check-in: created once (the key is the check-in and its due time),
    closed once, never reopened."""

    __tablename__ = "checkin_round"
    __table_args__ = (UniqueConstraint("checkin_id", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkin.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(8), default=RoundStatus.OPEN, index=True)
    # What the round asks and when it reminds, as they were when it started: editing the
    # check-in changes the rounds to come, never one that members are answering.
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reminders: Mapped[list[str]] = mapped_column(JSON)  # ISO UTC moments, in order
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Participation(StrEnum):
    """Where a member of the group stands in a round; each status means one thing.

    ASKED: asked, and not finished yet; what they have answered so far is kept.
    ANSWERED: answered every question. Counts as a response.
    NO_UPDATE: said they have nothing to report this time, before answering any question (it
        is offered only then), so the round holds no answers of theirs. Counts as a response.
    AWAY: away when the round started, or said «I'm away» during it. Not expected: left out of
        the rate, and never reminded. Answers given before saying so are kept.
    MISSED: the round closed before they finished. Expected and not a response; answers to
        the first questions, if any, are kept.
    """

    ASKED = "asked"
    ANSWERED = "answered"
    NO_UPDATE = "no_update"
    AWAY = "away"
    MISSED = "missed"


class CheckinParticipant(Base):
    __tablename__ = "checkin_participant"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("checkin_round.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[str] = mapped_column(String(12), default=Participation.ASKED)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    # The next reminder's moment while one is owed, so the clock finds due reminders with one
    # indexed query instead of scanning every open round.
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CheckinAnswer(Base):
    """Saved as it arrives; a member may change it while the round is open."""

    __tablename__ = "checkin_answer"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("checkin_round.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    question: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
