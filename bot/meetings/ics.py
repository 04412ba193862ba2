"""The calendar file (.ics) an invitee adds to the calendar on their phone.

A meeting is one VEVENT with a stable UID; every change (a new time, a cancellation) goes out
under the same UID with a higher SEQUENCE, so calendar apps update the entry they already have
instead of adding a second one (RFC 5545/5546). The start is written in the meeting's zone
(TZID plus a VTIMEZONE, so "18:00 Tehran" stays 18:00 on a phone set to another zone); the end
as DTEND, understood by every calendar app.

A series is one VEVENT for all its meetings, starting at the first: an RRULE where the rule
is Gregorian (weekly, fortnightly, a Gregorian month's day or weekday), otherwise its dates
(RDATE) a year ahead, since no calendar app knows Jalali months. A meeting of it that moved is
a VEVENT of the same UID whose RECURRENCE-ID is the time the rule gave it; one cancelled, or a
time the series skipped, is an EXDATE. Each file carries the whole series, so whichever one a
person adds last is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import clock
from bot.meetings.recurrence import Frequency, Recurrence

if TYPE_CHECKING:
    from icalendar import Event

# icalendar (with dateutil) is imported where a file is written or read: a bot that sends no
# invitation never loads it.

PRODID = "-//Hamgam//Hamgam meetings//EN"
LISTED_AHEAD = timedelta(days=366)  # how far ahead a series' dates are listed (RDATE)
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Moved:
    """A meeting of a series at another time than its rule gave it."""

    slot: datetime  # the time the rule gave it (RECURRENCE-ID), aware
    starts_at: datetime  # aware
    duration: timedelta


@dataclass(frozen=True)
class Repeats:
    rule: Recurrence  # resolved (Recurrence.resolved) from the series' first meeting
    last: datetime | None = None  # the last meeting's slot once the series has ended
    listed_until: datetime | None = None  # dates written up to here; default a year on
    excluded: tuple[datetime, ...] = ()  # slots with no meeting: cancelled or skipped
    moved: tuple[Moved, ...] = ()


@dataclass(frozen=True)
class CalendarEvent:
    uid: str  # stable per meeting occurrence, e.g. "meeting-12@hamgam"
    sequence: int  # increases with every change (reschedule, cancel), RFC 5545
    starts_at: datetime  # aware UTC
    duration: timedelta
    title: str  # already in the reader's language
    description: str = ""
    location: str = ""
    url: str | None = None
    timezone: str = "Asia/Tehran"
    cancelled: bool = False
    repeats: Repeats | None = None  # a series: starts_at is its first meeting's slot

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.starts_at.utcoffset() is None:
            raise ValueError("starts_at must be an aware datetime")
        if self.duration <= timedelta(0):
            raise ValueError("a meeting lasts a while")
        if self.sequence < 0:
            raise ValueError("SEQUENCE starts at 0")


def build(event: CalendarEvent) -> bytes:
    """The .ics file: METHOD:PUBLISH (an event to add, not an invitation to answer: RSVPs are
    given in the bot, and REQUEST/CANCEL would need an ORGANIZER that phone calendars then
    show as the sender); a later SEQUENCE updates it, STATUS:CANCELLED withdraws it.

    UTF-8 with CRLF line endings and lines folded at 75 octets, as icalendar writes them."""
    from icalendar import Calendar

    tz = ZoneInfo(event.timezone)
    start = event.starts_at.astimezone(tz)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    master = _vevent(event, event.starts_at, event.duration)
    calendar.add_component(master)
    last = start
    if event.repeats is not None:
        last = _repeat(master, event, event.repeats).astimezone(tz)
        for moved in event.repeats.moved:
            override = _vevent(event, moved.starts_at, moved.duration)
            override.add("recurrence-id", moved.slot.astimezone(tz))
            calendar.add_component(override)
            last = max(last, moved.starts_at.astimezone(tz))
    # Only the transitions around these meetings: the default (1970–2038) makes the Tehran
    # VTIMEZONE some 70 lines long for one event.
    calendar.add_missing_timezones(
        first_date=date(start.year - 1, 1, 1), last_date=date(last.year + 1, 12, 31)
    )
    return calendar.to_ical()


def _vevent(event: CalendarEvent, starts_at: datetime, duration: timedelta) -> Event:
    from icalendar import Event

    tz = ZoneInfo(event.timezone)
    return Event.new(
        uid=event.uid,
        sequence=event.sequence,
        stamp=clock.now().astimezone(UTC),
        start=starts_at.astimezone(tz),
        end=(starts_at.astimezone(UTC) + duration).astimezone(tz),  # elapsed time
        summary=event.title,
        description=event.description or None,
        location=event.location or None,
        url=event.url,
        status="CANCELLED" if event.cancelled else None,
    )


def _repeat(master: Event, event: CalendarEvent, repeats: Repeats) -> datetime:
    """Writes the series' rule or dates and its exceptions into the master VEVENT; returns the
    latest moment written (for the VTIMEZONE's span)."""
    tz = ZoneInfo(event.timezone)
    first, rule = event.starts_at, repeats.rule
    rrule = _rrule(rule, repeats.last)
    if rrule is not None:
        master.add("rrule", rrule)
        latest = repeats.last or first + LISTED_AHEAD
    else:
        end = repeats.listed_until or first + LISTED_AHEAD
        if repeats.last is not None:
            end = min(end, repeats.last)
        dates = rule.between(first, first, end)
        if dates:
            master.add("rdate", [moment.astimezone(tz) for moment in dates])
        latest = dates[-1] if dates else first
    if repeats.excluded:
        master.add("exdate", [moment.astimezone(tz) for moment in sorted(repeats.excluded)])
    return latest


def _rrule(rule: Recurrence, last: datetime | None) -> dict[str, object] | None:
    """The rule as an RRULE, or None when its months are Jalali."""
    assert rule.weekday is not None or rule.frequency == Frequency.MONTHLY_DAY
    monthly = rule.frequency in (Frequency.MONTHLY_WEEKDAY, Frequency.MONTHLY_DAY)
    if monthly and rule.calendar != "gregorian":
        return None
    parts: dict[str, object]
    if rule.frequency == Frequency.WEEKLY:
        parts = {"freq": "weekly", "byday": _DAYS[rule.weekday or 0]}
    elif rule.frequency == Frequency.FORTNIGHTLY:
        parts = {"freq": "weekly", "interval": 2, "byday": _DAYS[rule.weekday or 0]}
    elif rule.frequency == Frequency.MONTHLY_WEEKDAY:
        parts = {"freq": "monthly", "byday": f"{rule.ordinal}{_DAYS[rule.weekday or 0]}"}
    else:
        assert rule.month_day is not None
        if rule.month_day <= 28:
            parts = {"freq": "monthly", "bymonthday": rule.month_day}
        else:  # the 30th, or a shorter month's last day: the latest of these that exists
            parts = {
                "freq": "monthly",
                "bymonthday": list(range(28, rule.month_day + 1)),
                "bysetpos": -1,
            }
    ends = [moment for moment in (last, _last_moment(rule)) if moment is not None]
    if ends:
        parts["until"] = min(ends).astimezone(UTC)  # UTC, as RFC 5545 wants with a TZID start
    return parts


def _last_moment(rule: Recurrence) -> datetime | None:
    """The end of the rule's last day, when it has one."""
    if rule.until is None:
        return None
    return datetime.combine(rule.until + timedelta(days=1), time(0), rule.tz) - timedelta(seconds=1)


def read_start(data: bytes) -> tuple[datetime, timedelta, str]:
    """(start as aware UTC, duration, summary) of the file's first event."""
    from icalendar import Calendar

    vevent = Calendar.from_ical(data).events[0]
    start = vevent.start.astimezone(UTC)
    # In UTC: subtracting two times of one zone gives the wall-clock difference, not elapsed.
    return start, vevent.end.astimezone(UTC) - start, str(vevent["SUMMARY"])
