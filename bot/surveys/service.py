"""Surveys from draft to results: publishing, opening with invitations, answering one question
at a time (saved as it arrives, resumable from the database alone), one reminder, closing.

Like check-ins, every step the clock takes is guarded by a stored status or time, so running it
late, twice or after a restart opens, reminds and closes each survey once.

Anonymous surveys: a finished response is cut from its author and waits, uncounted, until
min_responses of them wait; then they are mixed (see mix). At the close a smaller remainder is
mixed together with responses mixed before. Staff see nothing of an anonymous survey until
min_responses are mixed, and no breakdown of fewer, so every figure moves in steps of at least
min_responses, never by one person's answer.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Executable, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, clock
from bot.db import upsert
from bot.delivery.models import Delivery
from bot.groups.models import Group, Membership
from bot.people.audience import Audience, reachable, recipients
from bot.people.models import Person
from bot.surveys.form import Form, Kind, Question, Value, value_from_json, value_to_json
from bot.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyParticipant,
    SurveyResponse,
    SurveyStatus,
)

REMIND_BEFORE_CLOSE = timedelta(hours=24)
# Response ids are drawn below this: random, so that no id says when a response began, and
# under 10^15 so that a spreadsheet shows them exactly (Excel keeps 15 digits).
RESPONSE_IDS = 10**15
# Draws response ids and shuffles mixes; tests may put a seeded random.Random in its place.
RANDOM: random.Random = random.SystemRandom()


_PUBLISHED_FORMS: dict[tuple[int, datetime], Form] = {}
FORMS_KEPT = 256


def form_of(survey: Survey) -> Form:
    """The survey's form. A published form never changes, so it is read and checked once, not
    at every answer; a draft's is read afresh."""
    if survey.status == SurveyStatus.DRAFT:
        return Form.from_json(survey.form)
    key = (survey.id, survey.created_at)
    return _PUBLISHED_FORMS.get(key) or _keep(key, survey.form)


async def _published_form(session: AsyncSession, survey_id: int, created_at: datetime) -> Form:
    """form_of() for a published survey known by its id and creation time: its form is read
    from the database only when it is not kept already."""
    key = (survey_id, created_at)
    if (form := _PUBLISHED_FORMS.get(key)) is not None:
        return form
    return _keep(key, await session.scalar(select(Survey.form).where(Survey.id == survey_id)))


def _keep(key: tuple[int, datetime], stored: dict[str, Any]) -> Form:
    if len(_PUBLISHED_FORMS) >= FORMS_KEPT:
        _PUBLISHED_FORMS.pop(next(iter(_PUBLISHED_FORMS)))
    form = _PUBLISHED_FORMS[key] = Form.from_json(stored)
    return form


def invitation_batch(survey_id: int) -> str:
    return f"survey:{survey_id}:invite"


async def create_draft(
    session: AsyncSession, form: Form, source: str, author_id: int | None
) -> Survey:
    survey = Survey(
        author_id=author_id,
        form=form.to_json(),
        source=source,
        anonymous=False,
        status=SurveyStatus.DRAFT.value,
        created_at=clock.now(),
    )
    session.add(survey)
    await session.flush()
    audit.record(session, author_id, "survey.draft", f"survey:{survey.id}", source=source)
    return survey


async def replace_form(session: AsyncSession, survey_id: int, form: Form) -> Survey | None:
    """A draft's questions change while it is written; a published survey's never do."""
    survey = await session.get(Survey, survey_id)
    if survey is None or survey.status != SurveyStatus.DRAFT:
        return None
    survey.form = form.to_json()
    return survey


class PublishProblem(StrEnum):
    NOT_A_DRAFT = "not_a_draft"
    CLOSES_TOO_SOON = "closes_too_soon"


