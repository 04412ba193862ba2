"""Stored responses as files for the backbone's analysts: CSV for Excel or an XLSX workbook.

Exports stream: rows come in chunks of CHUNK from a server-side cursor (the session's
connection, `stream` with `yield_per`) as plain tuples of the columns a Core select names (no
ORM object per row), and are written as they come, so memory stays flat however many rows
there are. Small dimension tables (groups, rounds' questions, survey forms, indicators,
meetings) are read up front; people's names are joined in SQL, since there may be many people.

Every time is Tehran local time, given twice: a real Gregorian datetime (a datetime cell in
XLSX, "2026-11-27 18:30:00" in CSV, which Excel reads as a date) and beside it a Jalali text
column ("1405/09/06 18:30"). Numbers are ASCII digits, and numbers in XLSX are number cells.
Free text (answers, names, errors) is written as people wrote it; in CSV a text that Excel
would take for a formula gets a leading apostrophe.

Anonymous surveys: a row never carries a person or a time, whatever the database holds; only
mixed responses are written, and none until the survey's min_responses are mixed (the rule of
bot.surveys.service); rows go by response id, which is random, so their order says nothing.

Converting and writing run in a worker thread, a chunk at a time, so that an export started
inside the running bot does not stall its event loop. (Reading the next chunk meanwhile gained
nothing: both halves need the GIL.)
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum, StrEnum
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal

from persiantools.jdatetime import JalaliDate
from sqlalchemy import ColumnElement, Select, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from bot.checkins.models import Checkin, CheckinAnswer, CheckinRound
from bot.delivery.models import Delivery
from bot.groups.models import Group
from bot.i18n.format import TEHRAN
from bot.indicators.models import Indicator, IndicatorValue
from bot.meetings.models import Meeting, MeetingInvitee
from bot.people.models import Person
from bot.surveys.form import Kind, Question
from bot.surveys.models import Survey, SurveyAnswer, SurveyResponse
from bot.surveys.service import form_of

__all__ = ["CHUNK", "Dataset", "Format", "export"]

CHUNK = 10_000  # rows per fetch and per write
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet, header included: more rows go on to a next
Format = Literal["csv", "xlsx"]
Progress = Callable[[int, int], None]  # (rows written, rows in all)


class Dataset(StrEnum):
    CHECKIN_ANSWERS = "checkin_answers"
    SURVEY_RESPONSES = "survey_responses"
    INDICATOR_VALUES = "indicator_values"
    DELIVERIES = "deliveries"
    MEETINGS = "meetings"


# ---- words ------------------------------------------------------------------------------------

# Column headers, (Persian, English). The bot's gettext catalogs are for what people read in
# Telegram; a file's headers live here, beside the columns they name.
HEADERS: dict[str, tuple[str, str]] = {
    "group": ("گروه", "Group"),
    "round": ("شمارهٔ نوبت", "Round"),
    "due_at": ("زمان نوبت", "Round time"),
    "person": ("نام", "Name"),
    "question_number": ("شمارهٔ پرسش", "Question no."),
    "question": ("پرسش", "Question"),
    "answer": ("پاسخ", "Answer"),
    "answered_at": ("زمان پاسخ", "Answered at"),
    "survey": ("شمارهٔ پرسش‌نامه", "Survey"),
    "survey_title": ("عنوان پرسش‌نامه", "Survey title"),
    "response": ("شمارهٔ پاسخ", "Response"),
    "finished": ("تکمیل‌شده", "Finished"),
    "question_name": ("نام پرسش", "Question name"),
    "indicator": ("شمارهٔ شاخص", "Indicator"),
    "indicator_name": ("نام شاخص", "Indicator name"),
    "period_start": ("آغاز دوره", "Period start"),
    "value": ("مقدار", "Value"),
    "unit": ("واحد", "Unit"),
    "source": ("منبع", "Source"),
    "reported_by": ("گزارش‌دهنده", "Reported by"),
    "reported_at": ("زمان گزارش", "Reported at"),
    "current": ("مقدار فعلی دوره", "Current value"),
    "delivery": ("شناسه", "ID"),
    "message": ("پیام", "Message"),
    "chat": ("شناسهٔ گفتگو", "Chat ID"),
    "status": ("وضعیت", "Status"),
    "attempts": ("تعداد تلاش‌ها", "Attempts"),
    "last_error": ("آخرین خطا", "Last error"),
    "created_at": ("زمان ثبت", "Created at"),
    "finished_at": ("زمان پایان", "Finished at"),
    "meeting": ("شمارهٔ جلسه", "Meeting"),
    "title": ("عنوان جلسه", "Meeting title"),
    "starts_at": ("زمان شروع", "Starts at"),
    "meeting_status": ("وضعیت جلسه", "Meeting status"),
    "rsvp": ("پاسخ به دعوت", "RSVP"),
    "attended": ("حضور", "Attended"),
}
# Beside a date or time: which calendar each of its two columns is in.
CALENDARS = {"gregorian": ("میلادی", "Gregorian"), "jalali": ("شمسی", "Jalali")}

# Stored codes as a reader says them; a code missing here is written as it is stored.
LABELS: dict[str, tuple[str, str]] = {
    "yes": ("بله", "yes"),
    "no": ("خیر", "no"),
    # indicator_value.source
    "report": ("گزارش در ربات", "reported in the bot"),
    "checkin": ("پیگیری دوره‌ای", "check-in"),
    "cli": ("خط فرمان", "command line"),
    # delivery.status
    "pending": ("در صف", "pending"),
    "sending": ("در حال فرستادن", "sending"),
    "sent": ("فرستاده شد", "sent"),
    "failed": ("ناموفق", "failed"),
    "unreachable": ("در دسترس نبود", "unreachable"),
    "skipped": ("فرستاده نشد", "not sent"),
    # meeting.status
    "scheduled": ("برقرار", "scheduled"),
    "cancelled": ("لغو شده", "cancelled"),
}
RSVP_LABELS: dict[str, tuple[str, str]] = {
    "pending": ("بی‌پاسخ", "no answer"),
    "yes": ("می‌آید", "coming"),
    "no": ("نمی‌آید", "not coming"),
    "maybe": ("شاید", "maybe"),
}
SHEETS: dict[Dataset, tuple[str, str]] = {
    Dataset.CHECKIN_ANSWERS: ("پاسخ‌های پیگیری دوره‌ای", "Check-in answers"),
    Dataset.SURVEY_RESPONSES: ("پاسخ‌های پرسش‌نامه‌ها", "Survey responses"),
    Dataset.INDICATOR_VALUES: ("مقدارهای شاخص‌ها", "Indicator values"),
    Dataset.DELIVERIES: ("پیام‌های فرستاده‌شده", "Messages sent"),
    Dataset.MEETINGS: ("جلسه‌ها و حضور", "Meetings and attendance"),
}


# What each outbox row was, by the shape of its key (bot/delivery/outbox.Outgoing.key): the
# first part names the feature, the second its number, the last what the message did.
MESSAGES: dict[str, tuple[str, str]] = {
    "announcement": ("اطلاعیهٔ {n}", "Announcement {n}"),
    "announcement:summary": ("گزارش فرستادن اطلاعیهٔ {n}", "Announcement {n}: how it went"),
    "checkin": ("پرسش‌های نوبت {n} پیگیری دوره‌ای", "Check-in round {n}: questions"),
    "checkin:remind": ("یادآوری نوبت {n} پیگیری دوره‌ای", "Check-in round {n}: reminder"),
    "checkin:summary": ("جمع‌بندی نوبت {n} پیگیری دوره‌ای", "Check-in round {n}: summary"),
    "survey": ("دعوت به پرسش‌نامهٔ {n}", "Survey {n}: invitation"),
    "survey:remind": ("یادآوری پرسش‌نامهٔ {n}", "Survey {n}: reminder"),
    "poll": ("نظرسنجی سریع {n}", "Quick poll {n}"),
    "poll:stop": ("بستن نظرسنجی سریع {n}", "Quick poll {n}: closed"),
    "meeting": ("دعوت به جلسهٔ {n}", "Meeting {n}: invitation"),
    "meeting:moved": ("تغییر زمان جلسهٔ {n}", "Meeting {n}: new time"),
    "meeting:cancelled": ("لغو جلسهٔ {n}", "Meeting {n}: cancelled"),
    "meeting:remind": ("یادآوری جلسهٔ {n}", "Meeting {n}: reminder"),
    "meeting:followup": ("پیام پس از جلسهٔ {n}", "Meeting {n}: follow-up"),
    "digest": ("خلاصهٔ پیشرفت", "Progress digest"),
}
# The parts of a key that say what the message did, beyond its feature's first message.
_DOING = ("summary", "followup", "moved", "cancelled", "stop", "remind")


def describe_delivery(key: str, language: str) -> str:
    """What an outbox row was, for a reader: «یادآوری نوبت 12 پیگیری دوره‌ای» (a file's digits
    are ASCII, as spreadsheets read them)."""
    feature, _, rest = key.partition(":")
    parts = rest.split(":")
    doing = next((d for d in _DOING if any(p.startswith(d) for p in parts[1:])), None)
    words = MESSAGES.get(f"{feature}:{doing}") or MESSAGES.get(feature)
    if words is None or not parts[0].isdigit():
        return key
    return _word(words, language).format(n=int(parts[0]))


def _word(words: tuple[str, str], language: str) -> str:
    return words[1] if language == "en" else words[0]


def _labels(table: dict[str, tuple[str, str]], language: str) -> dict[str, str]:
    return {code: _word(words, language) for code, words in table.items()}


def _text(texts: dict[str, str] | None, language: str) -> str:
    """Staff-written content in the chosen language, else the other one."""
    if not texts:
        return ""
    other = "fa" if language == "en" else "en"
    return texts.get(language) or texts.get(other) or ""


# ---- columns ----------------------------------------------------------------------------------


class Cell(Enum):
    TEXT = "text"  # str or None
    INT = "int"  # int or None
    NUMBER = "number"  # a decimal as ASCII text (Number) or None
    VALUE = "value"  # an answer: Number, or str
    MOMENT = "moment"  # an aware datetime, SQLite's UTC text, or None: two columns (Gregorian,
    # Jalali)
    DAY = "day"  # a date or None: two columns, Gregorian and Jalali


class Number(str):
    """A decimal kept as its exact ASCII text: written as is in CSV, as a number in XLSX."""

    __slots__ = ()


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_WIDTHS = {
    Cell.TEXT: 22,
    Cell.INT: 11,
    Cell.NUMBER: 12,
    Cell.VALUE: 30,
    Cell.MOMENT: 17,
    Cell.DAY: 11,
}


def number(text: str | None) -> Number | None:
    """A stored decimal as a Number, or None when the text is not a plain decimal."""
    if text is None:
        return None
    return Number(text) if _DECIMAL.fullmatch(text) else None


@dataclass(frozen=True)
class Column:
    key: str  # in HEADERS
    kind: Cell
    width: int | None = None  # characters, in XLSX; None: by kind

    def headers(self, language: str) -> list[str]:
        header = _word(HEADERS[self.key], language)
        if self.kind in (Cell.MOMENT, Cell.DAY):
            return [
                f"{header} ({_word(CALENDARS[calendar], language)})"
                for calendar in ("gregorian", "jalali")
            ]
        return [header]


@dataclass(frozen=True)
class Plan:
    """What one dataset needs: its columns, how many rows, the rows, and a row's cells."""

    columns: tuple[Column, ...]
    count: Select[Any]
    query: Select[Any]
    convert: Callable[[Sequence[Any]], tuple[Any, ...]]


