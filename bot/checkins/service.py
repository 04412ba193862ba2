"""Rounds of a check-in: starting them when due, reminding, taking answers, closing.

Each step is idempotent against the database (a round is keyed by its check-in and due time;
reminders and closing are guarded by stored counters and statuses), so the periodic job may
run late, twice, or after a restart without starting, reminding or closing anything twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, clock
from bot.checkins.models import (
    Checkin,
    CheckinAnswer,
    CheckinParticipant,
    CheckinRound,
    Participation,
    RoundStatus,
    SummaryTo,
)
from bot.checkins.questions import DEFAULT_QUESTIONS, Kind, Question
from bot.checkins.schedule import Schedule, Window
from bot.db import upsert
from bot.groups.models import Group, Membership
from bot.indicators import service as indicators
from bot.indicators.models import Frequency, Indicator, Source
from bot.people.audience import reachable
from bot.people.models import Person


@dataclass(frozen=True)
class Recipient:
    person_id: int
    telegram_id: int


@dataclass(frozen=True)
class StartedRound:
    round: CheckinRound
    checkin: Checkin
    group: Group
    recipients: list[Recipient]


def questions_of(source: Checkin | CheckinRound) -> list[Question]:
    """A check-in's questions for the rounds to come, or those a round started with."""
    return [Question.from_json(q) for q in source.questions]


async def create(
    session: AsyncSession,
    group_id: int,
    schedule: Schedule,
    window: Window,
    questions: tuple[Question, ...] = DEFAULT_QUESTIONS,
    summary_to: SummaryTo = SummaryTo.BOTH,
    actor_id: int | None = None,
) -> Checkin:
    if not window.fits(schedule):
        raise ValueError("the window closes before the round begins")
    checkin = Checkin(
        group_id=group_id,
        schedule=schedule.to_json(),
        window=window.to_json(),
        questions=[q.to_json() for q in questions],
        summary_to=summary_to.value,
        paused=False,
        created_at=clock.now(),
        active_since=clock.now(),
    )
    session.add(checkin)
    await session.flush()
    audit.record(
        session,
        actor_id,
        "checkin.create",
        f"checkin:{checkin.id}",
        group_id=group_id,
        schedule=checkin.schedule,
    )
    return checkin


async def start_due_rounds(session: AsyncSession, now: datetime) -> list[StartedRound]:
    """Rounds whose time has come (late after a restart, as long as their window is open)."""
    started: list[StartedRound] = []
    last_due = (
        select(CheckinRound.checkin_id, func.max(CheckinRound.due_at).label("due"))
        .group_by(CheckinRound.checkin_id)
        .subquery()
    )
    rows = await session.execute(
        select(Checkin, Group, last_due.c.due)
        .join(Group, Group.id == Checkin.group_id)
        .outerjoin(last_due, last_due.c.checkin_id == Checkin.id)
        .where(Checkin.paused.is_(False))
    )
    for checkin, group, latest in rows.all():
        schedule, window = Schedule.from_json(checkin.schedule), Window.from_json(checkin.window)
        since = max(latest, checkin.active_since) if latest else checkin.active_since
        for due in schedule.occurrences(since, now):
            closes = window.closes_at(due, schedule.tz)
            if closes <= now:
                continue  # the whole window passed while nobody was running
            reminders = window.reminders(due, schedule.tz)
            new_id = await session.scalar(
                upsert(session, CheckinRound)
                .values(
                    checkin_id=checkin.id,
                    due_at=due,
                    closes_at=closes,
                    status=RoundStatus.OPEN.value,
                    questions=checkin.questions,
                    reminders=[moment.isoformat() for moment in reminders],
                    started_at=now,
                )
                .on_conflict_do_nothing(index_elements=["checkin_id", "due_at"])
                .returning(CheckinRound.id)
            )
            if new_id is None:
                continue
            round_ = await session.get(CheckinRound, new_id)
            assert round_ is not None
            recipients, away_now = await _members_to_ask(session, group.id, now)
            session.add_all(
                CheckinParticipant(
                    round_id=new_id,
                    person_id=r.person_id,
                    status=Participation.ASKED,
                    reminders_sent=0,
                    next_reminder_at=reminders[0] if reminders else None,
                )
                for r in recipients
            )
            # Those away are in the round as away, so its summary names them.
            session.add_all(
                CheckinParticipant(round_id=new_id, person_id=person_id, status=Participation.AWAY)
                for person_id in away_now
            )
            started.append(StartedRound(round_, checkin, group, recipients))
    await session.flush()
    return started