async def publish(
    session: AsyncSession,
    survey_id: int,
    *,
    audience: Audience,
    opens_at: datetime,
    closes_at: datetime,
    anonymous: bool,
    min_responses: int,
    actor_id: int | None,
) -> Survey | PublishProblem:
    """From draft to scheduled; the clock opens it at opens_at (at once when that has come).
    An anonymous survey keeps min_responses (ANONYMOUS_MIN_RESPONSES) as it is now: what
    residents were promised when they answered holds however the setting changes later."""
    survey = await session.get(Survey, survey_id)
    if survey is None or survey.status != SurveyStatus.DRAFT:
        return PublishProblem.NOT_A_DRAFT
    now = clock.now()
    opens_at = max(opens_at, now)
    if closes_at <= opens_at + timedelta(minutes=5):
        return PublishProblem.CLOSES_TOO_SOON
    survey.audience = audience.to_json()
    survey.anonymous = anonymous
    survey.min_responses = min_responses if anonymous else None
    survey.opens_at, survey.closes_at = opens_at, closes_at
    survey.remind_at = closes_at - min(REMIND_BEFORE_CLOSE, (closes_at - opens_at) / 2)
    survey.status = SurveyStatus.SCHEDULED.value
    audit.record(
        session,
        actor_id,
        "survey.publish",
        f"survey:{survey_id}",
        audience=survey.audience,
        opens_at=opens_at.isoformat(),
        closes_at=closes_at.isoformat(),
        anonymous=anonymous,
    )
    await session.flush()
    return survey


async def discard(session: AsyncSession, survey_id: int, actor_id: int | None) -> bool:
    survey = await session.get(Survey, survey_id)
    if survey is None or survey.status not in (SurveyStatus.DRAFT, SurveyStatus.SCHEDULED):
        return False
    await session.delete(survey)
    audit.record(session, actor_id, "survey.discard", f"survey:{survey_id}")
    return True


@dataclass(frozen=True)
class Invitee:
    person_id: int
    telegram_id: int


@dataclass(frozen=True)
class Fanout:
    """A survey and the people one of the clock's steps writes to about it."""

    survey: Survey
    people: list[Invitee]


async def open_due(session: AsyncSession, now: datetime) -> list[Fanout]:
    """Scheduled surveys whose time has come: opened once, with everyone to invite."""
    due = (
        await session.scalars(
            select(Survey).where(Survey.status == SurveyStatus.SCHEDULED, Survey.opens_at <= now)
        )
    ).all()
    opened = []
    for survey in due:
        survey.status, survey.opened_at = SurveyStatus.OPEN.value, now
        assert survey.audience is not None
        rows = await session.execute(recipients(Audience.from_json(survey.audience)))
        people = [Invitee(person_id, telegram_id) for person_id, telegram_id, _lang in rows]
        opened.append(Fanout(survey, people))
    await session.flush()
    return opened


async def reminders_due(session: AsyncSession, now: datetime) -> list[Fanout]:
    """The one reminder, to those who started and have not finished."""
    due = (
        await session.scalars(
            select(Survey).where(
                Survey.status == SurveyStatus.OPEN,
                Survey.remind_at <= now,
                Survey.reminded_at.is_(None),
            )
        )
    ).all()
    reminded = []
    for survey in due:
        survey.reminded_at = now
        rows = await session.execute(
            select(Person.id, Person.telegram_id)
            .join(SurveyParticipant, SurveyParticipant.person_id == Person.id)
            .where(
                SurveyParticipant.survey_id == survey.id,
                SurveyParticipant.finished.is_(False),
                reachable(),
            )
        )
        reminded.append(Fanout(survey, [Invitee(pid, tid) for pid, tid in rows]))
    await session.flush()
    return reminded


async def close_due(session: AsyncSession, now: datetime) -> list[Survey]:
    """Open surveys past their closing time: closed once; an anonymous one keeps its rates and
    forgets who took part."""
    due = (
        await session.scalars(
            select(Survey).where(Survey.status == SurveyStatus.OPEN, Survey.closes_at <= now)
        )
    ).all()
    for survey in due:
        await close(session, survey, now)
    return list(due)


async def close(
    session: AsyncSession, survey: Survey, now: datetime, actor_id: int | None = None
) -> None:
    survey.status, survey.closed_at = SurveyStatus.CLOSED.value, now
    if survey.anonymous:
        await _mix_waiting(session, survey.id, closing=True)
        survey.stats = (await _live_rates(session, survey.id)).to_json()
        await session.execute(
            delete(SurveyParticipant).where(SurveyParticipant.survey_id == survey.id)
        )
    if actor_id is not None:
        audit.record(session, actor_id, "survey.close", f"survey:{survey.id}")
    await session.flush()


# Answering


