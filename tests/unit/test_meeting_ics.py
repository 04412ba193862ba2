"""The calendar file: parses back to the same moment and text, zone included."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from persiantools.jdatetime import JalaliDate

from bot.i18n.format import TEHRAN
from bot.meetings.ics import CalendarEvent, Moved, Repeats, build, read_start
from bot.meetings.recurrence import Frequency, Recurrence, from_first
from tests.calendar_view import master_and_overrides, shown

TITLE = "جلسهٔ کمیتهٔ راهبری محلهٔ نارمک برای برنامه‌ریزی جشن یلدا و جمع‌آوری کمک‌ها"
AGENDA = "دستور جلسه:\n۱. گزارش گروه‌ها\n۲. بودجه"


def event(**changes: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": "meeting-12@hamgam",
        "sequence": 2,
        "starts_at": datetime(2026, 3, 14, 14, 30, tzinfo=UTC),  # 18:00 in Tehran
        "duration": timedelta(hours=1, minutes=30),
        "title": TITLE,
        "description": AGENDA,
        "location": "مسجد جامع نارمک",
        "url": "https://meet.example.org/naarmak",
    }
    values.update(changes)
    return CalendarEvent(**values)  # type: ignore[arg-type]


def test_the_file_parses_back_to_the_same_meeting() -> None:
    data = build(event())
    calendar = Calendar.from_ical(data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert "Hamgam" in str(calendar["PRODID"]) and str(calendar["VERSION"]) == "2.0"
    [vevent] = calendar.events
    assert str(vevent["UID"]) == "meeting-12@hamgam"
    assert vevent["SEQUENCE"] == 2
    assert str(vevent["SUMMARY"]) == TITLE  # Persian text (with ZWNJ) survives folding
    assert str(vevent["DESCRIPTION"]) == AGENDA
    assert str(vevent["LOCATION"]) == "مسجد جامع نارمک"
    assert str(vevent["URL"]) == "https://meet.example.org/naarmak"
    assert "STATUS" not in vevent
    assert vevent["DTSTAMP"].dt.utcoffset() == timedelta(0)
    assert vevent["DTSTART"].params["TZID"] == "Asia/Tehran"
    assert [tz.tz_name for tz in calendar.timezones] == ["Asia/Tehran"]
    assert b"DTSTART;TZID=Asia/Tehran:20260314T180000\r\n" in data
    assert read_start(data) == (
        datetime(2026, 3, 14, 14, 30, tzinfo=UTC),
        timedelta(hours=1, minutes=30),
        TITLE,
    )


def test_lines_end_in_crlf_and_are_folded() -> None:
    data = build(event())
    assert data.endswith(b"\r\n")
    assert data.count(b"\n") == data.count(b"\r\n")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    data.decode("utf-8")  # folding never splits a Persian letter's bytes


def test_a_cancelled_meeting() -> None:
    data = build(event(sequence=3, cancelled=True))
    calendar = Calendar.from_ical(data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    [vevent] = calendar.events
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vevent["SEQUENCE"] == 3 and str(vevent["UID"]) == "meeting-12@hamgam"


@pytest.mark.parametrize(
    ("starts_at", "local"),
    [
        (datetime(2026, 7, 1, 16, 0, tzinfo=UTC), b"20260701T180000"),  # CEST, +02:00
        (datetime(2026, 12, 2, 17, 0, tzinfo=UTC), b"20261202T180000"),  # CET, +01:00
    ],
)
def test_berlin_in_summer_and_winter(starts_at: datetime, local: bytes) -> None:
    data = build(event(starts_at=starts_at, timezone="Europe/Berlin"))
    assert b"DTSTART;TZID=Europe/Berlin:" + local + b"\r\n" in data
    assert [tz.tz_name for tz in Calendar.from_ical(data).timezones] == ["Europe/Berlin"]
    assert read_start(data)[:2] == (starts_at, timedelta(hours=1, minutes=30))


def test_a_meeting_across_the_autumn_clock_change_keeps_its_length() -> None:
    # 02:30 CEST on 25 October 2026; the clocks go back an hour during the meeting.
    starts_at = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    data = build(event(starts_at=starts_at, duration=timedelta(hours=2), timezone="Europe/Berlin"))
    assert read_start(data)[:2] == (starts_at, timedelta(hours=2))


def test_no_empty_fields_and_no_naive_start() -> None:
    vevent = Calendar.from_ical(build(event(description="", location="", url=None))).events[0]
    assert not {"DESCRIPTION", "LOCATION", "URL"} & set(vevent)
    with pytest.raises(ValueError):
        event(starts_at=datetime(2026, 3, 14, 18, 0))


# A series: what a calendar app shows once it expands the file (tests/calendar_view.py).

SATURDAY_1800 = datetime(2026, 12, 5, 14, 30, tzinfo=UTC)  # Sat 14 Azar 1405, 18:00 in Tehran
FIRST_SATURDAY_1405_10 = datetime(2026, 12, 26, 14, 30, tzinfo=UTC)  # Sat 5 Dey 1405 (1st)
YEAR_ON = SATURDAY_1800 + timedelta(days=365)


def series(rule: Recurrence, **changes: object) -> CalendarEvent:
    first = changes.pop("starts_at", SATURDAY_1800)
    assert isinstance(first, datetime)
    repeats = Repeats(rule.resolved(first), **changes)  # type: ignore[arg-type]
    return event(starts_at=first, repeats=repeats, description="", location="", url=None)


def starts(data: bytes, end: datetime = YEAR_ON) -> list[datetime]:
    return [item.starts_at for item in shown(data, end)]


@pytest.mark.parametrize(
    ("frequency", "rule_text", "step"),
    [
        (Frequency.WEEKLY, b"RRULE:FREQ=WEEKLY;BYDAY=SA", 7),
        (Frequency.FORTNIGHTLY, b"RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=SA", 14),
    ],
)
def test_a_weekly_or_fortnightly_series_is_a_rule_calendars_repeat(
    frequency: Frequency, rule_text: bytes, step: int
) -> None:
    data = build(series(from_first(SATURDAY_1800, frequency)))
    assert rule_text in data
    expected = [SATURDAY_1800 + timedelta(days=step * n) for n in range(365 // step + 1)]
    assert starts(data) == expected
    master, overrides = master_and_overrides(data)
    assert overrides == [] and "RDATE" not in master and "EXDATE" not in master


def test_the_first_saturday_of_each_jalali_month_is_listed_date_by_date_for_a_year() -> None:
    rule = from_first(FIRST_SATURDAY_1405_10, Frequency.MONTHLY_WEEKDAY)
    data = build(series(rule, starts_at=FIRST_SATURDAY_1405_10))
    master, _overrides = master_and_overrides(data)
    assert "RRULE" not in master  # a Jalali month is no RRULE month
    shown_dates = starts(data, FIRST_SATURDAY_1405_10 + timedelta(days=800))
    assert len(shown_dates) >= 12
    assert shown_dates == [
        FIRST_SATURDAY_1405_10,
        *rule.between(FIRST_SATURDAY_1405_10, FIRST_SATURDAY_1405_10, shown_dates[-1]),
    ]
    for moment in shown_dates:  # each one is a first Saturday of a Jalali month at 18:00
        local = moment.astimezone(TEHRAN)
        assert local.weekday() == 5 and JalaliDate(local.date()).day <= 7
        assert (local.hour, local.minute) == (18, 0)
    assert b"RDATE;TZID=Asia/Tehran:" in data


@pytest.mark.parametrize(
    ("month_day", "expected"),
    [
        (15, [date(2027, 1, 15), date(2027, 2, 15), date(2027, 3, 15)]),
        (31, [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]),
        (30, [date(2027, 1, 30), date(2027, 2, 28), date(2027, 3, 30), date(2027, 4, 30)]),
    ],
)
def test_a_gregorian_monthly_date_past_a_short_months_end_falls_on_its_last_day(
    month_day: int, expected: list[date]
) -> None:
    first = datetime.combine(date(2027, 1, month_day), time(18, 0), TEHRAN).astimezone(UTC)
    rule = from_first(first, Frequency.MONTHLY_DAY, calendar="gregorian")
    data = build(series(rule, starts_at=first))
    assert b"RRULE:FREQ=MONTHLY" in data
    days = [moment.astimezone(TEHRAN).date() for moment in starts(data, first + timedelta(400))]
    assert days[: len(expected)] == expected
    assert len(days) == 14  # every month, none skipped
    assert days == [
        moment.astimezone(TEHRAN).date()
        for moment in [first, *rule.between(first, first, first + timedelta(400))]
    ]


def test_the_last_saturday_of_each_gregorian_month_is_a_rule() -> None:
    first = datetime(2026, 12, 26, 14, 30, tzinfo=UTC)  # the last Saturday of December
    rule = from_first(first, Frequency.MONTHLY_WEEKDAY, calendar="gregorian", last_weekday=True)
    data = build(series(rule, starts_at=first))
    assert b"BYDAY=-1SA" in data
    assert starts(data, first + timedelta(days=365)) == [
        first,
        *rule.between(first, first, first + timedelta(days=365)),
    ]


def test_one_moved_and_one_cancelled_occurrence_keep_the_rest_of_the_series() -> None:
    rule = from_first(SATURDAY_1800, Frequency.WEEKLY)
    second, third = SATURDAY_1800 + timedelta(days=7), SATURDAY_1800 + timedelta(days=14)
    to_monday = second + timedelta(days=2, hours=1)
    moved = Moved(slot=second, starts_at=to_monday, duration=timedelta(hours=2))
    data = build(replace(series(rule, excluded=(third,), moved=(moved,)), sequence=4))
    shown_now = shown(data, SATURDAY_1800 + timedelta(days=28))
    assert [item.starts_at for item in shown_now] == [
        SATURDAY_1800,
        to_monday,
        SATURDAY_1800 + timedelta(days=21),
        SATURDAY_1800 + timedelta(days=28),
    ]
    assert [item.moved for item in shown_now] == [False, True, False, False]
    assert {item.sequence for item in shown_now} == {4}
    master, [override] = master_and_overrides(data)
    assert b"RECURRENCE-ID;TZID=Asia/Tehran:20261212T180000" in data
    assert b"EXDATE;TZID=Asia/Tehran:20261219T180000" in data
    assert override.end.astimezone(UTC) - override.start.astimezone(UTC) == timedelta(hours=2)
    assert str(override["SUMMARY"]) == str(master["SUMMARY"])


@pytest.mark.parametrize(
    ("frequency", "first"),
    [(Frequency.WEEKLY, SATURDAY_1800), (Frequency.MONTHLY_WEEKDAY, FIRST_SATURDAY_1405_10)],
)
def test_an_ended_series_stops_at_its_last_meeting(frequency: Frequency, first: datetime) -> None:
    rule = from_first(first, frequency)
    third = rule.occurrences(first, first, 2)[-1]
    data = build(series(rule, starts_at=first, last=third))
    assert starts(data) == [first, *rule.occurrences(first, first, 2)]


def test_a_rule_with_an_end_date_ends_there_in_the_file_too() -> None:
    rule = from_first(SATURDAY_1800, Frequency.WEEKLY, until=date(2027, 1, 2))
    data = build(series(rule))
    assert starts(data) == [SATURDAY_1800 + timedelta(days=7 * n) for n in range(5)]
