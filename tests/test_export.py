"""Exports for the backbone's analysts: a small initiative, written out as CSV and XLSX in both
languages, read back the way Excel (csv with a BOM) and openpyxl see it."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.checkins import service as checkins
from bot.checkins.models import CheckinAnswer
from bot.checkins.questions import Kind as CheckinKind
from bot.checkins.questions import Question as CheckinQuestion
from bot.checkins.schedule import Schedule, Window
from bot.cli import main
from bot.db import create_engine, session_factory, transaction
from bot.delivery.models import Delivery
from bot.groups import service as groups
from bot.groups.models import GroupKind, Membership
from bot.i18n.format import TEHRAN
from bot.indicators import service as indicators
from bot.indicators.models import Direction, Frequency, IndicatorValue, Source
from bot.meetings import service as meetings
from bot.meetings.models import MeetingInvitee, Rsvp
from bot.people.audience import Audience, AudienceKind
from bot.people.models import Person
from bot.reports.export import (
    Cell,
    Column,
    Dataset,
    Number,
    _Calendar,
    _CsvSink,
    _safe,
    _XlsxSink,
    describe_delivery,
    export,
)
from bot.schema import upgrade
from bot.surveys import service as surveys
from bot.surveys.form import Choice, Form, Kind, Question
from bot.surveys.models import SurveyAnswer
from bot.surveys.service import Progress

START = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 18:30 in Tehran, 1405/09/06
NON_ASCII_DIGITS = re.compile(r"[۰-۹٠-٩]")
JALALI_MOMENT = re.compile(r"14\d\d/\d\d/\d\d \d\d:\d\d")


@dataclass
class Initiative:
    maryam: int
    sara: int
    named_survey: int
    anonymous_survey: int


def _set_clock(moment: datetime) -> None:
    clock.set_clock(lambda: moment)


async def _person(session: AsyncSession, telegram_id: int, name: str, language: str) -> Person:
    person = Person(
        telegram_id=telegram_id,
        display_name=name,
        language=language,
        consented_at=clock.now(),
        role_grants=[],
        tag_links=[],
    )
    session.add(person)
    await session.flush()
    return person


async def _answer_survey(
    session: AsyncSession, survey_id: int, person_id: int, values: list[object]
) -> None:
    progress = await surveys.start(session, survey_id, person_id)
    for value in values:
        assert isinstance(progress, Progress)
        progress = await surveys.save(session, progress, person_id, value)  # type: ignore[arg-type]


async def build(session: AsyncSession) -> Initiative:
    """A working group of two, a check-in round they answered, a named and an anonymous survey,
    an indicator with a correction, two deliveries and a meeting."""
    _set_clock(START)
    maryam = await _person(session, 2001, "مریم رضایی", "fa")
    sara = await _person(session, 3001, "Sara", "en")
    group = await groups.create(
        session, GroupKind.WORKING_GROUP, "کارگروه فضای سبز", "Green spaces", None
    )
    session.add_all(Membership(person_id=p.id, group_id=group.id) for p in (maryam, sara))
    await session.flush()

    await checkins.create(
        session,
        group.id,
        Schedule(at=time(18, 0), weekdays=frozenset(range(7))),
        Window(1, time(20, 0)),
        (
            CheckinQuestion({"fa": "این هفته چه کردید؟", "en": "What did you do this week?"}),
            CheckinQuestion({"fa": "چند نفر آمدند؟", "en": "How many came?"}, CheckinKind.NUMBER),
            CheckinQuestion(
                {"fa": "حال کارگروه؟", "en": "How is the group?"},
                CheckinKind.CHOICE,
                ({"fa": "خوب", "en": "Good"}, {"fa": "بد", "en": "Bad"}),
            ),
        ),
    )
    _set_clock(START + timedelta(days=1))  # the round of 1405/09/07 18:00 has begun
    assert len(await checkins.start_due_rounds(session, clock.now())) == 1
    for person, values in ((maryam, ["نهال‌کاری در پارک محله", "12", "0"]),
                           (sara, ["=SUM(A1)", "7.5", "1"])):  # fmt: skip
        for value in values:
            pending = await checkins.pending_for(session, person.id)
            assert pending is not None
            await checkins.save_answer(session, pending, person.id, value)

    form = Form(
        {"fa": "نظرسنجی فضای سبز", "en": "Green spaces survey"},
        (
            Question("trees", Kind.NUMBER, {"fa": "چند درخت؟", "en": "How many trees?"}),
            Question(
                "colors",
                Kind.MULTIPLE,
                {"fa": "کدام رنگ‌ها؟", "en": "Which colours?"},
                choices=(
                    Choice("red", {"fa": "قرمز", "en": "Red"}),
                    Choice("green", {"fa": "سبز", "en": "Green"}),
                    Choice("blue", {"fa": "آبی", "en": "Blue"}),
                ),
            ),
            Question("comment", Kind.TEXT, {"fa": "نظر شما؟", "en": "Your comment?"}),
            Question("happy", Kind.YES_NO, {"fa": "راضی هستید؟", "en": "Are you happy?"}),
        ),
    )
    survey_ids = []
    for anonymous in (False, True):
        draft = await surveys.create_draft(session, form, "bot", None)
        published = await surveys.publish(
            session,
            draft.id,
            audience=Audience(AudienceKind.EVERYONE),
            opens_at=clock.now(),
            closes_at=clock.now() + timedelta(days=7),
            anonymous=anonymous,
            min_responses=2,  # the two who answer
            actor_id=None,
        )
        assert not isinstance(published, str)
        survey_ids.append(draft.id)
    await surveys.open_due(session, clock.now())
    for survey_id in survey_ids:
        await _answer_survey(
            session, survey_id, maryam.id, [Decimal("12.5"), ("red", "green"), "عالی بود", "yes"]
        )
        await _answer_survey(session, survey_id, sara.id, [Decimal(3), ("blue",), None, "no"])

    trees = await indicators.create(
        session,
        name={"fa": "درختان کاشته‌شده", "en": "Trees planted"},
        description={},
        unit={"fa": "اصله", "en": "trees"},
        baseline=Decimal(0),
        target=Decimal(100),
        direction=Direction.UP,
        frequency=Frequency.MONTHLY,
        group_id=group.id,
        author_id=None,
    )
    this_month = indicators.period_start(Frequency.MONTHLY, indicators.today())
    last_month = indicators.previous_period(Frequency.MONTHLY, this_month)
    for period, value, person in ((last_month, "8", sara), (this_month, "12", maryam),
                                  (this_month, "15.5", sara)):  # fmt: skip
        _set_clock(clock.now() + timedelta(hours=1))
        await indicators.report(
            session, trees, Decimal(value), period=period, source=Source.REPORT, person_id=person.id
        )

    for n, (status, error) in enumerate(
        (("sent", None), ("failed", "Bad Request: chat not found"))
    ):
        session.add(
            Delivery(
                key=f"announcement:1:{n}",
                batch="announcement:1",
                chat_id=2001 + n,
                person_id=None,
                language=None,
                content={"text": "سلام"},
                due_at=clock.now(),
                status=status,
                attempts=n + 1,
                last_error=error,
                created_at=clock.now(),
                finished_at=clock.now() + timedelta(seconds=2),
            )
        )
    meeting, _invitees = await meetings.create(
        session,
        title={"fa": "جلسهٔ کارگروه", "en": "Group meeting"},
        agenda={},
        starts_at=clock.now() + timedelta(days=2),
        duration_min=60,
        place=None,
        link=None,
        timezone="Asia/Tehran",
        group_ids=[group.id],
        author_id=None,
    )
    await meetings.answer(session, meeting.id, maryam.id, Rsvp.YES)
    await meetings.mark_attendance(session, meeting.id, maryam.id, True, None)
    await session.flush()
    return Initiative(maryam.id, sara.id, survey_ids[0], survey_ids[1])


async def stored(session: AsyncSession, dataset: Dataset) -> int:
    """How many rows the database holds for the dataset, counted independently."""
    table = {
        Dataset.CHECKIN_ANSWERS: select(func.count()).select_from(CheckinAnswer),
        Dataset.SURVEY_RESPONSES: select(func.count())
        .select_from(SurveyAnswer)
        .where(SurveyAnswer.value.is_not(None)),
        Dataset.INDICATOR_VALUES: select(func.count()).select_from(IndicatorValue),
        Dataset.DELIVERIES: select(func.count()).select_from(Delivery),
        Dataset.MEETINGS: select(func.count()).select_from(MeetingInvitee),
    }[dataset]
    return await session.scalar(table) or 0


async def as_csv(session: AsyncSession, dataset: Dataset, language: str) -> list[dict[str, str]]:
    buffer = io.BytesIO()
    written = await export(session, dataset, "csv", language, buffer)
    raw = buffer.getvalue()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert not NON_ASCII_DIGITS.search(text)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert written == len(rows)
    return rows


async def as_xlsx(
    session: AsyncSession, dataset: Dataset, language: str
) -> tuple[openpyxl.worksheet.worksheet.Worksheet, list[dict[str, object]]]:
    buffer = io.BytesIO()
    written = await export(session, dataset, "xlsx", language, buffer)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert len(book.worksheets) == 1
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    rows = [
        dict(zip(header, values, strict=True)) for values in sheet.iter_rows(2, values_only=True)
    ]
    assert written == len(rows)
    return sheet, rows


def time_columns(header: list[str], language: str) -> list[tuple[str, str]]:
    """(Gregorian, Jalali) header pairs of the dates and times."""
    gregorian, jalali = ("(میلادی)", "(شمسی)") if language == "fa" else ("(Gregorian)", "(Jalali)")
    return [
        (name, name.replace(gregorian, jalali))
        for name in header
        if name.endswith(gregorian) and name.replace(gregorian, jalali) in header
    ]


@pytest.mark.parametrize("language", ["fa", "en"])
async def test_every_dataset_as_csv(session: AsyncSession, language: str) -> None:
    await build(session)
    for dataset in Dataset:
        rows = await as_csv(session, dataset, language)
        assert len(rows) == await stored(session, dataset) > 0, dataset
        pairs = time_columns(list(rows[0]), language)
        assert pairs, dataset
        for gregorian, jalali in pairs:
            for row in rows:
                if row[gregorian]:
                    assert re.fullmatch(r"\d{4}-\d\d-\d\d( \d\d:\d\d:\d\d)?", row[gregorian])
                    assert re.fullmatch(r"14\d\d/\d\d/\d\d( \d\d:\d\d)?", row[jalali])


@pytest.mark.parametrize("language", ["fa", "en"])
async def test_every_dataset_as_xlsx(session: AsyncSession, language: str) -> None:
    await build(session)
    for dataset in Dataset:
        sheet, rows = await as_xlsx(session, dataset, language)
        assert bool(sheet.sheet_view.rightToLeft) is (language == "fa")
        assert len(rows) == await stored(session, dataset) > 0, dataset
        pairs = time_columns(list(rows[0]), language)
        assert pairs, dataset
        for gregorian, jalali in pairs:
            for row in rows:
                if row[gregorian] is not None:
                    assert isinstance(row[gregorian], datetime), (dataset, gregorian)
                    assert isinstance(row[jalali], str) and re.fullmatch(
                        r"14\d\d/\d\d/\d\d( \d\d:\d\d)?", row[jalali]
                    )


async def test_check_in_answers_read_as_the_group_wrote_them(session: AsyncSession) -> None:
    await build(session)
    rows = await as_csv(session, Dataset.CHECKIN_ANSWERS, "fa")
    maryam = [row for row in rows if row["نام"] == "مریم رضایی"]
    assert [(row["پرسش"], row["پاسخ"]) for row in maryam] == [
        ("این هفته چه کردید؟", "نهال‌کاری در پارک محله"),
        ("چند نفر آمدند؟", "12"),
        ("حال کارگروه؟", "خوب"),
    ]
    assert {row["گروه"] for row in rows} == {"کارگروه فضای سبز"}
    # Due 1405/09/07 at 18:00 Tehran time, however the database keeps it.
    assert maryam[0]["زمان نوبت (میلادی)"] == "2026-11-28 18:00:00"
    assert maryam[0]["زمان نوبت (شمسی)"] == "1405/09/07 18:00"
    # A text Excel would run as a formula is quoted in CSV, and stays text in XLSX.
    assert "'=SUM(A1)" in [row["پاسخ"] for row in rows]
    sheet, cells = await as_xlsx(session, Dataset.CHECKIN_ANSWERS, "en")
    sara = [row for row in cells if row["Name"] == "Sara"]
    assert [row["Answer"] for row in sara] == ["=SUM(A1)", 7.5, "Bad"]
    assert sara[0]["Round time (Gregorian)"] == datetime(2026, 11, 28, 18, 0)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


async def test_anonymous_survey_rows_carry_no_person_and_no_time(session: AsyncSession) -> None:
    initiative = await build(session)
    rows = await as_csv(session, Dataset.SURVEY_RESPONSES, "en")
    named = [row for row in rows if row["Survey"] == str(initiative.named_survey)]
    anonymous = [row for row in rows if row["Survey"] == str(initiative.anonymous_survey)]
    assert len(named) == 7 and len(anonymous) == 7  # Sara skipped her comment
    assert {row["Name"] for row in named} == {"مریم رضایی", "Sara"}
    assert all(row["Answered at (Gregorian)"] for row in named)
    for row in anonymous:
        assert row["Name"] == "" and row["Answered at (Gregorian)"] == ""
        assert row["Answered at (Jalali)"] == ""
    answers = {(row["Response"], row["Question name"]): row["Answer"] for row in named}
    maryam = next(row["Response"] for row in named if row["Name"] == "مریم رضایی")
    assert answers[maryam, "trees"] == "12.5"
    assert answers[maryam, "colors"] == "Red; Green"
    assert answers[maryam, "happy"] == "Yes"
    assert answers[maryam, "comment"] == "عالی بود"

    _sheet, cells = await as_xlsx(session, Dataset.SURVEY_RESPONSES, "fa")
    for row in cells:
        if row["شمارهٔ پرسش‌نامه"] == initiative.anonymous_survey:
            assert row["نام"] is None and row["زمان پاسخ (میلادی)"] is None
            assert row["زمان پاسخ (شمسی)"] is None
    values = {row["نام پرسش"]: row["پاسخ"] for row in cells if row["نام"] == "مریم رضایی"}
    assert values == {"trees": 12.5, "colors": "قرمز; سبز", "comment": "عالی بود", "happy": "بله"}


async def test_indicator_corrections_are_kept_and_only_the_newest_counts(
    session: AsyncSession,
) -> None:
    await build(session)
    rows = await as_csv(session, Dataset.INDICATOR_VALUES, "en")
    assert [(row["Value"], row["Current value"], row["Reported by"]) for row in rows] == [
        ("8", "yes", "Sara"),
        ("12", "no", "مریم رضایی"),
        ("15.5", "yes", "Sara"),
    ]
    assert {row["Indicator name"] for row in rows} == {"Trees planted"}
    assert {row["Unit"] for row in rows} == {"trees"}
    _sheet, cells = await as_xlsx(session, Dataset.INDICATOR_VALUES, "fa")
    assert [(row["مقدار"], row["مقدار فعلی دوره"]) for row in cells] == [
        (8, "بله"),
        (12, "خیر"),
        (15.5, "بله"),
    ]
    assert all(isinstance(row["آغاز دوره (میلادی)"], datetime) for row in cells)
    assert {row["آغاز دوره (شمسی)"] for row in cells} == {"1405/08/01", "1405/09/01"}


async def test_meetings_and_deliveries(session: AsyncSession) -> None:
    await build(session)
    rows = await as_csv(session, Dataset.MEETINGS, "en")
    assert {(row["Name"], row["RSVP"], row["Attended"]) for row in rows} == {
        ("مریم رضایی", "coming", "yes"),
        ("Sara", "no answer", ""),
    }
    rows = await as_csv(session, Dataset.DELIVERIES, "fa")
    assert [(row["پیام"], row["وضعیت"], row["تعداد تلاش‌ها"], row["آخرین خطا"]) for row in rows] == [
        ("اطلاعیهٔ 1", "فرستاده شد", "1", ""),
        ("اطلاعیهٔ 1", "ناموفق", "2", "Bad Request: chat not found"),
    ]


@pytest.mark.parametrize(
    ("key", "fa", "en"),
    [
        ("announcement:3:p17", "اطلاعیهٔ 3", "Announcement 3"),
        ("announcement:3:summary", "گزارش فرستادن اطلاعیهٔ 3", "Announcement 3: how it went"),
        ("checkin:12:17:ask", "پرسش‌های نوبت 12 پیگیری دوره‌ای", "Check-in round 12: questions"),
        ("checkin:12:17:remind2", "یادآوری نوبت 12 پیگیری دوره‌ای", "Check-in round 12: reminder"),
        ("checkin:12:summary:chat", "جمع‌بندی نوبت 12 پیگیری دوره‌ای", "Check-in round 12: summary"),
        ("survey:4:17:invite", "دعوت به پرسش‌نامهٔ 4", "Survey 4: invitation"),
        ("survey:4:17:remind", "یادآوری پرسش‌نامهٔ 4", "Survey 4: reminder"),
        ("poll:5:-100123", "نظرسنجی سریع 5", "Quick poll 5"),
        ("poll:5:-100123:stop", "بستن نظرسنجی سریع 5", "Quick poll 5: closed"),
        ("meeting:6:0:17:invite", "دعوت به جلسهٔ 6", "Meeting 6: invitation"),
        ("meeting:6:1:17:moved", "تغییر زمان جلسهٔ 6", "Meeting 6: new time"),
        ("meeting:6:2:17:cancelled", "لغو جلسهٔ 6", "Meeting 6: cancelled"),
        ("meeting:6:0:17:remind1", "یادآوری جلسهٔ 6", "Meeting 6: reminder"),
        ("meeting:6:followup:1764633600:17", "پیام پس از جلسهٔ 6", "Meeting 6: follow-up"),
        ("digest:1764633600:17", "خلاصهٔ پیشرفت", "Progress digest"),
        ("something:else", "something:else", "something:else"),
    ],
)
def test_each_delivery_says_what_message_it_was(key: str, fa: str, en: str) -> None:
    assert (describe_delivery(key, "fa"), describe_delivery(key, "en")) == (fa, en)


async def test_progress_and_a_file_written_whole(session: AsyncSession, tmp_path: Path) -> None:
    await build(session)
    seen: list[tuple[int, int]] = []
    target = tmp_path / "answers.xlsx"
    written = await export(
        session,
        Dataset.CHECKIN_ANSWERS,
        "xlsx",
        "fa",
        target,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert written == 6 and seen[0] == (0, 6) and seen[-1] == (6, 6)
    assert target.exists() and not (tmp_path / "answers.xlsx.part").exists()
    assert openpyxl.load_workbook(target).worksheets[0].max_row == 7


async def _seed(database_url: str) -> None:
    await upgrade(database_url)
    engine = create_engine(database_url)
    async with transaction(session_factory(engine)) as session:
        await build(session)
    await engine.dispose()


def test_the_export_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    asyncio.run(_seed(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"))
    clock.set_clock(None)
    runner = CliRunner()
    out = tmp_path / "answers.csv"
    result = runner.invoke(
        main, ["export", "checkin_answers", "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Exporting" in result.output  # the progress bar's label
    assert f"6 rows written to {out}" in result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 7

    result = runner.invoke(main, ["export", "meetings", "--format", "xlsx", "--language", "en"])
    assert result.exit_code == 0, result.output
    (made,) = tmp_path.glob("hamgam-meetings-*.xlsx")
    assert re.fullmatch(r"hamgam-meetings-\d{8}-\d{4}\.xlsx", made.name)
    assert not openpyxl.load_workbook(made).worksheets[0].sheet_view.rightToLeft

    result = runner.invoke(main, ["export", "everything"])
    assert result.exit_code == 2
    choices = re.findall(r"'(\w+)'", result.output)
    assert set(choices) >= {dataset.value for dataset in Dataset}


def test_jalali_dates_are_compact_and_ascii() -> None:
    """Nowruz 1405 falls on 21 March 2026."""
    assert _Calendar().jalali(date(2026, 3, 21)) == "1405/01/01"


def test_tehran_time_across_the_old_daylight_saving_changes() -> None:
    """Until 2022 Tehran's clocks moved at local midnight, half-way through a UTC hour; SQLite's
    UTC text and PostgreSQL's datetimes both come out as zoneinfo says."""
    calendar = _Calendar()
    for start in (datetime(2021, 3, 20, 12, tzinfo=UTC), datetime(2021, 9, 20, 12, tzinfo=UTC)):
        for minutes in range(0, 3 * 24 * 60, 7):
            moment = start + timedelta(minutes=minutes, seconds=13)
            expected = moment.astimezone(TEHRAN).replace(tzinfo=None)
            assert calendar.local(moment.strftime("%Y-%m-%d %H:%M:%S.%f")) == expected
            assert calendar.local(moment) == expected


