"""When a recurring meeting's occurrences fall: weekly, fortnightly, monthly by weekday or by
day, in Jalali or Gregorian months, across Nowruz and DST, bounded by `until`."""

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from persiantools.jdatetime import JalaliDate

from bot.meetings.recurrence import Frequency, Recurrence, from_first, weekday_of_month

TEHRAN = ZoneInfo("Asia/Tehran")
BERLIN = ZoneInfo("Europe/Berlin")
SATURDAY, MONDAY, THURSDAY = 5, 0, 3


def tehran(year: int, month: int, day: int, at: time = time(18)) -> datetime:
    """A Jalali date and local time in Tehran, as an aware UTC datetime."""
    gregorian = JalaliDate(year, month, day).to_gregorian()
    return datetime.combine(gregorian, at, tzinfo=TEHRAN).astimezone(UTC)


def jalali(moment: datetime) -> tuple[int, int, int]:
    local = JalaliDate(moment.astimezone(TEHRAN).date())
    return local.year, local.month, local.day


def wall(moment: datetime, tz: ZoneInfo = TEHRAN) -> tuple[int, str]:
    """(weekday, HH:MM) of the moment in the zone."""
    local = moment.astimezone(tz)
    return local.weekday(), local.strftime("%H:%M")


def nth_weekday(year: int, month: int, weekday: int, n: int) -> tuple[int, int, int]:
    """The Nth (or last, n = -1) weekday of a Jalali month, by walking its days."""
    days = [
        (year, month, day)
        for day in range(1, JalaliDate.days_in_month(month, year) + 1)
        if JalaliDate(year, month, day).to_gregorian().weekday() == weekday
    ]
    return days[n - 1] if n > 0 else days[-1]


def test_weekly_across_the_persian_new_year() -> None:
    first = tehran(1404, 12, 23)
    assert wall(first) == (SATURDAY, "18:00")
    rule = from_first(first, Frequency.WEEKLY)
    following = rule.occurrences(first, first, 3)
    # 1404 is not a leap year: Esfand has 29 days, so the next Saturday is Nowruz itself.
    assert JalaliDate.days_in_month(12, 1404) == 29
    assert [jalali(m) for m in following] == [(1405, 1, 1), (1405, 1, 8), (1405, 1, 15)]
    assert all(wall(m) == (SATURDAY, "18:00") for m in following)
    assert following == [first + timedelta(weeks=k) for k in (1, 2, 3)]  # Tehran has no DST


def test_fortnightly_keeps_the_parity_of_the_first_meeting() -> None:
    first = tehran(1405, 1, 15, time(17, 30))
    rule = from_first(first, Frequency.FORTNIGHTLY)
    assert rule.occurrences(first, first - timedelta(seconds=1), 3) == [
        first,
        first + timedelta(weeks=2),
        first + timedelta(weeks=4),
    ]
    # From the middle of a gap: the next one is on the fortnight, not the next week.
    assert rule.next_after(first, first + timedelta(days=20)) == first + timedelta(weeks=4)


def test_first_saturday_of_each_jalali_month_across_nowruz() -> None:
    year, month, day = nth_weekday(1404, 12, SATURDAY, 1)
    first = tehran(year, month, day)
    rule = from_first(first, Frequency.MONTHLY_WEEKDAY)
    assert rule.ordinal == 1 and rule.weekday == SATURDAY
    following = rule.occurrences(first, first, 2)
    assert [jalali(m) for m in following] == [
        nth_weekday(1405, 1, SATURDAY, 1),
        nth_weekday(1405, 2, SATURDAY, 1),
    ]
    assert [jalali(m) for m in following] == [(1405, 1, 1), (1405, 2, 5)]
    assert all(wall(m) == (SATURDAY, "18:00") for m in following)


def test_second_weekday_is_counted_from_the_day_of_the_month() -> None:
    year, month, day = nth_weekday(1405, 3, MONDAY, 2)
    first = tehran(year, month, day, time(9))
    rule = from_first(first, Frequency.MONTHLY_WEEKDAY)
    assert rule.ordinal == 2
    assert [jalali(m) for m in rule.occurrences(first, first, 3)] == [
        nth_weekday(1405, month, MONDAY, 2) for month in (4, 5, 6)
    ]


