"""A meeting's calendar UID names its database too: meeting 1 of one initiative (or of the same
one after a database reset) is not meeting 1 of another in a person's calendar."""

from __future__ import annotations

import base64
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalendar import Calendar

from bot import clock
from bot.db import create_engine, session_factory, transaction
from bot.meetings import calendar
from bot.meetings import service as meetings
from bot.meetings.models import Meeting

STARTS = datetime(2027, 1, 9, 14, 30, tzinfo=UTC)


async def _new_meeting(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            meeting, _people = await meetings.create(
                session,
                title={"fa": "جلسه", "en": "Meeting"},
                agenda={},
                starts_at=STARTS,
                duration_min=60,
                place=None,
                link=None,
                timezone="Asia/Tehran",
                group_ids=[],
                author_id=None,
            )
            return meeting.id
    finally:
        await engine.dispose()


async def _uid(database_url: str, meeting_id: int) -> str:
    """The UID of the meeting's calendar file, read as a freshly started process would."""
    engine = create_engine(database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            meeting = await session.get(Meeting, meeting_id)
            assert meeting is not None
            media = await calendar.file(session, meeting)
    finally:
        await engine.dispose()
    assert media.data is not None
    return str(Calendar.from_ical(base64.b64decode(media.data["en"])).events[0]["UID"])


async def test_meeting_one_of_two_databases_are_two_events_and_each_keeps_its_uid(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    clock.set_clock(lambda: STARTS - timedelta(days=3))
    other = tmp_path / "another-initiative.db"  # or this one after a reset: freshly migrated
    shutil.copy(sqlite_template, other)
    other_url = f"sqlite+aiosqlite:///{other}"
    assert await _new_meeting(database_url) == await _new_meeting(other_url) == 1

    here = await _uid(database_url, 1)
    assert await _uid(database_url, 1) == here  # after a restart, the same event
    there = await _uid(other_url, 1)
    assert here != there
    assert here.startswith("meeting-1-") and here.endswith("@hamgam")