# Every kind of cell a sink takes, plain and awkward: texts that xlsxwriter escapes (control
# characters, «_xHHHH_», white space at an end, a rich-text shape, one past Excel's limit),
# formula-like texts, numbers, days, and times about the days Tehran's clocks moved, at odd
# seconds, and in years whose offset was not whole minutes.
SINK_COLUMNS = (
    Column("person", Cell.TEXT),
    Column("round", Cell.INT),
    Column("value", Cell.NUMBER),
    Column("answer", Cell.VALUE),
    Column("answered_at", Cell.MOMENT),
    Column("period_start", Cell.DAY),
)
TEXTS = (
    "Maryam",
    "مریم رضایی",
    " lead",
    "trail ",
    "a\x01b",
    "tab\tand\nline",
    "_x0041_",
    "<r>rich</r>",
    'a & <b> "q"',
    "=1+1",
    "@cmd",
    "-5",
    "",
    None,
    "x" * 40_000,
    "\ufffe",
)
MOMENTS = (
    *(
        start + timedelta(minutes=minutes, seconds=13, microseconds=250_000 * (minutes % 5))
        for start in (
            datetime(2021, 3, 20, 12, tzinfo=UTC),
            datetime(2021, 9, 20, 12, tzinfo=UTC),
            datetime(2026, 11, 27, 15, tzinfo=UTC),
        )
        for minutes in range(0, 2 * 24 * 60, 11)
    ),
    datetime(1900, 1, 1, 6, 0, 59, 999_999, tzinfo=UTC),
    datetime(1946, 6, 1, tzinfo=UTC),
)