class Refusal(StrEnum):
    NOT_FOUND = "not_found"
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    FINISHED = "finished"
    NOT_INVITED = "not_invited"


@dataclass(frozen=True)
class Progress:
    """Where someone is in a survey: what they answered and the question that comes next."""

    survey_id: int
    anonymous: bool
    form: Form
    response_id: int
    answers: dict[str, Value]
    done: frozenset[str]  # skipped questions and notes read
    question: Question | None  # None: everything is answered

    @property
    def position(self) -> tuple[int, int]:
        """(n, of): the current question's number among those that take answers."""
        answerable = self.form.answerable
        if self.question is None:
            return len(answerable), len(answerable)
        before = self.form.questions[: self.form.questions.index(self.question)]
        return min(sum(q.answerable for q in before) + 1, len(answerable)), len(answerable)

    @property
    def can_go_back(self) -> bool:
        return bool(self.answers) or bool(self.done)


def _refusal(status: str | None, closes_at: datetime | None) -> Refusal | None:
    """Why nobody may answer a survey in this status (None: no such survey) now, if so."""
    if status is None or status == SurveyStatus.DRAFT:
        return Refusal.NOT_FOUND
    if status == SurveyStatus.SCHEDULED:
        return Refusal.NOT_OPEN
    if status == SurveyStatus.CLOSED or (closes_at is not None and closes_at <= clock.now()):
        return Refusal.CLOSED
    return None


async def in_audience(session: AsyncSession, survey: Survey, person_id: int) -> bool:
    if survey.audience is None:
        return False
    query = recipients(Audience.from_json(survey.audience)).where(Person.id == person_id)
    return await session.scalar(query.with_only_columns(Person.id)) is not None


async def start(session: AsyncSession, survey_id: int, person_id: int) -> Progress | Refusal:
    """Begin or resume; one response per person."""
    survey = await session.get(Survey, survey_id)
    if survey is None:
        return Refusal.NOT_FOUND
    if (refusal := _refusal(survey.status, survey.closes_at)) is not None:
        return refusal
    participant = await session.get(SurveyParticipant, (survey_id, person_id))
    if participant is not None and participant.finished:
        return Refusal.FINISHED
    if participant is None or participant.response_id is None:
        if participant is None and not await in_audience(session, survey, person_id):
            return Refusal.NOT_INVITED
        response = SurveyResponse(
            id=(await _fresh_ids(session, 1))[0],
            survey_id=survey_id,
            person_id=None if survey.anonymous else person_id,
            finished=False,
            started_at=None if survey.anonymous else clock.now(),
        )
        session.add(response)
        await session.flush()
        if participant is None:
            participant = SurveyParticipant(survey_id=survey_id, person_id=person_id)
            session.add(participant)
        participant.response_id, participant.finished = response.id, False
        await session.flush()
    assert participant.response_id is not None
    return await _progress(
        session, survey.id, survey.anonymous, form_of(survey), participant.response_id
    )


# Every answer runs this, so it is built once and reads in one statement the survey's status
# (not its form: _published_form keeps that), the person's place and the answers so far: one
# row per answer, or one row with no answer.
_PLACE = (
    select(
        Survey.status,
        Survey.closes_at,
        Survey.anonymous,
        Survey.created_at,
        SurveyParticipant.response_id,
        SurveyParticipant.finished,
        SurveyAnswer.question,
        SurveyAnswer.value,
    )
    .outerjoin(
        SurveyParticipant,
        (SurveyParticipant.survey_id == Survey.id)
        & (SurveyParticipant.person_id == bindparam("person_id")),
    )
    .outerjoin(SurveyAnswer, SurveyAnswer.response_id == SurveyParticipant.response_id)
    .where(Survey.id == bindparam("survey_id"))
)


async def current(session: AsyncSession, survey_id: int, person_id: int) -> Progress | Refusal:
    """Someone's progress in a survey they have started (nothing is created)."""
    connection = await session.connection()
    parameters = {"survey_id": survey_id, "person_id": person_id}
    rows = (await connection.execute(_PLACE, parameters)).all()
    if not rows:
        return Refusal.NOT_FOUND
    head = rows[0]
    if (refusal := _refusal(head.status, head.closes_at)) is not None:
        return refusal
    if head.finished is None:  # no participant row: never started
        return Refusal.NOT_INVITED
    if head.finished or head.response_id is None:
        return Refusal.FINISHED
    form = await _published_form(session, survey_id, head.created_at)
    answered = [(row.question, row.value) for row in rows if row.question is not None]
    return _progress_of(survey_id, head.anonymous, form, head.response_id, answered)


