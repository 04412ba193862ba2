"""Meetings: inviting, RSVPs, reminders that are never wrong, rescheduling and cancelling,
attendance, the next meeting of a series.

Reminders are not queued ahead: each invitee keeps the moment of their next reminder, and the
clock sends it when it comes, only if they have not declined, the meeting still stands and has
not begun. So a cancelled meeting, an old time after a change, or a passed start can never
produce one, and a restart sends a reminder it missed once (the outbox row also expires at the
start, in case sending is slow).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, clock
from bot.groups.models import Membership
from bot.meetings.models import Meeting, MeetingInvitee, MeetingStatus, Rsvp
from bot.meetings.recurrence import Recurrence
from bot.people.audience import reachable
from bot.people.models import Person

DEFAULT_REMINDERS_MIN = (24 * 60, 60)


@dataclass(frozen=True)
class Invitee:
    person_id: int
    telegram_id: int


def reminder_moments(meeting: Meeting) -> list[datetime]:
    """When reminders fall, earliest first."""
    return sorted(meeting.starts_at - timedelta(minutes=m) for m in meeting.reminders_min)


def _schedule_reminders(meeting: Meeting, invitee: MeetingInvitee, now: datetime) -> None:
    """Reminders whose moment has already passed when the time is set are not sent late."""
    moments = reminder_moments(meeting)
    invitee.reminders_sent = sum(1 for moment in moments if moment <= now)
    invitee.next_reminder_at = (
        moments[invitee.reminders_sent] if invitee.reminders_sent < len(moments) else None
    )


async def _people(
    session: AsyncSession, group_ids: Iterable[int], person_ids: Iterable[int]
) -> list[Invitee]:
    groups, persons = list(group_ids), list(person_ids)
    rows = await session.execute(
        select(Person.id, Person.telegram_id)
        .where(
            reachable(),
            Person.id.in_(select(Membership.person_id).where(Membership.group_id.in_(groups)))
            | Person.id.in_(persons),
        )
        .order_by(Person.id)
    )
    return [Invitee(person_id, telegram_id) for person_id, telegram_id in rows]


async def create(
    session: AsyncSession,
    *,
    title: dict[str, str],
    agenda: dict[str, str],
    starts_at: datetime,
    duration_min: int,
    place: str | None,
    link: str | None,
    timezone: str,
    group_ids: Sequence[int],
    person_ids: Sequence[int] = (),
    reminders_min: Sequence[int] = DEFAULT_REMINDERS_MIN,
    recurrence: Recurrence | None = None,
    series_id: int | None = None,
    author_id: int | None,
) -> tuple[Meeting, list[Invitee]]:
    now = clock.now()
    if starts_at <= now:
        raise ValueError("a meeting starts in the future")
    meeting = Meeting(
        series_id=series_id,
        title=title,
        agenda=agenda,
        starts_at=starts_at,
        slot_at=starts_at,
        duration_min=duration_min,
        place=place,
        link=link,
        timezone=timezone,
        reminders_min=sorted(set(reminders_min), reverse=True),
        recurrence=recurrence.to_json() if recurrence else None,
        series_ended=False,
        group_ids=list(group_ids),
        status=MeetingStatus.SCHEDULED.value,
        sequence=0,
        author_id=author_id,
        created_at=now,
    )
    session.add(meeting)
    await session.flush()
    invitees = await _people(session, group_ids, person_ids)
    for invitee in invitees:
        row = MeetingInvitee(
            meeting_id=meeting.id, person_id=invitee.person_id, rsvp=Rsvp.PENDING.value
        )
        _schedule_reminders(meeting, row, now)
        session.add(row)
    audit.record(
        session,
        author_id,
        "meeting.create",
        f"meeting:{meeting.id}",
        starts_at=starts_at.isoformat(),
        invitees=len(invitees),
    )
    await session.flush()
    return meeting, invitees


class RsvpProblem(StrEnum):
    NOT_INVITED = "not_invited"
    CANCELLED = "cancelled"
    STARTED = "started"


async def answer(
    session: AsyncSession, meeting_id: int, person_id: int, rsvp: Rsvp
) -> Meeting | RsvpProblem:
    """An RSVP, changeable until the meeting begins."""
    meeting = await session.get(Meeting, meeting_id)
    invitee = await session.get(MeetingInvitee, (meeting_id, person_id))
    if meeting is None or invitee is None:
        return RsvpProblem.NOT_INVITED
    if meeting.status == MeetingStatus.CANCELLED:
        return RsvpProblem.CANCELLED
    if meeting.starts_at <= clock.now():
        return RsvpProblem.STARTED
    invitee.rsvp, invitee.rsvp_at = rsvp.value, clock.now()
    return meeting


@dataclass(frozen=True)
class Reminder:
    meeting: Meeting
    invitee: Invitee
    number: int  # how many reminders of this meeting have fallen due, this one included


async def due_reminders(session: AsyncSession, now: datetime) -> list[Reminder]:
    rows = await session.execute(
        select(MeetingInvitee, Meeting, Person.telegram_id, reachable())
        .join(Meeting, Meeting.id == MeetingInvitee.meeting_id)
        .join(Person, Person.id == MeetingInvitee.person_id)
        .where(
            MeetingInvitee.next_reminder_at <= now,
            Meeting.status == MeetingStatus.SCHEDULED,
        )
    )
    due = []
    for invitee, meeting, telegram_id, can_reach in rows.all():
        moments = reminder_moments(meeting)
        invitee.reminders_sent = sum(1 for moment in moments if moment <= now)
        invitee.next_reminder_at = (
            moments[invitee.reminders_sent] if invitee.reminders_sent < len(moments) else None
        )
        if can_reach and invitee.rsvp != Rsvp.NO and meeting.starts_at > now:
            due.append(
                Reminder(meeting, Invitee(invitee.person_id, telegram_id), invitee.reminders_sent)
            )
    await session.flush()
    return due


async def invitees_of(
    session: AsyncSession, meeting_id: int, *, attended_only: bool = False
) -> list[Invitee]:
    query = (
        select(Person.id, Person.telegram_id)
        .join(MeetingInvitee, MeetingInvitee.person_id == Person.id)
        .where(MeetingInvitee.meeting_id == meeting_id, reachable())
        .order_by(Person.id)
    )
    if attended_only:
        query = query.where(MeetingInvitee.attended.is_(True))
    return [
        Invitee(person_id, telegram_id) for person_id, telegram_id in await session.execute(query)
    ]


class ChangeProblem(StrEnum):
    NOT_FOUND = "not_found"
    CANCELLED = "cancelled"
    STARTED = "started"
    IN_THE_PAST = "in_the_past"


async def _changeable(session: AsyncSession, meeting_id: int) -> Meeting | ChangeProblem:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        return ChangeProblem.NOT_FOUND
    if meeting.status == MeetingStatus.CANCELLED:
        return ChangeProblem.CANCELLED
    if meeting.starts_at <= clock.now():
        return ChangeProblem.STARTED
    return meeting


async def reschedule(
    session: AsyncSession, meeting_id: int, starts_at: datetime, actor_id: int | None
) -> Meeting | ChangeProblem:
    """A new time: a new calendar version, reminders follow the new time (not the old)."""
    meeting = await _changeable(session, meeting_id)
    if isinstance(meeting, ChangeProblem):
        return meeting
    now = clock.now()
    if starts_at <= now:
        return ChangeProblem.IN_THE_PAST
    previous = meeting.starts_at
    meeting.starts_at, meeting.sequence = starts_at, meeting.sequence + 1
    for invitee in await session.scalars(
        select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting_id)
    ):
        _schedule_reminders(meeting, invitee, now)
    audit.record(
        session,
        actor_id,
        "meeting.reschedule",
        f"meeting:{meeting_id}",
        was=previous.isoformat(),
        now=starts_at.isoformat(),
    )
    await session.flush()
    return meeting


async def cancel(
    session: AsyncSession, meeting_id: int, actor_id: int | None
) -> Meeting | ChangeProblem:
    meeting = await _changeable(session, meeting_id)
    if isinstance(meeting, ChangeProblem):
        return meeting
    meeting.status, meeting.sequence = MeetingStatus.CANCELLED.value, meeting.sequence + 1
    for invitee in await session.scalars(
        select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting_id)
    ):
        invitee.next_reminder_at = None
    audit.record(session, actor_id, "meeting.cancel", f"meeting:{meeting_id}")
    await session.flush()
    return meeting


async def end_series(session: AsyncSession, meeting_id: int, actor_id: int | None) -> bool:
    """No further meetings of this meeting's series (the ones already set stay)."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        return False
    head = await session.get(Meeting, meeting.series_id or meeting.id)
    if head is None or head.recurrence is None:
        return False
    head.series_ended = True
    audit.record(session, actor_id, "meeting.end_series", f"meeting:{head.id}")
    return True