def sink_rows(stored_as_text: bool) -> list[tuple[object, ...]]:
    """Rows for SINK_COLUMNS; times as SQLite's UTC text or as PostgreSQL's aware datetimes."""
    numbers = (Number("12"), Number("-0.5"), Number("1" * 400), "n/a", None)
    rows: list[tuple[object, ...]] = []
    for n, moment in enumerate(MOMENTS):
        text = TEXTS[n % len(TEXTS)]
        value = numbers[n % len(numbers)]
        rows.append(
            (
                text,
                n,
                None if value == Number("1" * 400) else value,  # no finite float: not a NUMBER
                value if n % 2 else text,
                moment.strftime("%Y-%m-%d %H:%M:%S.%f") if stored_as_text else moment,
                moment.date() if n % 3 else None,
            )
        )
    return rows


def xlsx_parts(rows: list[tuple[object, ...]], language: str) -> dict[str, bytes]:
    buffer = io.BytesIO()
    sink = _XlsxSink(buffer, SINK_COLUMNS, language, "Sheet")
    sink.write(rows)
    sink.close()
    with zipfile.ZipFile(buffer) as book:
        return {name: book.read(name) for name in book.namelist() if name != "docProps/core.xml"}


def csv_bytes(rows: list[tuple[object, ...]], language: str) -> bytes:
    buffer = io.BytesIO()
    sink = _CsvSink(buffer, SINK_COLUMNS, language)
    sink.write(rows)
    sink.close()
    return buffer.getvalue()