_ANSWERS = select(SurveyAnswer.question, SurveyAnswer.value).where(
    SurveyAnswer.response_id == bindparam("response_id")
)


async def _progress(
    session: AsyncSession, survey_id: int, anonymous: bool, form: Form, response_id: int
) -> Progress:
    connection = await session.connection()
    answered = (await connection.execute(_ANSWERS, {"response_id": response_id})).all()
    return _progress_of(survey_id, anonymous, form, response_id, answered)


def _progress_of(
    survey_id: int,
    anonymous: bool,
    form: Form,
    response_id: int,
    answered: Iterable[tuple[str, str | None]],
) -> Progress:
    """Progress from the stored (question, value) rows; a None value is a question skipped or
    a note read."""
    answers: dict[str, Value] = {}
    done: set[str] = set()
    for name, value in answered:
        if value is None:
            done.add(name)
        else:
            try:
                answers[name] = value_from_json(form.question(name), value)
            except KeyError:
                continue
    return Progress(
        survey_id,
        anonymous,
        form,
        response_id,
        answers,
        frozenset(done),
        form.next_question(answers, done),
    )


_SAVING: dict[str, Executable] = {}


def _saving(session: AsyncSession) -> Executable:
    """The statement that stores an answer (or changes it), built once per kind of database."""
    dialect = session.bind.dialect.name
    if dialect not in _SAVING:
        insert = upsert(session, SurveyAnswer.__table__)
        _SAVING[dialect] = insert.on_conflict_do_update(
            index_elements=["response_id", "question"],
            set_={"value": insert.excluded.value, "answered_at": insert.excluded.answered_at},
        )
    return _SAVING[dialect]


async def save(
    session: AsyncSession, progress: Progress, person_id: int, value: Value | None
) -> Progress:
    """Stores the answer to the current question (None: skipped, or a note read) and moves on;
    the response is finished when nothing is left."""
    question = progress.question
    assert question is not None
    stored = None if value is None else value_to_json(value)
    answered_at = None if progress.anonymous else clock.now()
    connection = await session.connection()
    await connection.execute(
        _saving(session),
        {
            "response_id": progress.response_id,
            "question": question.name,
            "position": progress.form.questions.index(question),
            "value": stored,
            "answered_at": answered_at,
        },
    )
    answers = dict(progress.answers)
    done = set(progress.done)
    if value is None:
        done.add(question.name)
        answers.pop(question.name, None)
    else:
        answers[question.name] = value
        done.discard(question.name)
    following = replace(
        progress,
        answers=answers,
        done=frozenset(done),
        question=progress.form.next_question(answers, done),
    )
    if following.question is None:
        await _finish(session, progress, person_id)
    return following


async def _finish(session: AsyncSession, progress: Progress, person_id: int) -> None:
    anonymous = progress.anonymous
    await session.execute(
        update(SurveyResponse)
        .where(SurveyResponse.id == progress.response_id)
        .values(finished=True, finished_at=None if anonymous else clock.now())
    )
    await session.execute(
        update(SurveyParticipant)
        .where(
            SurveyParticipant.survey_id == progress.survey_id,
            SurveyParticipant.person_id == person_id,
        )
        .values(finished=True, **({"response_id": None} if anonymous else {}))
    )
    if anonymous:
        await _mix_waiting(session, progress.survey_id, closing=False)


# Mixing anonymous responses


def to_mix(waiting: list[int], mixed: list[int], least: int, closing: bool) -> list[int]:
    """The responses to mix now: every waiting one once at least `least` wait; at the close
    any remainder, joined by mixed ones chosen at random so that the mix still holds `least`
    (or all there are)."""
    if not waiting or (len(waiting) < least and not closing):
        return []
    company = RANDOM.sample(mixed, min(max(least - len(waiting), 0), len(mixed)))
    return waiting + company


