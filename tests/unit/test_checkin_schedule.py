"""When check-in rounds fall: weekdays or a (Jalali) month day, skip dates, time zones."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from persiantools.jdatetime import JalaliDate

from bot.checkins.schedule import Schedule, Window, find_timezone

TEHRAN = ZoneInfo("Asia/Tehran")
SATURDAY, WEDNESDAY = 5, 2


def local(moment: datetime, tz: ZoneInfo = TEHRAN) -> tuple[str, str]:
    value = moment.astimezone(tz)
    return value.strftime("%Y-%m-%d"), value.strftime("%H:%M")


def test_weekly_rounds_fall_at_the_local_time() -> None:
    weekly = Schedule(at=time(18, 0), weekdays=frozenset({SATURDAY, WEDNESDAY}))
    start = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a Friday
    rounds = list(weekly.occurrences(start, start + timedelta(days=7)))
    assert [local(r) for r in rounds] == [("2026-11-28", "18:00"), ("2026-12-02", "18:00")]
    assert rounds[0] == datetime(2026, 11, 28, 14, 30, tzinfo=UTC)  # Tehran is +03:30


def test_the_bounds_take_each_moment_once() -> None:
    weekly = Schedule(at=time(18, 0), weekdays=frozenset({SATURDAY}))
    first = datetime(2026, 11, 28, 14, 30, tzinfo=UTC)
    assert weekly.next_after(first - timedelta(seconds=1)) == first
    assert weekly.next_after(first) == first + timedelta(days=7)
    assert list(weekly.occurrences(first, first)) == []


def test_nowruz_skip_dates_across_the_persian_new_year() -> None:
    nowruz = frozenset(JalaliDate(1405, 1, day).to_gregorian() for day in range(1, 5))
    weekly = Schedule(at=time(10, 0), weekdays=frozenset(range(7)), skip_dates=nowruz)
    start = datetime.combine(JalaliDate(1404, 12, 27).to_gregorian(), time(0), tzinfo=TEHRAN)
    days = [
        JalaliDate(moment.astimezone(TEHRAN).date()).strftime("%m/%d")
        for moment in weekly.occurrences(start, start + timedelta(days=10))
    ]
    assert days == ["12/27", "12/28", "12/29", "01/05", "01/06", "01/07"]


def test_monthly_on_a_jalali_day_falls_back_to_the_months_last_day() -> None:
    monthly = Schedule(at=time(9, 0), month_day=31)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    days = [
        JalaliDate(m.astimezone(TEHRAN).date()).strftime("%Y/%m/%d")
        for m in monthly.occurrences(start, start + timedelta(days=365))
    ]
    assert days[:4] == ["1404/10/30", "1404/11/30", "1404/12/29", "1405/01/31"]
    assert len(days) == 12


def test_monthly_on_a_gregorian_day() -> None:
    monthly = Schedule(at=time(9, 0), month_day=31, calendar="gregorian", timezone="UTC")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    days = [m.date().isoformat() for m in monthly.occurrences(start, start + timedelta(days=90))]
    assert days == ["2026-01-31", "2026-02-28", "2026-03-31"]


def test_another_time_zone() -> None:
    berlin = Schedule(at=time(18, 0), weekdays=frozenset({SATURDAY}), timezone="Europe/Berlin")
    moment = berlin.next_after(datetime(2026, 11, 27, tzinfo=UTC))
    assert moment == datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
    summer = berlin.next_after(datetime(2026, 7, 1, tzinfo=UTC))
    assert summer == datetime(2026, 7, 4, 16, 0, tzinfo=UTC)  # daylight saving in Berlin


def test_window_and_reminders() -> None:
    due = datetime(2026, 11, 28, 14, 30, tzinfo=UTC)  # Saturday 18:00 in Tehran
    window = Window(days_after=1, at=time(20, 0), reminders_after_min=(60, 240, 10_000))
    assert local(window.closes_at(due, TEHRAN)) == ("2026-11-29", "20:00")
    assert window.reminders(due, TEHRAN) == [due + timedelta(hours=1), due + timedelta(hours=4)]
    with pytest.raises(ValueError):
        Window(days_after=0, at=time(9, 0)).closes_at(due, TEHRAN)


def test_a_schedule_survives_storage() -> None:
    schedule = Schedule(
        at=time(18, 30), weekdays=frozenset({SATURDAY}), skip_dates=frozenset({date(2027, 3, 21)})
    )
    assert Schedule.from_json(schedule.to_json()) == schedule


@pytest.mark.parametrize(
    "arguments",
    [{}, {"weekdays": frozenset({1}), "month_day": 3}, {"month_day": 32}, {"weekdays": {7}}],
)
def test_nonsense_schedules_are_refused(arguments: dict) -> None:
    with pytest.raises(ValueError):
        Schedule(at=time(9, 0), **arguments)


def test_a_time_zone_is_found_by_its_id_its_city_or_its_name_in_either_language() -> None:
    assert find_timezone("europe/berlin") == find_timezone("Berlin") == "Europe/Berlin"
    assert find_timezone("برلین") == find_timezone("وقت آلمان (برلین)") == "Europe/Berlin"
    assert find_timezone("تهران") == find_timezone("Iran Time") == "Asia/Tehran"  # not «Iran»
    assert find_timezone("Mars/Olympus") is None
