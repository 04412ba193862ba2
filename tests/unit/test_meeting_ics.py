"""The calendar file: parses back to the same moment and text, zone included."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from bot.meetings.ics import CalendarEvent, build, read_start

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
