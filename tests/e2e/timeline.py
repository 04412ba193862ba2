"""Time and arrangements for end-to-end tests: a clock to move forward, a working group whose
check-in falls due in an hour, a survey open from now."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.background.models import BackgroundJob, JobStatus
from bot.checkins import service as checkins
from bot.checkins.questions import Question
from bot.checkins.schedule import Schedule, Window
from bot.db import transaction
from bot.delivery.models import Delivery, DeliveryStatus
from bot.groups.models import Group, GroupKind, Membership
from bot.i18n.format import TEHRAN
from bot.people.audience import Audience, AudienceKind
from bot.people.models import Person as PersonRow
from bot.surveys import service as surveys
from bot.surveys.form import Form
from tests.e2e.harness import Person, inbox_has


class TimeMachine:
    """Moves the bot's clock forward while real time goes on (nothing sleeps until then)."""

    def __init__(self) -> None:
        self.offset = timedelta()
        clock.set_clock(lambda: datetime.now(UTC) + self.offset)

    def travel_to(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(UTC)


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 15) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        assert time.monotonic() < deadline, "it did not happen in time"
        await asyncio.sleep(0.1)


async def round_asked(machine: TimeMachine, due: datetime, someone: Person, words: str) -> None:
    """A minute after `due`: the round has begun and asked `someone` (their inbox says `words`)."""
    machine.travel_to(due + timedelta(minutes=1))
    await eventually(lambda: inbox_has(someone, words))


# Rounds of group_with_checkin are answered until 20:00 the day after, reminded after an hour.
WINDOW = Window(days_after=1, at=clock_time(20, 0), reminders_after_min=(60,))


def after_closing(due: datetime, zone: ZoneInfo = TEHRAN) -> datetime:
    """An hour after a group_with_checkin round due then has closed: whatever the time of day
    the test runs at (the close is at a local hour, not a fixed time after the due time)."""
    return WINDOW.closes_at(due, zone) + timedelta(hours=1)


async def group_with_checkin(
    sessions: async_sessionmaker[AsyncSession],
    members: list[Person],
    *,
    chat_id: int | None = None,
    daily: bool = False,
    questions: tuple[Question, ...] | None = None,
    skip: frozenset[date] = frozenset(),
    zone: ZoneInfo = TEHRAN,
) -> datetime:
    """A working group with these members and a check-in due in an hour; returns the due time."""
    local_due = (clock.now() + timedelta(hours=1)).astimezone(zone).replace(second=0, microsecond=0)
    async with transaction(sessions) as session:
        group = Group(
            kind=GroupKind.WORKING_GROUP, name_fa="کارگروه سبز", name_en="Green", chat_id=chat_id
        )
        session.add(group)
        await session.flush()
        for someone in members:
            person_id = await session.scalar(
                select(PersonRow.id).where(PersonRow.telegram_id == someone.user_id)
            )
            session.add(Membership(person_id=person_id, group_id=group.id))
        await checkins.create(
            session,
            group.id,
            Schedule(
                at=clock_time(local_due.hour, local_due.minute),
                weekdays=frozenset(range(7)) if daily else frozenset({local_due.weekday()}),
                skip_dates=skip,
                timezone=zone.key,
            ),
            WINDOW,
            **({"questions": questions} if questions else {}),
        )
    return local_due.astimezone(UTC)


EVERYONE = Audience(AudienceKind.EVERYONE)


async def survey_open_now(
    sessions: async_sessionmaker[AsyncSession],
    form: Form,
    *,
    anonymous: bool = False,
    audience: Audience = EVERYONE,
    days: int = 3,
    min_responses: int = 5,
) -> int:
    """A survey published to open now (the clock sends the invitations); returns its id."""
    async with transaction(sessions) as session:
        draft = await surveys.create_draft(session, form, "bot", None)
        await surveys.publish(
            session,
            draft.id,
            audience=audience,
            opens_at=clock.now(),
            closes_at=clock.now() + timedelta(days=days),
            anonymous=anonymous,
            min_responses=min_responses,
            actor_id=None,
        )
    return draft.id


async def job_delivered(someone: Person, label: str, sessions) -> list[dict[str, Any]]:
    """Presses the button that starts a background job (/export's format, /report's period,
    a survey in /results), or sends the command that does (/checkins, a label starting with
    «/»), waits until every job is over and what it sent has gone out, and returns the
    messages that reached `someone` after the reply (the job's progress message, or what
    said that the rest follows)."""
    reply = await (someone.send(label) if label.startswith("/") else someone.press(label))
    progress = max(message["message_id"] for message in reply.messages)
    await eventually(
        lambda: jobs_over(sessions), within_s=120
    )  # a child starts slowly on a busy machine
    return [m for m in await someone.inbox() if m["message_id"] > progress]


async def jobs_over(sessions) -> bool:
    """No background job is queued or running, and none has a message still to send."""
    async with sessions() as session:
        busy = await session.scalar(
            select(func.count())
            .select_from(BackgroundJob)
            .where(BackgroundJob.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        )
        unsent = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.batch.like("job:%"),
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
            )
        )
    return not busy and not unsent