def test_last_thursday_of_the_jalali_month() -> None:
    year, month, day = nth_weekday(1405, 7, THURSDAY, -1)
    first = tehran(year, month, day)
    assert weekday_of_month(first)[1] is True
    rule = from_first(first, Frequency.MONTHLY_WEEKDAY, last_weekday=True)
    assert rule.ordinal == -1
    following = rule.occurrences(first, first, 6)
    assert [jalali(m) for m in following] == [
        nth_weekday(1405, 8, THURSDAY, -1),
        nth_weekday(1405, 9, THURSDAY, -1),
        nth_weekday(1405, 10, THURSDAY, -1),
        nth_weekday(1405, 11, THURSDAY, -1),
        nth_weekday(1405, 12, THURSDAY, -1),
        nth_weekday(1406, 1, THURSDAY, -1),
    ]
    assert all(wall(m) == (THURSDAY, "18:00") for m in following)


def test_a_fifth_weekday_or_a_false_last_is_refused() -> None:
    year, month, day = nth_weekday(1405, 1, SATURDAY, -1)
    assert day >= 29  # Farvardin 1405 has five Saturdays
    fifth = tehran(year, month, day)
    assert weekday_of_month(fifth) == (5, True)
    with pytest.raises(ValueError):
        from_first(fifth, Frequency.MONTHLY_WEEKDAY)
    assert from_first(fifth, Frequency.MONTHLY_WEEKDAY, last_weekday=True).ordinal == -1
    first_saturday = tehran(*nth_weekday(1405, 1, SATURDAY, 1))
    with pytest.raises(ValueError):
        from_first(first_saturday, Frequency.MONTHLY_WEEKDAY, last_weekday=True)
    with pytest.raises(ValueError):
        from_first(first_saturday, Frequency.WEEKLY, last_weekday=True)


def test_day_31_falls_back_in_shorter_jalali_months_and_returns() -> None:
    first = tehran(1403, 6, 31)
    rule = from_first(first, Frequency.MONTHLY_DAY)
    assert rule.month_day == 31
    assert JalaliDate.days_in_month(12, 1403) == 30  # 1403 is a leap year for persiantools
    assert [jalali(m) for m in rule.occurrences(first, first, 7)] == [
        (1403, 7, 30),
        (1403, 8, 30),
        (1403, 9, 30),
        (1403, 10, 30),
        (1403, 11, 30),
        (1403, 12, 30),
        (1404, 1, 31),
    ]
    later = rule.occurrences(first, tehran(1404, 11, 1), 3)
    assert [jalali(m) for m in later] == [(1404, 11, 30), (1404, 12, 29), (1405, 1, 31)]


def test_day_30_in_a_leap_esfand() -> None:
    first = tehran(1403, 11, 30)
    rule = from_first(first, Frequency.MONTHLY_DAY)
    assert [jalali(m) for m in rule.occurrences(first, first, 3)] == [
        (1403, 12, 30),
        (1404, 1, 30),
        (1404, 2, 30),
    ]


def test_gregorian_monthly_first_monday() -> None:
    first = datetime(2026, 1, 5, 10, 0, tzinfo=TEHRAN).astimezone(UTC)  # a Monday
    rule = from_first(first, Frequency.MONTHLY_WEEKDAY, calendar="gregorian")
    following = rule.occurrences(first, first, 3)
    assert [m.astimezone(TEHRAN).date() for m in following] == [
        date(2026, 2, 2),
        date(2026, 3, 2),
        date(2026, 4, 6),
    ]
    assert all(wall(m) == (MONDAY, "10:00") for m in following)


def test_gregorian_day_31_falls_back_to_the_months_end() -> None:
    first = datetime(2027, 1, 31, 19, 0, tzinfo=TEHRAN).astimezone(UTC)
    rule = from_first(first, Frequency.MONTHLY_DAY, calendar="gregorian")
    assert [m.astimezone(TEHRAN).date() for m in rule.occurrences(first, first, 3)] == [
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]


def test_berlin_weekly_keeps_local_time_across_dst() -> None:
    first = datetime(2026, 3, 21, 18, 0, tzinfo=BERLIN).astimezone(UTC)
    rule = from_first(first, Frequency.WEEKLY, timezone="Europe/Berlin")
    spring = rule.occurrences(first, first, 2)  # clocks go forward on 29 March 2026
    assert [wall(m, BERLIN) for m in spring] == [(SATURDAY, "18:00")] * 2
    assert [m.hour for m in [first, *spring]] == [17, 17, 16]  # +01:00, +01:00, +02:00
    autumn_first = datetime(2026, 10, 17, 18, 0, tzinfo=BERLIN).astimezone(UTC)
    autumn = rule.occurrences(first, autumn_first - timedelta(minutes=1), 3)
    assert autumn[0] == autumn_first
    assert [wall(m, BERLIN) for m in autumn] == [(SATURDAY, "18:00")] * 3
    assert [m.hour for m in autumn] == [16, 16, 17]  # back to +01:00 after 25 October


