"""When a recurring meeting's occurrences fall.

Staff choose weekly, every two weeks, monthly on the Nth weekday ("the first Saturday of every
month", N = 1…4 or -1 for the last) or monthly on the same day of the month (past a month's
end: its last day). Monthly rules count months in the Jalali calendar by default, the one the
initiative lives by, or in the Gregorian one. Written by hand, like bot.checkins.schedule,
because RRULE (and dateutil's rrule) knows no Jalali months.

The rule is pinned in the Recurrence: `from_first` copies from the first meeting its local date
(where the series starts; the fortnight's parity; the first month), local time, weekday, ordinal
weekday-of-month or day of month. So moving one meeting, even the first, leaves the series
alone, and the stored JSON says the whole rule. A field left None is taken from `first` when
occurrences are asked for (`Recurrence(Frequency.WEEKLY)` works too).

The wall-clock time stays the same in the meeting's zone; the UTC moment moves with DST. A time
that a DST gap skips on some day comes an hour later that day; an ambiguous one takes the first.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from persiantools.jdatetime import JalaliDate

Calendar = Literal["jalali", "gregorian"]
ORDINALS = (1, 2, 3, 4, -1)  # -1: the last such weekday of the month


class Frequency(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY_WEEKDAY = "monthly_weekday"
    MONTHLY_DAY = "monthly_day"


_STEP_DAYS = {Frequency.WEEKLY: 7, Frequency.FORTNIGHTLY: 14}


@dataclass(frozen=True)
class Recurrence:
    frequency: Frequency
    calendar: Calendar = "jalali"
    timezone: str = "Asia/Tehran"
    until: date | None = None  # the last local date an occurrence may fall on (inclusive)
    # The rule, pinned by from_first; None: taken from `first` (see the module docstring).
    starts_on: date | None = None  # local date of the first meeting
    at: time | None = None  # local wall-clock time
    weekday: int | None = None  # Monday 0 … Sunday 6 (weekly, fortnightly, monthly_weekday)
    ordinal: int | None = None  # 1…4 or -1 (monthly_weekday)
    month_day: int | None = None  # 1…31 (monthly_day)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frequency", Frequency(self.frequency))
        if self.calendar not in ("jalali", "gregorian"):
            raise ValueError("the calendar is jalali or gregorian")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.timezone!r}") from error
        if self.weekday is not None and not 0 <= self.weekday <= 6:
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        if self.ordinal is not None and (
            self.frequency != Frequency.MONTHLY_WEEKDAY or self.ordinal not in ORDINALS
        ):
            raise ValueError("an ordinal (1 to 4, or -1 for the last) is for monthly_weekday")
        if self.month_day is not None and (
            self.frequency != Frequency.MONTHLY_DAY or not 1 <= self.month_day <= 31
        ):
            raise ValueError("a day of the month (1 to 31) is for monthly_day")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def resolved(self, first: datetime) -> Recurrence:
        """This rule with every field the frequency needs filled in, from `first` where unset.

        Raises ValueError when `first` falls on a fifth weekday of its month and no ordinal is
        pinned: not every month has one (ask for the last: ordinal -1)."""
        local = _aware(first, "first").astimezone(self.tz)
        changes: dict[str, Any] = {}
        if self.starts_on is None:
            changes["starts_on"] = local.date()
        if self.at is None:
            changes["at"] = local.time().replace(fold=0)
        if self.frequency != Frequency.MONTHLY_DAY and self.weekday is None:
            changes["weekday"] = local.weekday()
        if self.frequency == Frequency.MONTHLY_WEEKDAY and self.ordinal is None:
            ordinal = (_split(local.date(), self.calendar)[2] - 1) // 7 + 1
            if ordinal == 5:
                raise ValueError("a fifth weekday is not in every month: choose the last one")
            changes["ordinal"] = ordinal
        if self.frequency == Frequency.MONTHLY_DAY and self.month_day is None:
            changes["month_day"] = _split(local.date(), self.calendar)[2]
        return replace(self, **changes) if changes else self

    def occurrences(self, first: datetime, after: datetime, count: int) -> list[datetime]:
        """The next `count` occurrences (aware UTC) strictly after `after` of the series whose
        first meeting starts at `first`, none past `until`."""
        found: list[datetime] = []
        if count <= 0:
            return found
        for moment in self._moments(first, after):
            found.append(moment)
            if len(found) == count:
                break
        return found

    def between(self, first: datetime, after: datetime, end: datetime) -> list[datetime]:
        """The occurrences strictly after `after` and no later than `end` (aware UTC): what a
        calendar file lists when the rule cannot be written as an RRULE."""
        _aware(end, "end")
        found: list[datetime] = []
        for moment in self._moments(first, after):
            if moment > end:
                break
            found.append(moment)
        return found

    def _moments(self, first: datetime, after: datetime) -> Iterator[datetime]:
        _aware(after, "after")
        rule = self.resolved(first)
        tz = self.tz
        for day in rule._days(from_day=after.astimezone(tz).date()):
            if self.until is not None and day > self.until:
                return
            assert rule.at is not None
            moment = datetime.combine(day, rule.at, tzinfo=tz).astimezone(UTC)
            if moment > after:
                yield moment

    def next_after(self, first: datetime, after: datetime) -> datetime | None:
        """The first occurrence strictly after `after`; None when the series has ended."""
        following = self.occurrences(first, after, 1)
        return following[0] if following else None

    def _days(self, from_day: date) -> Iterator[date]:
        """The local dates of a resolved rule's series in order, from about `from_day` on (a
        step or a month earlier, so nothing after `from_day` is skipped)."""
        assert self.starts_on is not None
        if self.frequency in _STEP_DAYS:
            assert self.weekday is not None
            step = _STEP_DAYS[self.frequency]
            base = self.starts_on + timedelta(days=(self.weekday - self.starts_on.weekday()) % 7)
            index = max(0, (from_day - base).days // step - 1)
            while True:
                yield base + timedelta(days=step * index)
                index += 1
        start_year, start_month, _ = _split(self.starts_on, self.calendar)
        from_year, from_month, _ = _split(from_day, self.calendar)
        month = max(start_year * 12 + start_month - 1, from_year * 12 + from_month - 2)
        while True:
            day = self._day_in_month(*divmod(month, 12))
            if day >= self.starts_on:
                yield day
            month += 1

    def _day_in_month(self, year: int, month0: int) -> date:
        """This rule's date in a month (month0: 0 for the calendar's first month)."""
        month = month0 + 1
        length = _month_length(year, month, self.calendar)
        if self.frequency == Frequency.MONTHLY_DAY:
            assert self.month_day is not None
            return _join(year, month, min(self.month_day, length), self.calendar)
        assert self.weekday is not None and self.ordinal is not None
        if self.ordinal == -1:
            last = _join(year, month, length, self.calendar)
            return last - timedelta(days=(last.weekday() - self.weekday) % 7)
        opening = _join(year, month, 1, self.calendar)
        offset = (self.weekday - opening.weekday()) % 7 + 7 * (self.ordinal - 1)
        return opening + timedelta(days=offset)

    def to_json(self) -> dict[str, Any]:
        return {
            "frequency": self.frequency.value,
            "calendar": self.calendar,
            "timezone": self.timezone,
            "until": self.until.isoformat() if self.until else None,
            "starts_on": self.starts_on.isoformat() if self.starts_on else None,
            "at": _time_text(self.at) if self.at else None,
            "weekday": self.weekday,
            "ordinal": self.ordinal,
            "month_day": self.month_day,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recurrence:
        def day(key: str) -> date | None:
            return date.fromisoformat(data[key]) if data.get(key) else None

        return cls(
            frequency=Frequency(data["frequency"]),
            calendar=data.get("calendar", "jalali"),
            timezone=data.get("timezone", "Asia/Tehran"),
            until=day("until"),
            starts_on=day("starts_on"),
            at=time.fromisoformat(data["at"]) if data.get("at") else None,
            weekday=data.get("weekday"),
            ordinal=data.get("ordinal"),
            month_day=data.get("month_day"),
        )


def from_first(
    first: datetime,
    frequency: Frequency,
    *,
    calendar: Calendar = "jalali",
    timezone: str = "Asia/Tehran",
    last_weekday: bool = False,
    until: date | None = None,
) -> Recurrence:
    """The rule as staff chose it, pinned from the first meeting (aware) so it outlives a
    change of that meeting. `last_weekday`: monthly on the last such weekday, not the Nth.

    Raises ValueError when the first meeting would not be an occurrence of the rule: a fifth
    weekday without `last_weekday`, `last_weekday` on a weekday that is not its month's last,
    or `until` before the first meeting."""
    if last_weekday and frequency != Frequency.MONTHLY_WEEKDAY:
        raise ValueError("only a monthly-by-weekday rule can fall on the last weekday")
    rule = Recurrence(
        frequency,
        calendar=calendar,
        timezone=timezone,
        until=until,
        ordinal=-1 if last_weekday else None,
    ).resolved(first)
    if rule.next_after(first, first - timedelta(microseconds=1)) != first:
        raise ValueError("the first meeting is not an occurrence of this rule")
    return rule


def weekday_of_month(
    first: datetime, *, calendar: Calendar = "jalali", timezone: str = "Asia/Tehran"
) -> tuple[int, bool]:
    """Which of its weekday in its month the local day of `first` is (1…5) and whether it is
    the last: what a monthly-by-weekday rule can offer ("first", "last", not "fifth")."""
    local = _aware(first, "first").astimezone(ZoneInfo(timezone)).date()
    year, month, day = _split(local, calendar)
    return (day - 1) // 7 + 1, day + 7 > _month_length(year, month, calendar)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return moment


def _time_text(at: time) -> str:
    return at.isoformat(timespec="minutes" if not (at.second or at.microsecond) else "auto")


def _split(day: date, calendar: Calendar) -> tuple[int, int, int]:
    """(year, month 1…12, day) of a local date in the calendar."""
    if calendar == "jalali":
        jalali = JalaliDate(day)
        return jalali.year, jalali.month, jalali.day
    return day.year, day.month, day.day


def _join(year: int, month: int, day: int, calendar: Calendar) -> date:
    if calendar == "jalali":
        return JalaliDate(year, month, day).to_gregorian()
    return date(year, month, day)


def _month_length(year: int, month: int, calendar: Calendar) -> int:
    if calendar == "jalali":
        return JalaliDate.days_in_month(month, year)
    return monthrange(year, month)[1]