def _away(now: datetime) -> ColumnElement[bool]:
    return Person.away_since.is_not(None) & (
        Person.away_until.is_(None) | (Person.away_until > now)
    )


async def _members_to_ask(
    session: AsyncSession, group_id: int, now: datetime
) -> tuple[list[Recipient], list[int]]:
    """The group's reachable members to ask, and those of them who are away."""
    rows = await session.execute(
        select(Person.id, Person.telegram_id, _away(now))
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.group_id == group_id, reachable())
        .order_by(Person.id)
    )
    asked, away_now = [], []
    for person_id, telegram_id, away in rows:
        if away:
            away_now.append(person_id)
        else:
            asked.append(Recipient(person_id, telegram_id))
    return asked, away_now


@dataclass(frozen=True)
class Pending:
    """Where a member is in an open round: the next question to answer."""

    round: CheckinRound
    checkin: Checkin
    group: Group
    index: int
    member: bool = True  # False once they have left the group: no answer is theirs to give


async def pending_for(session: AsyncSession, person_id: int) -> Pending | None:
    """The oldest open round still waiting for this member's answers, and whether they are
    still a member of its group (they may have left or been removed since it asked them)."""
    rows = await session.execute(
        select(CheckinRound, Checkin, Group, Membership.person_id)
        .join(CheckinParticipant, CheckinParticipant.round_id == CheckinRound.id)
        .join(Checkin, Checkin.id == CheckinRound.checkin_id)
        .join(Group, Group.id == Checkin.group_id)
        .outerjoin(
            Membership,
            (Membership.group_id == Group.id) & (Membership.person_id == person_id),
        )
        .where(
            CheckinParticipant.person_id == person_id,
            CheckinParticipant.status == Participation.ASKED,
            CheckinRound.status == RoundStatus.OPEN,
        )
        .order_by(CheckinRound.due_at)
        .limit(1)
    )
    found = rows.first()
    if found is None:
        return None
    round_, checkin, group, member = found
    answered = set(
        await session.scalars(
            select(CheckinAnswer.question).where(
                CheckinAnswer.round_id == round_.id, CheckinAnswer.person_id == person_id
            )
        )
    )
    index = next(i for i in range(len(round_.questions) + 1) if i not in answered)
    return Pending(round_, checkin, group, index, member is not None)


async def save_answer(
    session: AsyncSession, pending: Pending, person_id: int, value: str
) -> int | None:
    """Stores the answer; returns the next question's index, or None when all are answered."""
    existing = await session.get(CheckinAnswer, (pending.round.id, person_id, pending.index))
    if existing is None:
        session.add(
            CheckinAnswer(
                round_id=pending.round.id,
                person_id=person_id,
                question=pending.index,
                value=value,
                answered_at=clock.now(),
            )
        )
    else:
        existing.value, existing.answered_at = value, clock.now()
    question = questions_of(pending.round)[pending.index]
    if question.kind is Kind.INDICATOR and question.indicator_id is not None:
        await _report_indicator(session, pending, question.indicator_id, value, person_id)
    following = pending.index + 1
    if following < len(pending.round.questions):
        await session.flush()
        return following
    await _finish(session, pending.round.id, person_id, Participation.ANSWERED)
    return None