async def next_of_series(
    session: AsyncSession, now: datetime
) -> list[tuple[Meeting, list[Invitee]]]:
    """For each series whose latest meeting has ended, the next one, with fresh invitations
    (the groups' members as they are now). Keyed by the start, so never made twice."""
    created = []
    # A meeting with no rule holds JSON null, which `IS NOT NULL` lets through: ask for the
    # rule's frequency instead (NULL for JSON null and SQL NULL alike, on both databases).
    heads = (
        await session.scalars(
            select(Meeting).where(
                Meeting.recurrence["frequency"].as_string().is_not(None),
                Meeting.series_ended.is_(False),
            )
        )
    ).all()
    for head in heads:
        latest = await session.scalar(
            select(Meeting)
            .where((Meeting.id == head.id) | (Meeting.series_id == head.id))
            .order_by(Meeting.starts_at.desc())
            .limit(1)
        )
        assert latest is not None
        if latest.starts_at + timedelta(minutes=latest.duration_min) > now:
            continue
        assert head.recurrence is not None
        rule = Recurrence.from_json(head.recurrence)
        following = rule.next_after(head.slot_at, max(latest.slot_at, latest.starts_at, now))
        if following is None:
            head.series_ended = True
            continue
        created.append(
            await create(
                session,
                title=latest.title,
                agenda=latest.agenda,
                starts_at=following,
                duration_min=latest.duration_min,
                place=latest.place,
                link=latest.link,
                timezone=latest.timezone,
                group_ids=latest.group_ids,
                reminders_min=latest.reminders_min,
                series_id=head.id,
                author_id=None,
            )
        )
    return created


