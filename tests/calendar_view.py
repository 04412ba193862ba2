"""What a calendar app shows from a Hamgam .ics file: the series expanded the way RFC 5545 says
(DTSTART, RRULE, RDATE, less EXDATE, each RECURRENCE-ID override in its slot's place), with
icalendar to read the file and dateutil's rruleset to expand it, as calendar apps do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dateutil.rrule import rruleset, rrulestr
from icalendar import Calendar, Event


@dataclass(frozen=True)
class Shown:
    starts_at: datetime  # aware UTC
    sequence: int
    moved: bool  # comes from an override (RECURRENCE-ID)


def _moments(vevent: Event, name: str) -> list[datetime]:
    values = vevent.get(name)
    if values is None:
        return []
    lists = values if isinstance(values, list) else [values]
    return [item.dt for one in lists for item in one.dts]


def master_and_overrides(data: bytes) -> tuple[Event, list[Event]]:
    events = Calendar.from_ical(data).events
    [master] = [e for e in events if "RECURRENCE-ID" not in e]
    assert len({str(e["UID"]) for e in events}) == 1, "one UID for the whole series"
    return master, [e for e in events if "RECURRENCE-ID" in e]


def shown(data: bytes, end: datetime) -> list[Shown]:
    """Every occurrence a calendar shows up to `end`, in order."""
    master, overrides = master_and_overrides(data)
    start = master.start
    series = rruleset()
    series.rdate(start)
    if "RRULE" in master:
        series.rrule(rrulestr(master["RRULE"].to_ical().decode(), dtstart=start))
    for moment in _moments(master, "RDATE"):
        series.rdate(moment)
    for moment in _moments(master, "EXDATE"):
        series.exdate(moment)
    replaced = {e["RECURRENCE-ID"].dt.astimezone(UTC): e for e in overrides}
    found = []
    for moment in series.between(start, end, inc=True):
        override = replaced.get(moment.astimezone(UTC))
        if override is None:
            found.append(Shown(moment.astimezone(UTC), int(master["SEQUENCE"]), False))
        else:
            found.append(Shown(override.start.astimezone(UTC), int(override["SEQUENCE"]), True))
    return sorted(found, key=lambda item: item.starts_at)