async def _report_indicator(
    session: AsyncSession, pending: Pending, indicator_id: int, value: str, person_id: int
) -> None:
    """The answer also counts as the indicator's value for the period the round falls in (a
    changed answer is a correction, and the history keeps both)."""
    indicator = await session.get(Indicator, indicator_id)
    if indicator is None:  # deleted since the question was written: the answer still stands
        return
    day = pending.round.due_at.astimezone(Schedule.from_json(pending.checkin.schedule).tz).date()
    await indicators.report(
        session,
        indicator,
        Decimal(value),
        period=indicators.period_start(Frequency(indicator.frequency), day),
        source=Source.CHECKIN,
        person_id=person_id,
    )


async def _finish(
    session: AsyncSession, round_id: int, person_id: int, status: Participation
) -> None:
    await session.execute(
        update(CheckinParticipant)
        .where(CheckinParticipant.round_id == round_id, CheckinParticipant.person_id == person_id)
        .values(status=status.value, finished_at=clock.now(), next_reminder_at=None)
    )


class Refusal(StrEnum):
    CLOSED = "closed"
    BEGUN = "begun"  # they have answered a question of the round already


async def no_update(session: AsyncSession, round_id: int, person_id: int) -> Refusal | None:
    """«No update this time» for an open round the member has not begun to answer (a stale
    button under the first question may still be pressed after that); None when taken."""
    round_ = await session.get(CheckinRound, round_id)
    if round_ is None or round_.status != RoundStatus.OPEN:
        return Refusal.CLOSED
    begun = await session.scalar(
        select(func.count())
        .select_from(CheckinAnswer)
        .where(CheckinAnswer.round_id == round_id, CheckinAnswer.person_id == person_id)
    )
    if begun:
        return Refusal.BEGUN
    await _finish(session, round_id, person_id, Participation.NO_UPDATE)
    return None


async def start_over(session: AsyncSession, round_id: int, person_id: int) -> bool:
    """A member changes their answers while the round is open: they answer it afresh."""
    round_ = await session.get(CheckinRound, round_id)
    participant = await session.get(CheckinParticipant, (round_id, person_id))
    if round_ is None or participant is None or round_.status != RoundStatus.OPEN:
        return False
    await session.execute(
        delete(CheckinAnswer).where(
            CheckinAnswer.round_id == round_id, CheckinAnswer.person_id == person_id
        )
    )
    participant.status, participant.finished_at = Participation.ASKED, None
    await session.flush()
    return True


AWAY_AT_MOST = timedelta(days=366)


class AwayProblem(StrEnum):
    NOT_AFTER_TODAY = "not_after_today"
    TOO_FAR = "too_far"


