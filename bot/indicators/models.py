"""Shared measurement: the indicators partners agreed on, and every value reported for them.

A value belongs to a period (the week, Jalali month or season it measures). Corrections add
a row for the same period; the newest row counts and the older ones stay as history.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot import clock
from bot.db import Base, UTCDateTime


class Direction(StrEnum):
    UP = "up"  # more is better
    DOWN = "down"


class Frequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"  # Jalali months
    QUARTERLY = "quarterly"  # the Jalali seasons


class Source(StrEnum):
    REPORT = "report"  # /report_value
    CHECKIN = "checkin"  # an «indicator value» question of a check-in
    CLI = "cli"


class Indicator(Base):
    __tablename__ = "indicator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON)  # language → text
    description: Mapped[dict[str, str]] = mapped_column(JSON)
    unit: Mapped[dict[str, str]] = mapped_column(JSON)  # e.g. {"fa": "نفر", "en": "people"}
    baseline: Mapped[str] = mapped_column(String(32))  # a decimal, kept exact
    target: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(4))
    frequency: Mapped[str] = mapped_column(String(12))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("group.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class IndicatorValue(Base):
    __tablename__ = "indicator_value"
    __table_args__ = (Index("ix_indicator_value_period", "indicator_id", "period_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(Date)  # the Gregorian date the period begins
    value: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(8))
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