def test_until_stops_the_series_inclusive_of_its_day() -> None:
    first = tehran(1405, 1, 15)
    until = JalaliDate(1405, 1, 29).to_gregorian()
    rule = from_first(first, Frequency.WEEKLY, until=until)
    assert [jalali(m) for m in rule.occurrences(first, first, 10)] == [(1405, 1, 22), (1405, 1, 29)]
    assert rule.next_after(first, tehran(1405, 1, 29)) is None
    with pytest.raises(ValueError):
        from_first(first, Frequency.WEEKLY, until=until - timedelta(days=30))


def test_after_is_strict_and_count_is_respected() -> None:
    first = tehran(1405, 2, 2)
    rule = from_first(first, Frequency.WEEKLY)
    assert rule.next_after(first, first - timedelta(microseconds=1)) == first
    assert rule.next_after(first, first) == first + timedelta(weeks=1)
    second = first + timedelta(weeks=1)
    assert rule.occurrences(first, second, 2) == [second + timedelta(weeks=k) for k in (1, 2)]
    assert rule.occurrences(first, first, 0) == []
    assert len(rule.occurrences(first, first, 5)) == 5
    # Asking before the series begins starts at the first meeting, not earlier.
    assert rule.occurrences(first, first - timedelta(days=100), 1) == [first]


@pytest.mark.parametrize("frequency", list(Frequency))
def test_a_late_after_gives_what_walking_from_the_start_gives(frequency: Frequency) -> None:
    first = tehran(1403, 6, 8, time(20, 15))  # the second Thursday of Shahrivar 1403
    rule = from_first(first, frequency)
    walked = rule.occurrences(first, first, 60)
    for index in (0, 17, 40):
        assert rule.occurrences(first, walked[index], 5) == walked[index + 1 : index + 6]
        assert rule.next_after(first, walked[index] - timedelta(seconds=1)) == walked[index]


def test_the_pinned_rule_outlives_a_moved_first_meeting() -> None:
    first = tehran(*nth_weekday(1405, 1, SATURDAY, 1))
    rule = Recurrence.from_json(from_first(first, Frequency.MONTHLY_WEEKDAY).to_json())
    moved = first + timedelta(days=1, hours=2)  # the first meeting moved to Sunday 20:00
    assert rule.occurrences(moved, moved, 2) == rule.occurrences(first, first, 2)


def test_an_unpinned_rule_takes_it_from_first() -> None:
    first = tehran(1405, 1, 15)
    assert Recurrence(Frequency.WEEKLY).occurrences(first, first, 2) == from_first(
        first, Frequency.WEEKLY
    ).occurrences(first, first, 2)
    last = Recurrence(Frequency.MONTHLY_WEEKDAY, ordinal=-1)
    thursday = tehran(*nth_weekday(1405, 7, THURSDAY, -1))
    assert jalali(last.next_after(thursday, thursday)) == nth_weekday(1405, 8, THURSDAY, -1)


def test_json_round_trip() -> None:
    first = datetime(2026, 3, 21, 18, 0, tzinfo=BERLIN)
    rule = from_first(
        first,
        Frequency.MONTHLY_WEEKDAY,
        calendar="gregorian",
        timezone="Europe/Berlin",
        until=date(2027, 3, 1),
    )
    data = json.loads(json.dumps(rule.to_json()))
    assert data["frequency"] == "monthly_weekday" and data["at"] == "18:00"
    assert Recurrence.from_json(data) == rule
    assert Recurrence.from_json({"frequency": "weekly"}) == Recurrence(Frequency.WEEKLY)


def test_wrong_input_is_refused() -> None:
    with pytest.raises(ValueError):
        Recurrence(Frequency.WEEKLY, timezone="Mars/Olympus")
    with pytest.raises(ValueError):
        Recurrence(Frequency.WEEKLY, ordinal=1)
    with pytest.raises(ValueError):
        Recurrence(Frequency.MONTHLY_DAY, month_day=32)
    with pytest.raises(ValueError):
        Recurrence(Frequency.WEEKLY).occurrences(datetime(2026, 3, 21, 18), datetime.now(UTC), 1)