@pytest.mark.parametrize("language", ["fa", "en"])
def test_xlsx_rows_written_at_once_are_what_xlsxwriter_writes_cell_by_cell(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = sink_rows(stored_as_text=True)
    at_once = xlsx_parts(rows, language)
    monkeypatch.setattr(_XlsxSink, "_cells", lambda self, row, values: None)
    assert xlsx_parts(rows, language) == at_once


@pytest.mark.parametrize("language", ["fa", "en"])
def test_sqlite_and_postgresql_times_come_out_alike(language: str) -> None:
    """SQLite's text is converted a minute at a time, an aware datetime one by one."""
    texts, datetimes = sink_rows(stored_as_text=True), sink_rows(stored_as_text=False)
    assert csv_bytes(texts, language) == csv_bytes(datetimes, language)
    assert xlsx_parts(texts, language) == xlsx_parts(datetimes, language)
    lines = list(csv.reader(io.StringIO(csv_bytes(texts, language).decode("utf-8-sig"))))
    for line, moment in zip(lines[1:], MOMENTS, strict=True):
        local = moment.astimezone(TEHRAN)
        assert line[4] == local.strftime("%Y-%m-%d %H:%M:%S")


async def test_rows_past_a_sheets_limit_go_on_to_a_next_sheet(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build(session)
    monkeypatch.setattr("bot.reports.export.XLSX_MAX_ROWS", 4)  # a header and three rows
    buffer = io.BytesIO()
    assert await export(session, Dataset.CHECKIN_ANSWERS, "xlsx", "en", buffer) == 6
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["Check-in answers", "Check-in answers (2)"]
    for sheet in book.worksheets:
        assert sheet.max_row == 4 and sheet["A1"].value == "Group"


async def test_a_failed_export_leaves_nothing_behind(
    session: AsyncSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build(session)
    spool, out = tmp_path / "spool", tmp_path / "out"
    spool.mkdir()
    out.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))

    class Interrupted(Exception):
        pass

    def interrupted(done: int, total: int) -> None:
        if done:
            raise Interrupted

    with pytest.raises(Interrupted):
        await export(
            session, Dataset.CHECKIN_ANSWERS, "xlsx", "fa", out / "a.xlsx", progress=interrupted
        )
    assert files(out) == [] and files(spool) == []


def files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize("language", ["fa", "en"])
def test_csv_cells_column_by_column_are_each_cells_own(language: str) -> None:
    """The CSV sink formats a chunk a column at a time; each cell still comes out as its own
    value says: formula-like texts quoted wherever they stand, days in both calendars."""
    rows = sink_rows(stored_as_text=True)
    lines = list(csv.reader(io.StringIO(csv_bytes(rows, language).decode("utf-8-sig"))))
    calendar = _Calendar()
    for line, (text, n, value, answer, _, day) in zip(lines[1:], rows, strict=True):
        assert line[0] == (_safe(text) or "")  # type: ignore[arg-type]
        assert line[1:3] == [str(n), value or ""]
        assert line[3] == (_safe(answer) or "")  # type: ignore[arg-type]
        assert line[6:8] == ([day.isoformat(), calendar.jalali(day)] if day else ["", ""])
    assert [line[0] for line in lines[1:11]] == [
        "Maryam", "مریم رضایی", " lead", "trail ", "a\x01b", "tab\tand\nline", "_x0041_",
        "<r>rich</r>", 'a & <b> "q"', "'=1+1",
    ]  # fmt: skip