class AwayError(ValueError):
    def __init__(self, problem: AwayProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def away_ends(back_on: date, tz: ZoneInfo, now: datetime) -> datetime:
    """When an away period ends whose person is back on `back_on`: as that day begins in the
    initiative's zone, so its round reaches them. The day comes after today, within a year."""
    today = now.astimezone(tz).date()
    if back_on <= today:
        raise AwayError(AwayProblem.NOT_AFTER_TODAY)
    if back_on > today + AWAY_AT_MOST:
        raise AwayError(AwayProblem.TOO_FAR)
    return datetime.combine(back_on, time(0), tz)


def is_away(person: Person, now: datetime) -> bool:
    return person.away_since is not None and (person.away_until is None or person.away_until > now)


async def away(
    session: AsyncSession, person: Person, until: datetime | None, round_id: int | None = None
) -> None:
    """«I'm away», until a moment or until they say they are back: the rounds to come leave
    them out, and so do the open rounds they have not begun to answer and the one whose
    «I'm away» they pressed."""
    now = clock.now()
    if not is_away(person, now):
        person.away_since = now
    person.away_until = until
    begun = select(CheckinAnswer.round_id).where(CheckinAnswer.person_id == person.id)
    open_rounds = select(CheckinRound.id).where(CheckinRound.status == RoundStatus.OPEN)
    leaves = CheckinParticipant.round_id.not_in(begun)
    if round_id is not None:
        leaves |= CheckinParticipant.round_id == round_id
    await session.execute(
        update(CheckinParticipant)
        .where(
            CheckinParticipant.person_id == person.id,
            CheckinParticipant.status == Participation.ASKED,
            CheckinParticipant.round_id.in_(open_rounds),
            leaves,
        )
        .values(status=Participation.AWAY.value, finished_at=now, next_reminder_at=None)
    )


def back(person: Person) -> None:
    person.away_since = person.away_until = None


async def return_from_away(session: AsyncSession, now: datetime) -> None:
    """Those whose away period has ended are back, as if they had said so (written only when
    someone is due: the clock asks every second, and SQLite has one writer)."""
    due = select(Person.id).where(Person.away_until <= now).limit(1)
    if await session.scalar(due) is None:
        return
    await session.execute(
        update(Person).where(Person.away_until <= now).values(away_since=None, away_until=None)
    )


@dataclass(frozen=True)
class Reminder:
    round: CheckinRound
    checkin: Checkin
    group: Group
    recipient: Recipient
    number: int


async def due_reminders(session: AsyncSession, now: datetime) -> list[Reminder]:
    """Reminders whose time has come, to members who have not finished; each counted once
    (several that fell due while nobody was running become one)."""
    rows = await session.execute(
        select(
            CheckinParticipant,
            CheckinRound,
            Checkin,
            Group,
            Person.telegram_id,
            reachable(),
            Membership.person_id.is_not(None),
        )
        .join(CheckinRound, CheckinRound.id == CheckinParticipant.round_id)
        .join(Checkin, Checkin.id == CheckinRound.checkin_id)
        .join(Group, Group.id == Checkin.group_id)
        .join(Person, Person.id == CheckinParticipant.person_id)
        .outerjoin(
            Membership,
            (Membership.group_id == Group.id)
            & (Membership.person_id == CheckinParticipant.person_id),
        )
        .where(
            CheckinParticipant.next_reminder_at <= now,
            CheckinParticipant.status == Participation.ASKED,
            CheckinRound.status == RoundStatus.OPEN,
        )
    )
    reminders = []
    for participant, round_, checkin, group, telegram_id, can_reach, member in rows.all():
        if not member:  # left the group since the round asked them: nothing more to remind
            participant.next_reminder_at = None
            continue
        moments = [datetime.fromisoformat(moment) for moment in round_.reminders]
        sent = sum(1 for moment in moments if moment <= now)
        participant.reminders_sent = sent
        participant.next_reminder_at = moments[sent] if sent < len(moments) else None
        if can_reach:
            reminders.append(
                Reminder(
                    round_, checkin, group, Recipient(participant.person_id, telegram_id), sent
                )
            )
    await session.flush()
    return reminders


@dataclass(frozen=True)
class Member:
    name: str | None  # None once they have used /forget
    username: str | None


@dataclass(frozen=True)
class RoundSummary:
    """A closed round, keyed by person: two members may share a name, or take one's."""

    round: CheckinRound
    checkin: Checkin
    group: Group
    members: dict[int, Member]  # person id → who
    statuses: dict[int, str]  # person id → participation
    answers: list[list[tuple[int, str]]]  # per question: (person id, answer)
    previous_rate: float | None

    @property
    def tally(self) -> tuple[int, int]:
        return tally(Counter(self.statuses.values()))

    @property
    def rate(self) -> float:
        responded, expected = self.tally
        return responded / expected if expected else 0.0

    def people(self, status: Participation) -> list[int]:
        return [person_id for person_id, held in self.statuses.items() if held == status]


def tally(statuses: Counter[str]) -> tuple[int, int]:
    """(responded, expected): answering or saying «no update» counts; being away is excused."""
    expected = sum(n for status, n in statuses.items() if status != Participation.AWAY)
    responded = statuses[Participation.ANSWERED] + statuses[Participation.NO_UPDATE]
    return responded, expected


async def close_due_rounds(session: AsyncSession, now: datetime) -> list[RoundSummary]:
    """Rounds whose window has closed: closed once, with what a summary needs."""
    due = (
        await session.scalars(
            select(CheckinRound).where(
                CheckinRound.status == RoundStatus.OPEN, CheckinRound.closes_at <= now
            )
        )
    ).all()
    summaries = []
    for round_ in due:
        round_.status, round_.closed_at = RoundStatus.CLOSED, now
        await _withdraw_who_left(session, round_)
        await session.execute(
            update(CheckinParticipant)
            .where(
                CheckinParticipant.round_id == round_.id,
                CheckinParticipant.status == Participation.ASKED,
            )
            .values(status=Participation.MISSED.value)
        )
        summaries.append(await summarize(session, round_))
    return summaries


async def _withdraw_who_left(session: AsyncSession, round_: CheckinRound) -> None:
    """Members who left the group (or were removed) before finishing the round are not
    counted in it, and what they had begun to answer goes with them."""
    group_id = select(Checkin.group_id).where(Checkin.id == round_.checkin_id).scalar_subquery()
    gone = list(
        await session.scalars(
            select(CheckinParticipant.person_id).where(
                CheckinParticipant.round_id == round_.id,
                CheckinParticipant.status == Participation.ASKED,
                CheckinParticipant.person_id.not_in(
                    select(Membership.person_id).where(Membership.group_id == group_id)
                ),
            )
        )
    )
    if gone:
        for model in (CheckinAnswer, CheckinParticipant):
            await session.execute(
                delete(model).where(model.round_id == round_.id, model.person_id.in_(gone))
            )


async def participation_rate(session: AsyncSession, round_id: int) -> float | None:
    rows = (
        await session.execute(
            select(CheckinParticipant.status, func.count())
            .where(CheckinParticipant.round_id == round_id)
            .group_by(CheckinParticipant.status)
        )
    ).all()
    responded, expected = tally(Counter({status: n for status, n in rows}))
    return responded / expected if expected else None


async def summarize(session: AsyncSession, round_: CheckinRound) -> RoundSummary:
    checkin = await session.get(Checkin, round_.checkin_id)
    assert checkin is not None
    group = await session.get(Group, checkin.group_id)
    assert group is not None
    people = await session.execute(
        select(Person.id, Person.display_name, Person.username, CheckinParticipant.status)
        .join(CheckinParticipant, CheckinParticipant.person_id == Person.id)
        .where(CheckinParticipant.round_id == round_.id)
        .order_by(Person.id)
    )
    members: dict[int, Member] = {}
    statuses: dict[int, str] = {}
    for person_id, name, username, status in people:
        members[person_id] = Member(name, username)
        statuses[person_id] = status
    answers: list[list[tuple[int, str]]] = [[] for _ in round_.questions]
    for answer in await session.scalars(
        select(CheckinAnswer)
        .where(CheckinAnswer.round_id == round_.id)
        .order_by(CheckinAnswer.question, CheckinAnswer.person_id)
    ):
        if answer.question < len(answers):
            answers[answer.question].append((answer.person_id, answer.value))
    previous = await session.scalar(
        select(CheckinRound.id)
        .where(CheckinRound.checkin_id == checkin.id, CheckinRound.due_at < round_.due_at)
        .order_by(CheckinRound.due_at.desc())
        .limit(1)
    )
    return RoundSummary(
        round_,
        checkin,
        group,
        members,
        statuses,
        answers,
        await participation_rate(session, previous) if previous else None,
    )


def summary_targets(checkin: Checkin, group: Group) -> dict[str, Any]:
    """Where a round's summary goes: the linked group chat, staff, or both."""
    wants = SummaryTo(checkin.summary_to)
    return {
        "chat": group.chat_id if wants in (SummaryTo.CHAT, SummaryTo.BOTH) else None,
        "staff": wants in (SummaryTo.STAFF, SummaryTo.BOTH),
    }


async def all_checkins(session: AsyncSession) -> list[tuple[Checkin, Group]]:
    rows = await session.execute(
        select(Checkin, Group).join(Group, Group.id == Checkin.group_id).order_by(Checkin.id)
    )
    return [(checkin, group) for checkin, group in rows.all()]


async def set_paused(
    session: AsyncSession, checkin_id: int, paused: bool, actor_id: int | None
) -> Checkin | None:
    checkin = await session.get(Checkin, checkin_id)
    if checkin is None:
        return None
    if checkin.paused and not paused:
        checkin.active_since = clock.now()
    checkin.paused = paused
    audit.record(
        session, actor_id, "checkin.pause" if paused else "checkin.resume", f"checkin:{checkin_id}"
    )
    return checkin


async def skip_date(
    session: AsyncSession, checkin_id: int, day: date, actor_id: int | None, skipped: bool = True
) -> Checkin | None:
    """No round on that local day (a holiday such as Nowruz), or a round again after all."""
    checkin = await session.get(Checkin, checkin_id)
    if checkin is None:
        return None
    schedule = Schedule.from_json(checkin.schedule)
    days = schedule.skip_dates | {day} if skipped else schedule.skip_dates - {day}
    checkin.schedule = replace(schedule, skip_dates=days).to_json()
    audit.record(
        session,
        actor_id,
        "checkin.skip" if skipped else "checkin.unskip",
        f"checkin:{checkin_id}",
        day=day.isoformat(),
    )
    return checkin


async def edit(
    session: AsyncSession,
    checkin_id: int,
    actor_id: int | None,
    *,
    schedule: Schedule | None = None,
    window: Window | None = None,
    questions: Sequence[Question] | None = None,
    summary_to: SummaryTo | None = None,
) -> Checkin | None:
    """Changes what the next rounds will be; a round already running keeps what it began with.
    A new schedule takes effect from now: times it would have had earlier are not caught up."""
    checkin = await session.get(Checkin, checkin_id)
    if checkin is None:
        return None
    new_schedule = schedule or Schedule.from_json(checkin.schedule)
    new_window = window or Window.from_json(checkin.window)
    if not new_window.fits(new_schedule):
        raise ValueError("the window closes before the round begins")
    changes: dict[str, Any] = {}
    if schedule is not None:
        checkin.schedule = changes["schedule"] = schedule.to_json()
        checkin.active_since = clock.now()
    if window is not None:
        checkin.window = changes["window"] = window.to_json()
    if questions is not None:
        if not questions:
            raise ValueError("a check-in asks at least one question")
        checkin.questions = changes["questions"] = [q.to_json() for q in questions]
    if summary_to is not None:
        checkin.summary_to = changes["summary_to"] = summary_to.value
    audit.record(session, actor_id, "checkin.edit", f"checkin:{checkin_id}", **changes)
    await session.flush()
    return checkin


async def remove(session: AsyncSession, checkin_id: int, actor_id: int | None) -> bool:
    checkin = await session.get(Checkin, checkin_id)
    if checkin is None:
        return False
    await session.delete(checkin)
    audit.record(session, actor_id, "checkin.delete", f"checkin:{checkin_id}")
    return True


@dataclass(frozen=True)
class Overview:
    checkin: Checkin
    group: Group
    next_round: datetime | None


async def overviews(session: AsyncSession, now: datetime) -> list[Overview]:
    """Every check-in with its next round (one read: the list staff open answers at once)."""
    return [
        Overview(
            checkin,
            group,
            None if checkin.paused else Schedule.from_json(checkin.schedule).next_after(now),
        )
        for checkin, group in await all_checkins(session)
    ]


async def any_closed_round(session: AsyncSession) -> bool:
    """Whether any check-in has participation to show."""
    found = await session.scalar(
        select(CheckinRound.id).where(CheckinRound.status == RoundStatus.CLOSED).limit(1)
    )
    return found is not None


@dataclass(frozen=True)
class RecentParticipation:
    checkin: Checkin
    group: Group
    recent: list[tuple[datetime, float | None]]  # closed rounds' due times and rates, oldest first

    @property
    def recent_rates(self) -> list[float | None]:
        return [rate for _due, rate in self.recent]


async def participation(session: AsyncSession, rounds: int = 12) -> list[RecentParticipation]:
    """The participation of each check-in's latest closed rounds, of those that have any: a
    read over every participant of those rounds, for a background job at city size."""
    result = []
    for checkin, group in await all_checkins(session):
        recent = (
            await session.execute(
                select(CheckinRound.id, CheckinRound.due_at)
                .where(
                    CheckinRound.checkin_id == checkin.id, CheckinRound.status == RoundStatus.CLOSED
                )
                .order_by(CheckinRound.due_at.desc())
                .limit(rounds)
            )
        ).all()
        if not recent:
            continue
        statuses: dict[int, Counter[str]] = {round_id: Counter() for round_id, _due in recent}
        for round_id, status, count in await session.execute(
            select(CheckinParticipant.round_id, CheckinParticipant.status, func.count())
            .where(CheckinParticipant.round_id.in_(statuses))
            .group_by(CheckinParticipant.round_id, CheckinParticipant.status)
        ):
            statuses[round_id][status] = count
        history = []
        for round_id, due in reversed(recent):
            responded, expected = tally(statuses[round_id])
            history.append((due, responded / expected if expected else None))
        result.append(RecentParticipation(checkin, group, history))
    return result


@dataclass(frozen=True)
class MyRound:
    round: CheckinRound
    group: Group
    questions: list[Question]
    status: str
    answers: dict[int, str]


async def rounds_of(session: AsyncSession, person_id: int, limit: int = 5) -> list[MyRound]:
    """A member's latest rounds, open ones first, with what they answered."""
    rows = (
        await session.execute(
            select(CheckinRound, Group, CheckinParticipant.status)
            .join(CheckinParticipant, CheckinParticipant.round_id == CheckinRound.id)
            .join(Checkin, Checkin.id == CheckinRound.checkin_id)
            .join(Group, Group.id == Checkin.group_id)
            .where(CheckinParticipant.person_id == person_id)
            .order_by(CheckinRound.status.desc(), CheckinRound.due_at.desc())
            .limit(limit)
        )
    ).all()
    mine = []
    for round_, group, status in rows:
        answers = {
            answer.question: answer.value
            for answer in await session.scalars(
                select(CheckinAnswer).where(
                    CheckinAnswer.round_id == round_.id, CheckinAnswer.person_id == person_id
                )
            )
        }
        mine.append(MyRound(round_, group, questions_of(round_), status, answers))
    return mine


async def forget(session: AsyncSession, person_id: int) -> list[int]:
    """/forget: written answers go (they may say who wrote them); numbers and choices stay as
    figures, and so does taking part. Returns the closed rounds the person took part in, whose
    stored summaries named them."""
    written: dict[int, list[int]] = {}
    for round_id, index, questions in await session.execute(
        select(CheckinAnswer.round_id, CheckinAnswer.question, CheckinRound.questions)
        .join(CheckinRound, CheckinRound.id == CheckinAnswer.round_id)
        .where(CheckinAnswer.person_id == person_id)
    ):
        if index >= len(questions) or Question.from_json(questions[index]).kind is Kind.TEXT:
            written.setdefault(round_id, []).append(index)
    for round_id, indexes in written.items():
        await session.execute(
            delete(CheckinAnswer).where(
                CheckinAnswer.round_id == round_id,
                CheckinAnswer.person_id == person_id,
                CheckinAnswer.question.in_(indexes),
            )
        )
    return list(
        await session.scalars(
            select(CheckinParticipant.round_id)
            .join(CheckinRound, CheckinRound.id == CheckinParticipant.round_id)
            .where(
                CheckinParticipant.person_id == person_id,
                CheckinRound.status == RoundStatus.CLOSED,
            )
            .order_by(CheckinParticipant.round_id)
        )
    )