async def mark_attendance(
    session: AsyncSession, meeting_id: int, person_id: int, attended: bool, actor_id: int | None
) -> bool:
    invitee = await session.get(MeetingInvitee, (meeting_id, person_id))
    if invitee is None:
        return False
    invitee.attended = attended
    audit.record(session, actor_id, "meeting.attendance", f"meeting:{meeting_id}", person=person_id)
    return True


@dataclass(frozen=True)
class Mine:
    meeting: Meeting
    rsvp: Rsvp


async def upcoming_for(session: AsyncSession, person_id: int, now: datetime) -> list[Mine]:
    rows = await session.execute(
        select(Meeting, MeetingInvitee.rsvp)
        .join(MeetingInvitee, MeetingInvitee.meeting_id == Meeting.id)
        .where(
            MeetingInvitee.person_id == person_id,
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now - timedelta(hours=3),
        )
        .order_by(Meeting.starts_at)
    )
    return [Mine(meeting, Rsvp(rsvp)) for meeting, rsvp in rows.all()]


@dataclass(frozen=True)
class Overview:
    meeting: Meeting
    counts: dict[Rsvp, int]
    names: dict[Rsvp, list[str]]
    attended: int


async def overview(session: AsyncSession, meeting: Meeting) -> Overview:
    counts = {rsvp: 0 for rsvp in Rsvp}
    names: dict[Rsvp, list[str]] = {rsvp: [] for rsvp in Rsvp}
    attended = 0
    for rsvp, name, was_there in await session.execute(
        select(MeetingInvitee.rsvp, Person.display_name, MeetingInvitee.attended)
        .join(Person, Person.id == MeetingInvitee.person_id)
        .where(MeetingInvitee.meeting_id == meeting.id)
        .order_by(Person.display_name)
    ):
        counts[Rsvp(rsvp)] += 1
        names[Rsvp(rsvp)].append(name or "—")
        attended += bool(was_there)
    return Overview(meeting, counts, names, attended)


async def for_staff(session: AsyncSession, now: datetime, past_days: int = 14) -> list[Meeting]:
    """Meetings to come and those of the last two weeks (for attendance and follow-ups)."""
    return list(
        (
            await session.scalars(
                select(Meeting)
                .where(Meeting.starts_at > now - timedelta(days=past_days))
                .order_by(Meeting.starts_at)
                .limit(20)
            )
        ).all()
    )


async def attendees(session: AsyncSession, meeting_id: int) -> list[tuple[int, str, bool]]:
    """(person id, name, attended) of everyone invited, for staff to mark."""
    rows = await session.execute(
        select(Person.id, Person.display_name, MeetingInvitee.attended)
        .join(MeetingInvitee, MeetingInvitee.person_id == Person.id)
        .where(MeetingInvitee.meeting_id == meeting_id)
        .order_by(Person.display_name, Person.id)
    )
    return [(pid, name or "—", bool(attended)) for pid, name, attended in rows]


async def attendance_by_group(
    session: AsyncSession, now: datetime, meetings: int = 12
) -> dict[int, list[tuple[datetime, float | None]]]:
    """Per group: its latest past meetings' attendance (attended / invited), oldest first.
    Meetings whose attendance nobody marked show no value."""
    past = (
        await session.scalars(
            select(Meeting)
            .where(Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at <= now)
            .order_by(Meeting.starts_at.desc())
            .limit(meetings * 10)
        )
    ).all()
    figures = dict(
        (
            await session.execute(
                select(
                    MeetingInvitee.meeting_id,
                    func.count(),
                )
                .where(MeetingInvitee.meeting_id.in_([m.id for m in past]))
                .group_by(MeetingInvitee.meeting_id)
            )
        ).all()
    )
    marked = dict(
        (
            await session.execute(
                select(MeetingInvitee.meeting_id, func.count())
                .where(
                    MeetingInvitee.meeting_id.in_([m.id for m in past]),
                    MeetingInvitee.attended.is_(True),
                )
                .group_by(MeetingInvitee.meeting_id)
            )
        ).all()
    )
    any_marked = set(
        await session.scalars(
            select(MeetingInvitee.meeting_id)
            .where(
                MeetingInvitee.meeting_id.in_([m.id for m in past]),
                MeetingInvitee.attended.is_not(None),
            )
            .distinct()
        )
    )
    series: dict[int, list[tuple[datetime, float | None]]] = {}
    for meeting in past:  # newest first: each group keeps its latest meetings
        invited = figures.get(meeting.id, 0)
        rate = marked.get(meeting.id, 0) / invited if invited and meeting.id in any_marked else None
        for group_id in meeting.group_ids:
            points = series.setdefault(group_id, [])
            if len(points) < meetings:
                points.append((meeting.starts_at, rate))
    return {group_id: points[::-1] for group_id, points in series.items()}
