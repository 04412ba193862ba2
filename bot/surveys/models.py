"""Surveys as stored: the definition, who takes part, responses and their answers.

Anonymous surveys keep answers apart from people: a response has no person and no times, and
the only link (survey_participant.response_id) exists while someone is part-way through, so
they can resume; it is cut when they finish, and the participant rows go when the survey
closes (their aggregate response rates are kept in survey.stats first).

Cutting the link is not enough: rows written at the same moment on both sides share an order
(ids, SQLite's rowid, PostgreSQL's ctid, which every insert and update moves on). So response
ids are random, and finished anonymous responses wait until there are min_responses of them,
then are mixed: written again together, in a random order under fresh random ids
(bot.surveys.service.mix). Only mixed responses are counted.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime

# A response's id is drawn at random (bot.surveys.service.RESPONSE_IDS): a 64-bit column, and
# on SQLite "INTEGER PRIMARY KEY", which makes it the rowid, so the rowid is random too.
ResponseId = BigInteger().with_variant(Integer(), "sqlite")


class SurveyStatus(StrEnum):
    DRAFT = "draft"  # being written or imported; nobody sees it
    SCHEDULED = "scheduled"  # waits for opens_at
    OPEN = "open"
    CLOSED = "closed"


class Survey(Base):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    form: Mapped[dict[str, Any]] = mapped_column(JSON)  # bot.surveys.form.Form
    source: Mapped[str] = mapped_column(String(16))  # bot, xlsform, template
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # bot.people.audience
    status: Mapped[str] = mapped_column(String(12), default=SurveyStatus.DRAFT, index=True)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # rates kept past an anonymous close
    # Anonymous: the ANONYMOUS_MIN_RESPONSES in force when it was published (None: named).
    min_responses: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def batch(self) -> str:
        return f"survey:{self.id}"


class SurveyResponse(Base):
    __tablename__ = "survey_response"

    id: Mapped[int] = mapped_column(ResponseId, primary_key=True, autoincrement=False)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    # None in anonymous surveys (and after /forget).
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    # Anonymous: written again among others (counted from then on); always False when named.
    mixed: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None when anonymous
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None when anonymous


class SurveyAnswer(Base):
    """Saved as it arrives. value is JSON (bot.surveys.form.value_to_json); None marks a
    question skipped or a note read, so that resuming passes it."""

    __tablename__ = "survey_answer"

    response_id: Mapped[int] = mapped_column(
        ResponseId, ForeignKey("survey_response.id", ondelete="CASCADE"), primary_key=True
    )
    question: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # the question's place in the form
    value: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None when anonymous


class SurveyParticipant(Base):
    """Who has started a survey: what resuming and refusing a second response need."""

    __tablename__ = "survey_participant"

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # While answering; cut when an anonymous response is finished.
    response_id: Mapped[int | None] = mapped_column(
        ResponseId, ForeignKey("survey_response.id", ondelete="SET NULL")
    )
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