async def _mix_waiting(session: AsyncSession, survey_id: int, closing: bool) -> None:
    """Mixes the survey's finished, waiting responses when their time has come. The survey's
    row is locked first, so that two people finishing at once (PostgreSQL) do not mix the
    same responses twice; SQLite has one writer anyway."""
    least = (
        await session.scalar(
            select(Survey.min_responses).where(Survey.id == survey_id).with_for_update()
        )
    ) or 1
    of_survey = (SurveyResponse.survey_id == survey_id) & SurveyResponse.finished
    waiting = list(
        await session.scalars(select(SurveyResponse.id).where(of_survey, ~SurveyResponse.mixed))
    )
    mixed: list[int] = []
    if closing and 0 < len(waiting) < least:  # the company for the remainder
        mixed = list(
            await session.scalars(select(SurveyResponse.id).where(of_survey, SurveyResponse.mixed))
        )
    chosen = to_mix(sorted(waiting), sorted(mixed), least, closing)
    if chosen:
        await mix(session, survey_id, chosen)


async def mix(session: AsyncSession, survey_id: int, response_ids: list[int]) -> None:
    """Writes these responses and their answers again, in a random order under fresh random
    ids, as mixed; in the caller's transaction, so that the old rows and the new never both
    show. Afterwards neither an id nor a row's place (rowid, ctid, the order a SELECT without
    ORDER BY returns) says which of them was whose or which came first."""
    answers: dict[int, list[tuple[str, int, str | None]]] = {i: [] for i in response_ids}
    for response_id, question, position, value in await session.execute(
        select(
            SurveyAnswer.response_id,
            SurveyAnswer.question,
            SurveyAnswer.position,
            SurveyAnswer.value,
        ).where(SurveyAnswer.response_id.in_(response_ids))
    ):
        answers[response_id].append((question, position, value))
    order = list(answers.values())
    RANDOM.shuffle(order)
    fresh = await _fresh_ids(session, len(order))
    await session.execute(delete(SurveyAnswer).where(SurveyAnswer.response_id.in_(response_ids)))
    await session.execute(delete(SurveyResponse).where(SurveyResponse.id.in_(response_ids)))
    await session.execute(
        insert(SurveyResponse),
        [
            {"id": new_id, "survey_id": survey_id, "finished": True, "mixed": True}
            for new_id in fresh
        ],
    )
    rows = [
        {"response_id": new_id, "question": question, "position": position, "value": value}
        for new_id, given in zip(fresh, order, strict=True)
        for question, position, value in sorted(given, key=lambda answer: answer[1])
    ]
    if rows:
        await session.execute(insert(SurveyAnswer), rows)


async def _fresh_ids(session: AsyncSession, count: int) -> list[int]:
    """`count` random response ids that no response has yet (a clash is very unlikely, not
    impossible: it is drawn again)."""
    ids: list[int] = []
    while len(ids) < count:
        drawn = [RANDOM.randrange(1, RESPONSE_IDS) for _ in range(count - len(ids))]
        taken = set(
            await session.scalars(select(SurveyResponse.id).where(SurveyResponse.id.in_(drawn)))
        )
        for i in drawn:
            if i not in taken and i not in ids:
                ids.append(i)
    return ids


async def back(session: AsyncSession, progress: Progress) -> Progress:
    """Undo the answer before the current question, which is then asked again."""
    now_at = (
        progress.form.questions.index(progress.question)
        if progress.question is not None
        else len(progress.form.questions)
    )
    previous = await session.scalar(
        select(SurveyAnswer.question)
        .where(SurveyAnswer.response_id == progress.response_id, SurveyAnswer.position < now_at)
        .order_by(SurveyAnswer.position.desc())
        .limit(1)
    )
    if previous is not None:
        await session.execute(
            delete(SurveyAnswer).where(
                SurveyAnswer.response_id == progress.response_id,
                SurveyAnswer.question == previous,
            )
        )
    return await _progress(
        session, progress.survey_id, progress.anonymous, progress.form, progress.response_id
    )


async def open_for(session: AsyncSession, person_id: int) -> list[tuple[Survey, bool]]:
    """Open surveys this person may answer and has not finished: (survey, started)."""
    surveys = (
        await session.scalars(
            select(Survey)
            .where(Survey.status == SurveyStatus.OPEN, Survey.closes_at > clock.now())
            .order_by(Survey.closes_at)
        )
    ).all()
    mine = []
    for survey in surveys:
        participant = await session.get(SurveyParticipant, (survey.id, person_id))
        if participant is not None and participant.finished:
            continue
        if participant is not None or await in_audience(session, survey, person_id):
            mine.append((survey, participant is not None))
    return mine


