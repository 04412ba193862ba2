"""The calendar file (.ics) an invitee adds to the calendar on their phone.

One meeting occurrence is one VEVENT with a stable UID; every change (a new time, a
cancellation) goes out under the same UID with a higher SEQUENCE, so calendar apps update the
entry they already have instead of adding a second one (RFC 5545/5546). The start is written
in the meeting's zone (TZID plus a VTIMEZONE, so "18:00 Tehran" stays 18:00 on a phone set to
another zone); the end as DTEND, understood by every calendar app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot import clock

PRODID = "-//Hamgam//Hamgam meetings//EN"


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
    tz = ZoneInfo(event.timezone)
    start = event.starts_at.astimezone(tz)
    end = (event.starts_at.astimezone(UTC) + event.duration).astimezone(tz)  # elapsed time
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    vevent = Event.new(
        uid=event.uid,
        sequence=event.sequence,
        stamp=clock.now().astimezone(UTC),
        start=start,
        end=end,
        summary=event.title,
        description=event.description or None,
        location=event.location or None,
        url=event.url,
        status="CANCELLED" if event.cancelled else None,
    )
    calendar.add_component(vevent)
    # Only the transitions around this meeting: the default (1970–2038) makes the Tehran
    # VTIMEZONE some 70 lines long for one event.
    calendar.add_missing_timezones(
        first_date=date(start.year - 1, 1, 1), last_date=date(end.year + 1, 12, 31)
    )
    return calendar.to_ical()


def read_start(data: bytes) -> tuple[datetime, timedelta, str]:
    """(start as aware UTC, duration, summary) of the file's first event."""
    vevent = Calendar.from_ical(data).events[0]
    start = vevent.start.astimezone(UTC)
    # In UTC: subtracting two times of one zone gives the wall-clock difference, not elapsed.
    return start, vevent.end.astimezone(UTC) - start, str(vevent["SUMMARY"])
