"""The backbone's one-page report for a period: participation in check-ins, surveys'
response rates, announcement reach, meetings, and the indicators — all counted from what the
other features stored, nothing kept twice."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins.models import Checkin, CheckinParticipant, CheckinRound, RoundStatus
from bot.checkins.service import tally
from bot.delivery.models import Delivery, DeliveryStatus
from bot.groups import service as groups
from bot.groups.models import Group
from bot.indicators import service as indicators
from bot.meetings.models import Meeting, MeetingInvitee, MeetingStatus, Rsvp
from bot.people.models import Person
from bot.surveys import service as surveys
from bot.surveys.models import Survey, SurveyStatus


@dataclass(frozen=True)
class GroupParticipation:
    group: Group
    rounds: int
    responded: int
    expected: int
    history: list[tuple[datetime, float | None]]  # per round, oldest first

    @property
    def rate(self) -> float | None:
        return self.responded / self.expected if self.expected else None


@dataclass(frozen=True)
class SurveyFigures:
    survey: Survey
    rates: surveys.Rates


@dataclass(frozen=True)
class Reach:
    """What became of announcements' messages: delivered, unreachable, not sent (opted out or
    gone), failed; and how many people opted out in the period."""

    statuses: Counter[str]
    opted_out: int

    @property
    def delivered(self) -> int:
        return self.statuses[DeliveryStatus.SENT]

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


@dataclass(frozen=True)
class MeetingFigures:
    meeting: Meeting
    rsvps: Counter[str]
    invited: int
    attended: int
    marked: bool  # someone's attendance was recorded
    held: bool  # it began before the report's end; otherwise it is still to come


@dataclass
class Report:
    since: datetime
    until: datetime
    participation: list[GroupParticipation] = field(default_factory=list)
    surveys: list[SurveyFigures] = field(default_factory=list)
    reach: Reach = field(default_factory=lambda: Reach(Counter(), 0))
    meetings: list[MeetingFigures] = field(default_factory=list)
    standings: list[indicators.Standing] = field(default_factory=list)
    groups: dict[int, Group] = field(default_factory=dict)  # the groups the figures name

    def group_name(self, group_id: int, language: str) -> str:
        group = self.groups.get(group_id)
        return group.name(language) if group is not None else "—"


async def build(session: AsyncSession, since: datetime, until: datetime) -> Report:
    report = Report(since, until)
    report.participation = await _participation(session, since, until)
    report.surveys = [
        SurveyFigures(survey, await surveys.rates(session, survey))
        for survey in await session.scalars(
            select(Survey)
            .where(
                Survey.status.in_([SurveyStatus.OPEN, SurveyStatus.CLOSED]),
                Survey.opened_at < until,
                Survey.closes_at >= since,
            )
            .order_by(Survey.opened_at)
        )
    ]
    report.reach = await _reach(session, since, until)
    report.meetings = await _meetings(session, since, until)
    report.standings = await indicators.standings(session)
    named = {group_id for figures in report.surveys for group_id in figures.rates.groups}
    report.groups = await groups.by_ids(session, named)
    return report


async def _participation(
    session: AsyncSession, since: datetime, until: datetime
) -> list[GroupParticipation]:
    """Closed rounds due in the period, per group: answering or «no update» counts, being away
    is excused (the same tally as each round's summary)."""
    rows = await session.execute(
        select(Group, CheckinRound.id, CheckinRound.due_at, CheckinParticipant.status, func.count())
        .join(Checkin, Checkin.group_id == Group.id)
        .join(CheckinRound, CheckinRound.checkin_id == Checkin.id)
        .join(CheckinParticipant, CheckinParticipant.round_id == CheckinRound.id)
        .where(
            CheckinRound.status == RoundStatus.CLOSED,
            CheckinRound.due_at >= since,
            CheckinRound.due_at < until,
        )
        .group_by(Group.id, CheckinRound.id, CheckinRound.due_at, CheckinParticipant.status)
        .order_by(Group.id, CheckinRound.due_at)
    )
    per_round: dict[int, dict[int, tuple[datetime, Counter[str]]]] = {}
    groups: dict[int, Group] = {}
    for group, round_id, due_at, status, count in rows.all():
        groups[group.id] = group
        rounds = per_round.setdefault(group.id, {})
        rounds.setdefault(round_id, (due_at, Counter()))[1][status] += count
    result = []
    for group_id, rounds in per_round.items():
        responded = expected = 0
        history = []
        for due_at, statuses in rounds.values():
            done, owed = tally(statuses)
            responded, expected = responded + done, expected + owed
            history.append((due_at, done / owed if owed else None))
        result.append(
            GroupParticipation(groups[group_id], len(rounds), responded, expected, history)
        )
    return result


async def _reach(session: AsyncSession, since: datetime, until: datetime) -> Reach:
    statuses = Counter(
        {
            status: count
            for status, count in await session.execute(
                select(Delivery.status, func.count())
                .where(
                    Delivery.batch.like("announcement:%"),
                    Delivery.created_at >= since,
                    Delivery.created_at < until,
                )
                .group_by(Delivery.status)
            )
        }
    )
    opted_out = await session.scalar(
        select(func.count())
        .select_from(Person)
        .where(Person.opted_out_at >= since, Person.opted_out_at < until)
    )
    return Reach(statuses, int(opted_out or 0))


UPCOMING_LIMIT = 20


async def _meetings(
    session: AsyncSession, since: datetime, until: datetime
) -> list[MeetingFigures]:
    """The period's meetings and those to come (their RSVPs say who will be there), in order."""
    held = (
        await session.scalars(
            select(Meeting)
            .where(
                Meeting.status == MeetingStatus.SCHEDULED,
                Meeting.starts_at >= since,
                Meeting.starts_at < until,
            )
            .order_by(Meeting.starts_at)
        )
    ).all()
    coming = (
        await session.scalars(
            select(Meeting)
            .where(Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at >= until)
            .order_by(Meeting.starts_at)
            .limit(UPCOMING_LIMIT)
        )
    ).all()
    meetings = [*held, *coming]
    rsvps: dict[int, Counter[str]] = {meeting.id: Counter() for meeting in meetings}
    attended: Counter[int] = Counter()
    marked: set[int] = set()
    for meeting_id, rsvp, was_there, count in await session.execute(
        select(
            MeetingInvitee.meeting_id, MeetingInvitee.rsvp, MeetingInvitee.attended, func.count()
        )
        .where(MeetingInvitee.meeting_id.in_(list(rsvps)))
        .group_by(MeetingInvitee.meeting_id, MeetingInvitee.rsvp, MeetingInvitee.attended)
    ):
        rsvps[meeting_id][Rsvp(rsvp)] += count
        if was_there is not None:
            marked.add(meeting_id)
        if was_there:
            attended[meeting_id] += count
    return [
        MeetingFigures(
            meeting,
            rsvps[meeting.id],
            sum(rsvps[meeting.id].values()),
            attended[meeting.id],
            meeting.id in marked,
            meeting.starts_at < until,
        )
        for meeting in meetings
    ]