async def surveys_for_staff(session: AsyncSession, limit: int = 20) -> list[Survey]:
    return list(
        (
            await session.scalars(
                select(Survey)
                .where(Survey.status != SurveyStatus.DRAFT)
                .order_by(Survey.id.desc())
                .limit(limit)
            )
        ).all()
    )


# Results


@dataclass
class Rates:
    """Response rates: (responded, invited) overall, per area and per working group."""

    total: tuple[int, int] = (0, 0)
    areas: dict[str, tuple[int, int]] = field(default_factory=dict)
    groups: dict[int, tuple[int, int]] = field(default_factory=dict)
    # Anonymous surveys, as staff see them (not stored): nothing at all while fewer than
    # min_responses responses are mixed; no area or group where fewer responded.
    withheld: bool = False
    hidden: int = 0  # areas and groups left out

    def to_json(self) -> dict[str, Any]:
        return {
            "total": list(self.total),
            "areas": {k: list(v) for k, v in self.areas.items()},
            "groups": {str(k): list(v) for k, v in self.groups.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rates:
        return cls(
            tuple(data["total"]),  # type: ignore[arg-type]
            {k: tuple(v) for k, v in data["areas"].items()},  # type: ignore[misc]
            {int(k): tuple(v) for k, v in data["groups"].items()},  # type: ignore[misc]
        )


async def rates(session: AsyncSession, survey: Survey) -> Rates:
    """The rates staff may see: an anonymous survey's follow withheld_below."""
    found = (
        Rates.from_json(survey.stats)
        if survey.stats is not None
        else await _live_rates(session, survey.id)
    )
    if not survey.anonymous:
        return found
    least = _least(survey)
    if await _mixed(session, survey.id) < least:
        return Rates(withheld=True)
    areas = {area: counts for area, counts in found.areas.items() if counts[0] >= least}
    groups = {group: counts for group, counts in found.groups.items() if counts[0] >= least}
    hidden = len(found.areas) + len(found.groups) - len(areas) - len(groups)
    return Rates(found.total, areas, groups, hidden=hidden)


def _least(survey: Survey) -> int:
    return survey.min_responses or 1


async def _mixed(session: AsyncSession, survey_id: int) -> int:
    """How many of an anonymous survey's responses count: those mixed."""
    return (
        await session.scalar(
            select(func.count()).where(SurveyResponse.survey_id == survey_id, SurveyResponse.mixed)
        )
    ) or 0


async def _live_rates(session: AsyncSession, survey_id: int) -> Rates:
    """Everyone invited or taking part is counted once; answering counts when finished."""
    invited = set(
        await session.scalars(
            select(Delivery.person_id).where(
                Delivery.batch == invitation_batch(survey_id), Delivery.person_id.is_not(None)
            )
        )
    )
    finished: set[int] = set()
    for person_id, done in await session.execute(
        select(SurveyParticipant.person_id, SurveyParticipant.finished).where(
            SurveyParticipant.survey_id == survey_id
        )
    ):
        invited.add(person_id)
        if done:
            finished.add(person_id)
    result = Rates(total=(len(finished), len(invited)))
    areas: dict[str, list[int]] = {}
    for person_id, area in await session.execute(
        select(Person.id, Person.area).where(Person.id.in_(invited), Person.area.is_not(None))
    ):
        counts = areas.setdefault(area, [0, 0])
        counts[0] += person_id in finished
        counts[1] += 1
    groups: dict[int, list[int]] = {}
    for person_id, group_id in await session.execute(
        select(Membership.person_id, Membership.group_id)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.person_id.in_(invited))
    ):
        counts = groups.setdefault(group_id, [0, 0])
        counts[0] += person_id in finished
        counts[1] += 1
    result.areas = {area: (c[0], c[1]) for area, c in sorted(areas.items())}
    result.groups = {group: (c[0], c[1]) for group, c in sorted(groups.items())}
    return result


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    answered: int  # responses that answered it
    counts: dict[str, int]  # choice name (or scale point) → how many chose it
    numbers: list[Decimal]  # number and scale answers
    texts: list[str]

    @property
    def mean(self) -> Decimal | None:
        return Decimal(sum(self.numbers)) / len(self.numbers) if self.numbers else None

    @property
    def median(self) -> Decimal | None:
        return statistics.median(self.numbers) if self.numbers else None


@dataclass(frozen=True)
class Results:
    survey: Survey
    form: Form
    finished: int
    partial: int  # always 0 when anonymous: only mixed responses count
    questions: list[QuestionResult]
    withheld: bool = False  # anonymous, fewer than min_responses mixed: nothing is shown


async def results(session: AsyncSession, survey: Survey) -> Results:
    """Every answer given (finished responses and those still part-way), per question. Of an
    anonymous survey only mixed responses, and nothing until min_responses are; its free
    texts are sorted, so that their order says nothing about when they were written."""
    form = form_of(survey)
    counted = SurveyResponse.survey_id == survey.id
    if survey.anonymous:
        counted &= SurveyResponse.mixed
    responses = dict(
        (
            await session.execute(select(SurveyResponse.id, SurveyResponse.finished).where(counted))
        ).all()
    )
    if survey.anonymous and len(responses) < _least(survey):
        return Results(survey, form, 0, 0, [], withheld=True)
    values: dict[str, list[Value]] = {q.name: [] for q in form.questions}
    rows = await session.stream(
        select(SurveyAnswer.question, SurveyAnswer.value)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(counted, SurveyAnswer.value.is_not(None))
    )
    async for name, stored in rows:
        if name in values:
            values[name].append(value_from_json(form.question(name), stored))
    finished = sum(1 for done in responses.values() if done)
    tallies = [_tally(question, values[question.name]) for question in form.answerable]
    if survey.anonymous:
        tallies = [replace(tally, texts=sorted(tally.texts)) for tally in tallies]
    return Results(survey, form, finished, len(responses) - finished, tallies)


def _tally(question: Question, values: Iterable[Value]) -> QuestionResult:
    counts: Counter[str] = Counter()
    numbers: list[Decimal] = []
    texts: list[str] = []
    answered = 0
    for value in values:
        answered += 1
        if question.kind is Kind.MULTIPLE:
            counts.update(value)  # type: ignore[arg-type]
        elif question.kind in (Kind.SINGLE, Kind.YES_NO):
            counts[str(value)] += 1
        elif question.kind is Kind.SCALE:
            numbers.append(value)  # type: ignore[arg-type]
            counts[str(value)] += 1
        elif question.kind is Kind.NUMBER:
            numbers.append(value)  # type: ignore[arg-type]
        else:
            texts.append(str(value))
    if question.kind is Kind.SCALE:
        assert question.minimum is not None and question.maximum is not None
        points = range(int(question.minimum), int(question.maximum) + 1)
        counts = Counter({str(point): counts.get(str(point), 0) for point in points})
    elif question.options:
        counts = Counter({c.name: counts.get(c.name, 0) for c in question.options})
    return QuestionResult(question, answered, dict(counts), numbers, texts)


async def forget(session: AsyncSession, person_id: int) -> None:
    """/forget: the person's named responses are cut from them (so several cannot be joined
    into a profile) and lose their times, as anonymous ones have none; written answers go,
    choices and numbers stay. That they took part stays counted, linked to no response."""
    await session.execute(
        update(SurveyParticipant)
        .where(SurveyParticipant.person_id == person_id)
        .values(response_id=None)
    )
    responses = []
    for response_id, form in await session.execute(
        select(SurveyResponse.id, Survey.form)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(SurveyResponse.person_id == person_id)
    ):
        responses.append(response_id)
        written = [q.name for q in Form.from_json(form).questions if q.kind is Kind.TEXT]
        if written:
            await session.execute(
                delete(SurveyAnswer).where(
                    SurveyAnswer.response_id == response_id, SurveyAnswer.question.in_(written)
                )
            )
    if responses:
        await session.execute(
            update(SurveyAnswer)
            .where(SurveyAnswer.response_id.in_(responses))
            .values(answered_at=None)
        )
        await session.execute(
            update(SurveyResponse)
            .where(SurveyResponse.id.in_(responses))
            .values(person_id=None, started_at=None, finished_at=None)
        )
