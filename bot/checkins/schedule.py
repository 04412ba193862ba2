"""When a check-in's rounds fall, and when each closes.

Pure and time-zone aware: local dates and times in the check-in's zone (Asia/Tehran by
default) become aware UTC moments. Weekly schedules name weekdays; monthly ones name a day of
the Jalali month (the calendar the initiative lives by) or of the Gregorian one. Written by
hand because cron (and APScheduler's CronTrigger) knows no Jalali months and no skip dates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, available_timezones

from babel.core import get_global
from babel.dates import get_timezone_location
from persiantools.jdatetime import JalaliDate

from bot.i18n import LANGUAGES
from bot.i18n import format as fmt

Calendar = Literal["jalali", "gregorian"]
SEARCH_DAYS = 800  # far enough for a monthly schedule whose next months are all skipped


@dataclass(frozen=True)
class Schedule:
    at: time
    weekdays: frozenset[int] = field(default=frozenset())  # Monday 0 … Sunday 6
    month_day: int | None = None  # 1–31; past a month's end, its last day
    calendar: Calendar = "jalali"
    timezone: str = "Asia/Tehran"
    skip_dates: frozenset[date] = field(default=frozenset())  # local, Gregorian dates

    def __post_init__(self) -> None:
        if bool(self.weekdays) == (self.month_day is not None):
            raise ValueError("a schedule has either weekdays or a day of the month")
        if self.month_day is not None and not 1 <= self.month_day <= 31:
            raise ValueError("the day of the month is 1 to 31")
        if not all(0 <= day <= 6 for day in self.weekdays):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def falls_on(self, day: date) -> bool:
        if day in self.skip_dates:
            return False
        if self.weekdays:
            return day.weekday() in self.weekdays
        return _month_day(day, self.calendar) == self._day_in_month(day)

    def _day_in_month(self, day: date) -> int:
        assert self.month_day is not None
        return min(self.month_day, _month_length(day, self.calendar))

    def moment(self, day: date) -> datetime:
        """The round's time on that local day, as an aware UTC datetime."""
        return datetime.combine(day, self.at, tzinfo=self.tz).astimezone(UTC)

    def occurrences(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """Every due moment with after < moment <= until, in order."""
        day = after.astimezone(self.tz).date()
        last = until.astimezone(self.tz).date()
        while day <= last:
            if self.falls_on(day):
                moment = self.moment(day)
                if after < moment <= until:
                    yield moment
            day += timedelta(days=1)

    def next_after(self, after: datetime) -> datetime | None:
        return next(self.occurrences(after, after + timedelta(days=SEARCH_DAYS)), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.strftime("%H:%M"),
            "weekdays": sorted(self.weekdays),
            "month_day": self.month_day,
            "calendar": self.calendar,
            "timezone": self.timezone,
            "skip_dates": sorted(day.isoformat() for day in self.skip_dates),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schedule:
        return cls(
            at=time.fromisoformat(data["at"]),
            weekdays=frozenset(data.get("weekdays") or ()),
            month_day=data.get("month_day"),
            calendar=data.get("calendar", "jalali"),
            timezone=data.get("timezone", "Asia/Tehran"),
            skip_dates=frozenset(date.fromisoformat(d) for d in data.get("skip_dates") or ()),
        )


@dataclass(frozen=True)
class Window:
    """Answers are taken until `at` local time, `days_after` days after the prompt's day
    ("until 20:00 the next day" is Window(1, time(20))); reminders go out these many minutes
    after the prompt, while the round is open."""

    days_after: int = 1
    at: time = time(20, 0)
    reminders_after_min: tuple[int, ...] = (240,)

    def closes_at(self, due: datetime, tz: ZoneInfo) -> datetime:
        local_day = due.astimezone(tz).date() + timedelta(days=self.days_after)
        closes = datetime.combine(local_day, self.at, tzinfo=tz).astimezone(UTC)
        if closes <= due:
            raise ValueError("the window closes before the round begins")
        return closes

    def length(self, schedule: Schedule) -> timedelta:
        """How long a round of this schedule stays open (on today's date; DST may shift an
        individual round by an hour)."""
        day = datetime.now(schedule.tz).date()
        due = schedule.moment(day)
        local_close = datetime.combine(day + timedelta(days=self.days_after), self.at)
        return local_close.replace(tzinfo=schedule.tz).astimezone(UTC) - due

    def fits(self, schedule: Schedule) -> bool:
        """Whether rounds of this schedule would open before the window closes."""
        return self.length(schedule) > timedelta(0)

    def reminders(self, due: datetime, tz: ZoneInfo) -> list[datetime]:
        closes = self.closes_at(due, tz)
        moments = (due + timedelta(minutes=minutes) for minutes in self.reminders_after_min)
        return sorted(moment for moment in moments if due < moment < closes)

    def to_json(self) -> dict[str, Any]:
        return {
            "days_after": self.days_after,
            "at": self.at.strftime("%H:%M"),
            "reminders_after_min": list(self.reminders_after_min),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Window:
        return cls(
            int(data["days_after"]),
            time.fromisoformat(data["at"]),
            tuple(int(minutes) for minutes in data["reminders_after_min"]),
        )


def find_timezone(typed: str) -> str | None:
    """An IANA zone from what staff type: «Europe/Berlin», «europe/berlin» or just «Berlin»;
    or its name as the bot shows it, or its city, in Persian or English («وقت ایران», «برلین»)."""
    wanted = typed.strip().replace(" ", "_").casefold()
    if not wanted:
        return None
    zones = sorted(available_timezones())
    for zone in zones:
        if zone.casefold() == wanted:
            return zone
    cities = [zone for zone in zones if zone.rsplit("/", 1)[-1].casefold() == wanted]
    if len(cities) == 1:
        return cities[0]
    return _zones_by_name().get(" ".join(typed.split()).casefold())


@cache
def _zones_by_name() -> dict[str, str]:
    """Each zone's name (`fmt.time_zone`) and city as Babel gives them in both languages,
    leaving out old aliases (Iran for Asia/Tehran) and any name two zones share."""
    aliases = get_global("zone_aliases")
    found: dict[str, set[str]] = {}
    for zone in available_timezones() - set(aliases):
        for language in LANGUAGES:
            city = get_timezone_location(zone, locale=language, return_city=True)
            for name in (fmt.time_zone(zone, language), city):
                found.setdefault(name.casefold(), set()).add(zone)
    return {name: zones.pop() for name, zones in found.items() if len(zones) == 1}


def _month_day(day: date, calendar: Calendar) -> int:
    return JalaliDate(day).day if calendar == "jalali" else day.day


def _month_length(day: date, calendar: Calendar) -> int:
    if calendar == "jalali":
        jalali = JalaliDate(day)
        return JalaliDate.days_in_month(jalali.month, jalali.year)
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - timedelta(days=1)).day
