"""The calendar file a meeting's messages carry, from what is stored: a one-off meeting as one
event; a meeting of a series as the whole series (bot.meetings.ics), with the meetings that
moved, were cancelled or were skipped, so the file sent last always says it all.

The UID carries the database's random key (bot.instance), so the same meeting number in another
initiative, or after a database reset, is another event in a person's calendar. A series'
SEQUENCE grows with every change to any of its meetings and with every meeting set, since each
changes what the file lists."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import instance
from bot.delivery.content import Media, pick
from bot.meetings import ics
from bot.meetings.models import Meeting, MeetingStatus
from bot.meetings.recurrence import Recurrence


async def file(session: AsyncSession, meeting: Meeting) -> Media:
    """The .ics in each language (the event's title and agenda are the reader's)."""
    key = await instance.key(session)
    head = meeting
    if meeting.series_id is not None:
        head = await session.get(Meeting, meeting.series_id) or meeting
    if head.recurrence is None:
        sequence, starts_at, repeats = meeting.sequence, meeting.starts_at, None
    else:
        rows = (
            await session.scalars(
                select(Meeting)
                .where((Meeting.id == head.id) | (Meeting.series_id == head.id))
                .order_by(Meeting.slot_at)
            )
        ).all()
        sequence, repeats = _series(head, list(rows))
        starts_at = head.slot_at
    data = {}
    for language in ("fa", "en"):
        event = ics.CalendarEvent(
            uid=f"meeting-{head.id}-{key}@hamgam",
            sequence=sequence,
            starts_at=starts_at,
            duration=timedelta(minutes=meeting.duration_min),
            title=pick(meeting.title, language),
            description=pick(meeting.agenda, language),
            location=meeting.place or "",
            url=meeting.link,
            timezone=meeting.timezone,
            cancelled=repeats is None and meeting.status == MeetingStatus.CANCELLED,
            repeats=repeats,
        )
        data[language] = base64.b64encode(ics.build(event)).decode()
    return Media(kind="document", file_name=f"meeting-{meeting.id}.ics", data=data)


def _series(head: Meeting, rows: list[Meeting]) -> tuple[int, ics.Repeats]:
    """(SEQUENCE, the series as a calendar file writes it) from its meetings so far.

    The next meeting of a series is set after the latest one (by its start, moved or not), so
    the rule's times up to there that no meeting holds were skipped: EXDATE, like cancelled."""
    assert head.recurrence is not None
    rule = Recurrence.from_json(head.recurrence).resolved(head.slot_at)
    latest = max(rows, key=lambda row: row.starts_at)
    known_until = max(latest.slot_at, latest.starts_at)
    held = {row.slot_at for row in rows if row.status != MeetingStatus.CANCELLED}
    excluded = {row.slot_at for row in rows if row.status == MeetingStatus.CANCELLED}
    excluded |= {
        slot for slot in rule.between(head.slot_at, head.slot_at, known_until) if slot not in held
    }
    moved = tuple(
        ics.Moved(row.slot_at, row.starts_at, timedelta(minutes=row.duration_min))
        for row in rows
        if row.status != MeetingStatus.CANCELLED and row.starts_at != row.slot_at
    )
    last_slot: datetime = max(row.slot_at for row in rows)
    sequence = sum(row.sequence for row in rows) + len(rows) - 1 + int(head.series_ended)
    return sequence, ics.Repeats(
        rule,
        last=last_slot if head.series_ended else None,
        listed_until=last_slot + ics.LISTED_AHEAD,
        excluded=tuple(sorted(excluded)),
        moved=moved,
    )