# ---- the datasets -----------------------------------------------------------------------------


def _unprocessed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The driver's value as it comes (SQLite: 0 or 1, PostgreSQL: a bool), for the big
    tables: SQLAlchemy's per-value processing on the event loop costs more than using it."""
    return type_coerce(column, NullType())


def _utc_text(session: AsyncSession, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A stored moment as UTC text, «2026-11-27 15:00:05.000000», on both databases: SQLite
    stores it so, and PostgreSQL writes it in C, where decoding a datetime and converting it in
    Python cost several times more. The writer converts a minute's text once (_Calendar)."""
    if session.bind.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS.US")
    return _unprocessed(column)


def _yes_no(language: str) -> Callable[[bool | None], str | None]:
    yes, no = _word(LABELS["yes"], language), _word(LABELS["no"], language)
    return lambda flag: None if flag is None else yes if flag else no


async def _checkin_answers(session: AsyncSession, language: str) -> Plan:
    groups = {group.id: group.name(language) for group in await session.scalars(select(Group))}
    # A round's questions as it asked them (the snapshot taken when it started).
    rounds: dict[int, tuple[str, datetime, list[tuple[str, str, list[str]]]]] = {}
    for round_id, due_at, questions, group_id in await session.execute(
        select(CheckinRound.id, CheckinRound.due_at, CheckinRound.questions, Checkin.group_id).join(
            Checkin, Checkin.id == CheckinRound.checkin_id
        )
    ):
        asked = [
            (
                _text(question.get("text"), language),
                str(question.get("kind") or "text"),
                [_text(choice, language) for choice in question.get("choices") or ()],
            )
            for question in questions
        ]
        rounds[round_id] = (groups.get(group_id, ""), due_at, asked)
    # Kinds stored as numbers (checkins.questions: number, scale, and an indicator's value).
    numeric = {"number", "scale", "indicator"}

    def convert(row: Sequence[Any]) -> tuple[Any, ...]:
        round_id, name, index, value, answered_at = row
        group, due_at, asked = rounds.get(round_id) or ("", None, [])
        text, kind, choices = asked[index] if index < len(asked) else ("", "text", [])
        if kind == "choice" and value.isdigit() and int(value) < len(choices):
            value = choices[int(value)]
        elif kind in numeric:
            value = number(value) or value
        return (group, round_id, due_at, name, index + 1, text, value, answered_at)

    return Plan(
        columns=(
            Column("group", Cell.TEXT),
            Column("round", Cell.INT),
            Column("due_at", Cell.MOMENT),
            Column("person", Cell.TEXT),
            Column("question_number", Cell.INT),
            Column("question", Cell.TEXT, 40),
            Column("answer", Cell.VALUE, 50),
            Column("answered_at", Cell.MOMENT),
        ),
        count=select(func.count()).select_from(CheckinAnswer),
        query=select(
            CheckinAnswer.round_id,
            Person.display_name,
            CheckinAnswer.question,
            CheckinAnswer.value,
            _utc_text(session, CheckinAnswer.answered_at),
        )
        .outerjoin(Person, Person.id == CheckinAnswer.person_id)
        .order_by(CheckinAnswer.round_id, CheckinAnswer.person_id, CheckinAnswer.question),
        convert=convert,
    )


def _reader(question: Question, language: str) -> Callable[[str], Any]:
    """How a stored answer (JSON) to this question reads: choices by their labels, several
    joined with «; », numbers as Number."""
    labels = {option.name: _text(option.label, language) for option in question.options}
    loads = json.loads
    if question.kind in (Kind.NUMBER, Kind.SCALE):
        return lambda stored: number(str(loads(stored))) or str(loads(stored))
    if question.kind is Kind.MULTIPLE:
        return lambda stored: "; ".join(labels.get(name, name) for name in loads(stored))
    if question.kind in (Kind.SINGLE, Kind.YES_NO):
        return lambda stored: labels.get(data := loads(stored), data)
    return lambda stored: str(loads(stored))


async def _survey_responses(session: AsyncSession, language: str) -> Plan:
    surveys: dict[int, tuple[str, bool]] = {}
    questions: dict[tuple[int, str], tuple[str, Callable[[str], Any]]] = {}
    mixed = dict(
        (
            await session.execute(
                select(SurveyResponse.survey_id, func.count())
                .where(SurveyResponse.mixed)
                .group_by(SurveyResponse.survey_id)
            )
        ).all()
    )
    nameless: list[int] = []  # anonymous surveys
    shown: list[int] = []  # those with enough mixed responses
    for survey in await session.scalars(select(Survey)):
        form = form_of(survey)
        surveys[survey.id] = (_text(form.title, language), survey.anonymous)
        if survey.anonymous:
            nameless.append(survey.id)
            if mixed.get(survey.id, 0) >= (survey.min_responses or 1):
                shown.append(survey.id)
        for question in form.questions:
            reader = _reader(question, language)
            questions[survey.id, question.name] = (_text(question.label, language), reader)
    yes_no = _yes_no(language)

    read: dict[tuple[int, str, str], Any] = {}  # (survey, question, stored) → its cell

    def convert(row: Sequence[Any]) -> tuple[Any, ...]:
        survey_id, response_id, finished, name, question, stored, answered_at = row
        title, anonymous = surveys.get(survey_id, ("", True))
        label, reader = questions.get((survey_id, question)) or ("", str)
        # Answers repeat (choices, scales, numbers): each distinct one is read once, mostly.
        value = read.get((survey_id, question, stored), read)
        if value is read:
            try:
                value = reader(stored)
            except (ValueError, TypeError):  # not what the form expects: show it as stored
                value = stored
            if len(stored) <= _CACHED_LENGTH:
                if len(read) >= _CACHED:
                    read.clear()
                read[survey_id, question, stored] = value
        if anonymous:  # no person and no time, even if a row somehow kept one
            name = answered_at = None
        return (
            survey_id,
            title,
            response_id,
            yes_no(finished),
            name,
            question,
            label,
            value,
            answered_at,
        )

    answered = (
        SurveyAnswer.value.is_not(None)  # None marks a skipped question or a note read
        & (SurveyResponse.survey_id.not_in(nameless) | SurveyResponse.survey_id.in_(shown))
        & (SurveyResponse.mixed | SurveyResponse.survey_id.not_in(nameless))
    )
    return Plan(
        columns=(
            Column("survey", Cell.INT),
            Column("survey_title", Cell.TEXT, 30),
            Column("response", Cell.INT),
            Column("finished", Cell.TEXT, 10),
            Column("person", Cell.TEXT),
            Column("question_name", Cell.TEXT, 16),
            Column("question", Cell.TEXT, 40),
            Column("answer", Cell.VALUE, 40),
            Column("answered_at", Cell.MOMENT),
        ),
        count=select(func.count())
        .select_from(SurveyAnswer)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(answered),
        query=select(
            SurveyResponse.survey_id,
            SurveyAnswer.response_id,
            _unprocessed(SurveyResponse.finished),
            Person.display_name,
            SurveyAnswer.question,
            SurveyAnswer.value,
            _utc_text(session, SurveyAnswer.answered_at),
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .outerjoin(Person, Person.id == SurveyResponse.person_id)
        .where(answered)
        .order_by(SurveyAnswer.response_id, SurveyAnswer.position),
        convert=convert,
    )


async def _indicator_values(session: AsyncSession, language: str) -> Plan:
    indicators = {
        indicator.id: (_text(indicator.name, language), _text(indicator.unit, language))
        for indicator in await session.scalars(select(Indicator))
    }
    sources = _labels({k: LABELS[k] for k in ("report", "checkin", "cli")}, language)
    yes_no = _yes_no(language)
    # The newest row of a period counts (indicators.service.latest_for); corrections stay.
    newest_first = (
        func.row_number()
        .over(
            partition_by=(IndicatorValue.indicator_id, IndicatorValue.period_start),
            order_by=(IndicatorValue.reported_at.desc(), IndicatorValue.id.desc()),
        )
        .label("newest_first")
    )

    def convert(row: Sequence[Any]) -> tuple[Any, ...]:
        indicator_id, period_start, value, source, name, reported_at, rank = row
        indicator, unit = indicators.get(indicator_id, ("", ""))
        return (
            indicator_id,
            indicator,
            period_start,
            number(value) or value,
            unit,
            sources.get(source, source),
            name,
            reported_at,
            yes_no(rank == 1),
        )

    return Plan(
        columns=(
            Column("indicator", Cell.INT),
            Column("indicator_name", Cell.TEXT, 30),
            Column("period_start", Cell.DAY),
            Column("value", Cell.NUMBER),
            Column("unit", Cell.TEXT, 12),
            Column("source", Cell.TEXT, 14),
            Column("reported_by", Cell.TEXT),
            Column("reported_at", Cell.MOMENT),
            Column("current", Cell.TEXT, 12),
        ),
        count=select(func.count()).select_from(IndicatorValue),
        query=select(
            IndicatorValue.indicator_id,
            IndicatorValue.period_start,
            IndicatorValue.value,
            IndicatorValue.source,
            Person.display_name,
            IndicatorValue.reported_at,
            newest_first,
        )
        .outerjoin(Person, Person.id == IndicatorValue.reported_by)
        .order_by(
            IndicatorValue.indicator_id,
            IndicatorValue.period_start,
            IndicatorValue.reported_at,
            IndicatorValue.id,
        ),
        convert=convert,
    )


async def _deliveries(session: AsyncSession, language: str) -> Plan:
    statuses = _labels(LABELS, language)

    def convert(row: Sequence[Any]) -> tuple[Any, ...]:
        status = row[3]
        message = describe_delivery(row[1], language)
        return (row[0], message, row[2], statuses.get(status, status), *row[4:])

    return Plan(
        columns=(
            Column("delivery", Cell.INT),
            Column("message", Cell.TEXT, 32),
            Column("chat", Cell.INT, 16),
            Column("status", Cell.TEXT, 14),
            Column("attempts", Cell.INT),
            Column("last_error", Cell.TEXT, 40),
            Column("created_at", Cell.MOMENT),
            Column("finished_at", Cell.MOMENT),
        ),
        count=select(func.count()).select_from(Delivery),
        query=select(
            Delivery.id,
            Delivery.key,
            Delivery.chat_id,
            Delivery.status,
            Delivery.attempts,
            Delivery.last_error,
            _utc_text(session, Delivery.created_at),
            _utc_text(session, Delivery.finished_at),
        ).order_by(Delivery.id),
        convert=convert,
    )


async def _meetings(session: AsyncSession, language: str) -> Plan:
    meetings = {
        meeting_id: (_text(title, language), starts_at, status)
        for meeting_id, title, starts_at, status in await session.execute(
            select(Meeting.id, Meeting.title, Meeting.starts_at, Meeting.status)
        )
    }
    statuses = _labels(LABELS, language)
    rsvps = _labels(RSVP_LABELS, language)
    yes_no = _yes_no(language)

    def convert(row: Sequence[Any]) -> tuple[Any, ...]:
        meeting_id, name, rsvp, attended = row
        title, starts_at, status = meetings.get(meeting_id, ("", None, ""))
        return (
            meeting_id,
            title,
            starts_at,
            statuses.get(status, status),
            name,
            rsvps.get(rsvp, rsvp),
            yes_no(attended),  # empty while attendance is not marked
        )

    return Plan(
        columns=(
            Column("meeting", Cell.INT),
            Column("title", Cell.TEXT, 30),
            Column("starts_at", Cell.MOMENT),
            Column("meeting_status", Cell.TEXT, 12),
            Column("person", Cell.TEXT),
            Column("rsvp", Cell.TEXT, 12),
            Column("attended", Cell.TEXT, 8),
        ),
        count=select(func.count()).select_from(MeetingInvitee),
        query=select(
            MeetingInvitee.meeting_id,
            Person.display_name,
            MeetingInvitee.rsvp,
            MeetingInvitee.attended,
        )
        .outerjoin(Person, Person.id == MeetingInvitee.person_id)
        .order_by(MeetingInvitee.meeting_id, MeetingInvitee.person_id),
        convert=convert,
    )


PLANS = {
    Dataset.CHECKIN_ANSWERS: _checkin_answers,
    Dataset.SURVEY_RESPONSES: _survey_responses,
    Dataset.INDICATOR_VALUES: _indicator_values,
    Dataset.DELIVERIES: _deliveries,
    Dataset.MEETINGS: _meetings,
}


# ---- times ------------------------------------------------------------------------------------

_EXCEL_EPOCH = datetime(1899, 12, 30)
_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_DAY_US = _ONE_DAY // _ONE_MICROSECOND
_UNKNOWN = timedelta(days=-1)  # not looked up yet (no real offset is a whole negative day)
_ROWS_AT_ONCE = 500  # XLSX rows joined into one write: fewer calls, a few hundred KB held
# A cache of converted values keeps this many before it starts again, of texts this long at
# most (those repeat; long ones are free text, which does not): memory stays flat.
_CACHED = 4096
_CACHED_LENGTH = 200


def _whole_day_offset(ordinal: int) -> timedelta | None:
    """Tehran's UTC offset throughout this UTC day, or None if it changed during it."""
    start = datetime.fromordinal(ordinal).replace(tzinfo=UTC)
    first = start.astimezone(TEHRAN).utcoffset()
    last = (start + _ONE_DAY - timedelta(microseconds=1)).astimezone(TEHRAN).utcoffset()
    return first if first == last else None


class _Calendar:
    """Tehran local time of a stored moment, and Jalali dates, with what is slow done once per
    day: persiantools' conversion, and zoneinfo's offset (one per UTC day, unless Tehran's
    clocks moved that day, as they did for daylight saving until 2022)."""

    def __init__(self) -> None:
        self._days: dict[date, str] = {}
        self._offsets: dict[int, timedelta | None] = {}
        self._minutes: dict[str, tuple[str, str, int] | None] = {}

    def local(self, value: datetime | str) -> datetime:
        """Naive Tehran time of an aware datetime, or of SQLite's UTC text."""
        if type(value) is not str:
            return value.astimezone(TEHRAN).replace(tzinfo=None)  # type: ignore[union-attr]
        utc = datetime.fromisoformat(value)
        day = utc.toordinal()
        offset = self._offsets.get(day, _UNKNOWN)
        if offset is _UNKNOWN:
            offset = self._offsets[day] = _whole_day_offset(day)
        if offset is None:
            return utc.replace(tzinfo=UTC).astimezone(TEHRAN).replace(tzinfo=None)
        return utc + offset  # type: ignore[operator]

    def minute(self, value: str) -> tuple[str, str, int] | None:
        """For UTC text as SQLAlchemy writes it in SQLite («2026-11-27 15:00:05.000000»), the
        Tehran minute it falls in: ISO text («2026-11-27 18:30»), Jalali text («1405/09/06
        18:30») and microseconds since Excel's epoch; the seconds are the stored ones. None for
        other text, or where Tehran's offset was not whole minutes (local() then does it).

        Answers come many to a minute: this is one dictionary look-up for most of them."""
        if len(value) not in (19, 26) or value[16:17] != ":" or value[19:20] not in ("", "."):
            return None
        key = value[:16]
        found = self._minutes.get(key, False)
        if found is False:
            if len(self._minutes) >= _CACHED:
                self._minutes.clear()
            found = self._minutes[key] = self._whole_minute(key)
        return found

    def _whole_minute(self, key: str) -> tuple[str, str, int] | None:
        try:
            utc = datetime.fromisoformat(key)
        except ValueError:
            return None
        day = utc.toordinal()
        offset = self._offsets.get(day, _UNKNOWN)
        if offset is _UNKNOWN:
            offset = self._offsets[day] = _whole_day_offset(day)
        if offset is None or offset % _ONE_MINUTE:
            return None
        moment = utc + offset
        return (
            moment.isoformat(" ", "minutes"),
            f"{self.jalali(moment.date())} {moment.hour:02d}:{moment.minute:02d}",
            (moment - _EXCEL_EPOCH) // _ONE_MICROSECOND,
        )

    def jalali(self, day: date) -> str:
        text = self._days.get(day)
        if text is None:
            jalali = JalaliDate(day)
            text = self._days[day] = f"{jalali.year:04d}/{jalali.month:02d}/{jalali.day:02d}"
        return text


# ---- writers ----------------------------------------------------------------------------------

_FORMULA_START = frozenset("=+-@\t\r")


def _safe(text: str | None) -> str | None:
    """Text that Excel would run as a formula («=…», «+…», «@…», but not «-5») starts with an
    apostrophe instead (CSV injection)."""
    if text and text[0] in _FORMULA_START and not _DECIMAL.fullmatch(text):
        return "'" + text
    return text


class _CsvSink:
    """UTF-8 with a BOM (so Excel reads Persian), CRLF lines; each date or time as ISO text
    and Jalali text. A chunk is formatted a column at a time (a column's texts are mostly few
    distinct ones, checked once each) and encoded at once."""

    def __init__(self, stream: IO[bytes], columns: Sequence[Column], language: str) -> None:
        self._stream = stream
        self._calendar = _Calendar()
        self._kinds = [column.kind for column in columns]
        stream.write(codecs.BOM_UTF8)
        self._put([[h for column in columns for h in column.headers(language)]])

    def _put(self, lines: Iterable[Sequence[Any]]) -> None:
        text = io.StringIO()
        csv.writer(text).writerows(lines)
        self._stream.write(text.getvalue().encode())

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        cells: list[Sequence[Any]] = []  # the file's columns
        for kind, column in zip(self._kinds, zip(*rows, strict=True), strict=True):
            if kind is Cell.TEXT or kind is Cell.VALUE:
                cells.append(_safe_column(column))
            elif kind is Cell.MOMENT:
                cells.extend(self._moments(column))
            elif kind is Cell.DAY:
                cells.append([None if day is None else day.isoformat() for day in column])
                cells.append(
                    [None if day is None else self._calendar.jalali(day) for day in column]
                )
            else:  # ints and Numbers: the csv module writes them as they are
                cells.append(column)
        self._put(zip(*cells, strict=True))

    def _moments(self, column: Sequence[Any]) -> tuple[list[str | None], list[str | None]]:
        """A column of moments as (ISO text, Jalali text), seconds included in the ISO."""
        local, jalali, minute = self._calendar.local, self._calendar.jalali, self._calendar.minute
        isos: list[str | None] = []
        jalalis: list[str | None] = []
        iso_, jalali_ = isos.append, jalalis.append
        for value in column:
            if value is None:
                iso_(None)
                jalali_(None)
                continue
            found = minute(value) if type(value) is str else None
            if found is not None:
                iso_(found[0] + value[16:19])
                jalali_(found[1])
                continue
            moment = local(value)
            iso = moment.isoformat(" ", "seconds")
            iso_(iso)
            jalali_(jalali(moment.date()) + iso[10:16])
        return isos, jalalis

    def close(self) -> None:
        self._stream.flush()

    def abort(self) -> None:
        pass


def _safe_column(column: Sequence[str | None]) -> Sequence[str | None]:
    """A column of texts through _safe, each distinct text looked at once."""
    changed = {
        text: safe
        for text in set(column)
        if text and text[0] in _FORMULA_START and (safe := _safe(text)) is not text
    }
    if not changed:
        return column
    return [changed.get(text, text) for text in column]


class _XlsxSink:
    """One right-to-left sheet for Persian (left-to-right for English), a frozen bold header,
    datetimes as datetime cells (Excel serials of the naive Tehran time, in a date format) with
    a Jalali text column beside, numbers as numbers. Rows past Excel's limit go on to a next
    sheet. constant_memory writes each row out as it is given: the workbook holds one row.

    A row is written as XML at once (bot.reports.sheet) unless a text in it is one that
    xlsxwriter escapes: then cell by cell through xlsxwriter, as every row once was."""

    def __init__(
        self, target: IO[bytes], columns: Sequence[Column], language: str, sheet: str
    ) -> None:
        import xlsxwriter  # only exports need it

        from bot.reports import sheet as sheets

        self._plain_text = sheets.plain_text
        self._sheet_class = sheets.Sheet
        # constant_memory spools each sheet to a temporary file: kept in a folder of our own,
        # so that an export that fails leaves nothing behind.
        self._spool = tempfile.TemporaryDirectory(prefix="hamgam-export-")
        self._book = xlsxwriter.Workbook(
            target,
            {
                "tmpdir": self._spool.name,
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "use_zip64": True,
            },
        )
        self._columns = columns
        self._kinds = [column.kind for column in columns]
        # Where each column starts: a date or time takes two (Gregorian, then Jalali).
        spans = [2 if kind in (Cell.MOMENT, Cell.DAY) else 1 for kind in self._kinds]
        self._starts = [sum(spans[:n]) for n in range(len(spans))]
        self._names = [
            (xlsxwriter.utility.xl_col_to_name(at), xlsxwriter.utility.xl_col_to_name(at + 1))
            for at in self._starts
        ]
        self._language = language
        self._sheet_name = sheet
        self._bold = self._book.add_format({"bold": True})
        self._moment_format = self._book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self._day_format = self._book.add_format({"num_format": "yyyy-mm-dd"})
        # A format's number (the s="…" of its cells) is given when it is first used, as
        # xlsxwriter's own cell writing does, so that they are numbered the same: the header's
        # first, then dates and times as they come (_cells).
        self._bold._get_xf_index()
        self._calendar = _Calendar()
        self._texts: dict[str, str] = {}  # a plain text → its cell's XML (after the reference)
        self._sheets = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self._sheets += 1
        name = self._sheet_name if self._sheets == 1 else f"{self._sheet_name} ({self._sheets})"
        sheet = self._sheet = self._book.add_worksheet(name[:31], self._sheet_class)
        if self._language == "fa":
            sheet.right_to_left()
        sheet.freeze_panes(1, 0)
        at = 0
        for column in self._columns:
            for offset, header in enumerate(column.headers(self._language)):
                width = column.width if column.width and offset == 0 else _WIDTHS[column.kind]
                sheet.set_column(at, at, width)
                sheet.write_string(0, at, header, self._bold)
                at += 1
        self._row = 1

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        plain: list[tuple[int, str]] = []  # rows as XML, written together
        for values in rows:
            if self._row >= XLSX_MAX_ROWS:
                self._flush(plain)
                self._new_sheet()
            cells = self._cells(self._row, values)
            if cells is None:
                self._flush(plain)
                self._write_cell_by_cell(self._row, values)
            else:
                plain.append((self._row, cells))
                if len(plain) >= _ROWS_AT_ONCE:
                    self._flush(plain)
            self._row += 1
        self._flush(plain)

    def _flush(self, plain: list[tuple[int, str]]) -> None:
        if plain:
            self._sheet.write_rows(plain)
            plain.clear()

    def _text(self, text: str) -> str | None:
        """A text cell's XML after its reference; None if xlsxwriter would change the text."""
        xml = self._plain_text(text)
        if xml is not None and len(text) <= _CACHED_LENGTH:
            if len(self._texts) >= _CACHED:
                self._texts.clear()
            self._texts[text] = xml
        return xml

    def _cells(self, row: int, values: Sequence[Any]) -> str | None:
        """The row's cells as XML, or None if a value needs xlsxwriter's own handling."""
        minute, local, jalali = self._calendar.minute, self._calendar.local, self._calendar.jalali
        texts, text_xml = self._texts, self._text
        integer, moment_, day_ = Cell.INT, Cell.MOMENT, Cell.DAY  # fast names
        epoch, epoch_day, one_day, day_us = _EXCEL_EPOCH, _EXCEL_EPOCH.date(), _ONE_DAY, _DAY_US
        r = str(row + 1)
        parts: list[str] = []
        append = parts.append
        for kind, (name, beside), value in zip(self._kinds, self._names, values, strict=True):
            if value is None or value == "":
                continue  # an empty cell
            if kind is integer:
                append(f'<c r="{name}{r}"><v>{value:.16G}</v></c>')
            elif kind is moment_:
                found = minute(value) if type(value) is str else None
                if found is not None:
                    seconds = int(value[17:19]) * 1_000_000 + int(value[20:26] or 0)
                    serial = (found[2] + seconds) / day_us
                    stamp = found[1]
                else:
                    moment = local(value)
                    serial = (moment - epoch) / one_day
                    stamp = f"{jalali(moment.date())} {moment.hour:02d}:{moment.minute:02d}"
                xf = self._moment_format._get_xf_index()
                append(
                    f'<c r="{name}{r}" s="{xf}"><v>{serial:.16G}</v></c>'
                    f'<c r="{beside}{r}" t="inlineStr"><is><t>{stamp}</t></is></c>'
                )
            elif kind is day_:
                serial = (value - epoch_day) / one_day
                xf = self._day_format._get_xf_index()
                append(
                    f'<c r="{name}{r}" s="{xf}"><v>{serial:.16G}</v></c>'
                    f'<c r="{beside}{r}" t="inlineStr"><is><t>{jalali(value)}</t></is></c>'
                )
            elif type(value) is Number and math.isfinite(figure := float(value)):
                append(f'<c r="{name}{r}"><v>{figure:.16G}</v></c>')  # VALUE or NUMBER
            else:  # text, or a number past a float's range (Excel's too), as it was written
                xml = texts.get(value) or text_xml(value)
                if xml is None:
                    return None
                append(f'<c r="{name}{r}"{xml}')
        return "".join(parts)

    def _write_cell_by_cell(self, row: int, values: Sequence[Any]) -> None:
        local, jalali = self._calendar.local, self._calendar.jalali
        write_string, write_number = self._sheet.write_string, self._sheet.write_number
        for kind, col, value in zip(self._kinds, self._starts, values, strict=True):
            if value is None or value == "":
                pass  # an empty cell
            elif kind is Cell.TEXT:
                write_string(row, col, value)
            elif kind is Cell.INT:
                write_number(row, col, value)
            elif kind is Cell.MOMENT:
                moment = local(value)
                write_number(row, col, (moment - _EXCEL_EPOCH) / _ONE_DAY, self._moment_format)
                stamp = f"{jalali(moment.date())} {moment.hour:02d}:{moment.minute:02d}"
                write_string(row, col + 1, stamp)
            elif kind is Cell.DAY:
                serial = (value - _EXCEL_EPOCH.date()) / _ONE_DAY
                write_number(row, col, serial, self._day_format)
                write_string(row, col + 1, jalali(value))
            elif type(value) is Number and math.isfinite(figure := float(value)):
                write_number(row, col, figure)  # VALUE or NUMBER
            else:
                write_string(row, col, value)

    def close(self) -> None:
        try:
            self._book.close()
        finally:
            self.abort()

    def abort(self) -> None:
        self._spool.cleanup()


# ---- the export -------------------------------------------------------------------------------


async def export(
    session: AsyncSession,
    dataset: Dataset,
    fmt: Format,
    language: str,
    destination: BinaryIO | str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> int:
    """Writes the dataset as CSV or XLSX to a binary stream (left open) or to a file path
    (whole or not at all: written beside it, then renamed); returns the rows written."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown format {fmt!r}")
    if not isinstance(destination, str | os.PathLike):
        return await _export(session, Dataset(dataset), fmt, language, destination, progress)
    path = Path(destination)
    partial = path.with_name(path.name + ".part")
    try:
        stream = await asyncio.to_thread(partial.open, "wb")
        try:
            written = await _export(session, Dataset(dataset), fmt, language, stream, progress)
        finally:
            await asyncio.to_thread(stream.close)
        partial.replace(path)
        return written
    finally:
        partial.unlink(missing_ok=True)


async def _export(
    session: AsyncSession,
    dataset: Dataset,
    fmt: Format,
    language: str,
    stream: IO[bytes],
    progress: Progress | None,
) -> int:
    plan = await PLANS[dataset](session, language)
    total = await session.scalar(plan.count) or 0
    if progress is not None:
        progress(0, total)

    def open_sink() -> _CsvSink | _XlsxSink:
        if fmt == "csv":
            return _CsvSink(stream, plan.columns, language)
        return _XlsxSink(stream, plan.columns, language, _word(SHEETS[dataset], language))

    def write(rows: Sequence[Any]) -> int:
        sink.write(map(plan.convert, rows))
        return len(rows)

    sink = await asyncio.to_thread(open_sink)
    written = 0
    try:
        # Core rows from the session's connection: the ORM's per-row handling is not needed.
        connection = await session.connection()
        result = await connection.stream(plan.query.execution_options(yield_per=CHUNK))
        try:
            async for rows in result.partitions():
                written += await asyncio.to_thread(write, rows)
                if progress is not None:
                    progress(written, max(total, written))
        finally:
            await result.close()
    except BaseException:
        await asyncio.to_thread(sink.abort)
        raise
    await asyncio.to_thread(sink.close)
    return written
