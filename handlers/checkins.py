"""Members answering check-ins, and the clock that starts, reminds and closes rounds."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from html import escape
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from persiantools.jdatetime import JalaliDate
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.checkins import service as checkins
from bot.checkins.models import CheckinRound, Participation, RoundStatus
from bot.checkins.questions import (
    SCALE_TOP,
    AnswerError,
    AnswerProblem,
    Kind,
    Question,
    read_answer,
)
from bot.checkins.schedule import Schedule
from bot.checkins.service import AwayError, AwayProblem, Pending, Refusal, RoundSummary
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.content import Button, Content, pick, render
from bot.delivery.outbox import Outgoing
from bot.i18n import format as fmt
from bot.i18n.normalize import MomentError, parse_day, parse_decimal
from bot.people.audience import reachable
from bot.people.models import Person, PersonRole, Role
from bot.telegram.app import Hamgam
from bot.telegram.filters import PrivateChat, Typed
from bot.telegram.guards import Onboarded
from handlers.forms import keyboard, show_answer
from handlers.locale import current_language, in_each_language, number

router = Router(name="checkins")
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())


class CheckinButton(CallbackData, prefix="chk"):
    # opt (an option of a question), skip (no update this time), away (until I say I'm back),
    # for (away for `value` days), until (away until a day typed), back, redo
    action: str
    round_id: int = 0
    question: int = 0
    value: int = 0


class AwayUntil(StatesGroup):
    day = State()


AWAY_FOR_DAYS = (7, 14)


def question_text(pending: Pending, language: str) -> str:
    questions = checkins.questions_of(pending.round)
    return (
        _("📋 Check-in of <b>{group}</b> · question {n} of {total}").format(
            group=escape(pending.group.name(language)),
            n=fmt.number(pending.index + 1, language),
            total=fmt.number(len(questions), language),
        )
        + "\n"
        + escape(pick(questions[pending.index].text, language))
    )


def prompt(pending: Pending) -> Content:
    """A question as the outbox sends it and as a direct reply shows it: the text, the options
    of a choice or scale question, and «no update» / «I'm away»."""
    question = checkins.questions_of(pending.round)[pending.index]
    options: list[dict[str, str]] = (
        list(question.choices)
        if question.kind is Kind.CHOICE
        else [
            in_each_language(lambda language, n=n: fmt.number(n, language))
            for n in range(1, SCALE_TOP + 1)
        ]
        if question.kind is Kind.SCALE
        else []
    )
    rows = (
        [
            [
                Button(
                    label,
                    CheckinButton(
                        action="opt", round_id=pending.round.id, question=pending.index, value=index
                    ).pack(),
                )
                for index, label in enumerate(options)
            ]
        ]
        if options
        else []
    )
    # «No update» means nothing to report: once a member has answered a question, it is no
    # longer theirs to say (Participation's meanings).
    rows.append(
        (
            [
                Button(
                    in_each_language(lambda _language: _("No update this time")),
                    CheckinButton(action="skip", round_id=pending.round.id).pack(),
                )
            ]
            if pending.index == 0
            else []
        )
        + [
            Button(
                in_each_language(lambda _language: _("I'm away")),
                CheckinButton(action="away", round_id=pending.round.id).pack(),
            ),
        ]
    )
    return Content(
        text=in_each_language(lambda language: question_text(pending, language)), buttons=rows
    )


async def _ask(message: Message, pending: Pending) -> None:
    rendered = render(prompt(pending), current_language())
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=data) for label, data, _url in row]
            for row in rendered.buttons
        ]
    )
    await message.answer(rendered.text, reply_markup=keyboard)


async def _waiting_for_answer(
    message: Message, session: AsyncSession, person: Person | None, raw_state: str | None
) -> bool | dict[str, Pending]:
    if person is None or raw_state is not None:
        return False
    pending = await checkins.pending_for(session, person.id)
    return {"pending": pending} if pending else False


def _no_longer_a_member(pending: Pending) -> str:
    return _(
        "You are no longer a member of «{group}», so its check-in is no longer yours to answer."
    ).format(group=escape(pending.group.name(current_language())))


@router.message(Typed(), _waiting_for_answer)
async def answer(message: Message, session: AsyncSession, person: Person, pending: Pending) -> None:
    if not pending.member:
        await message.answer(_no_longer_a_member(pending))
        return
    question = checkins.questions_of(pending.round)[pending.index]
    try:
        value = read_answer(question, message.text or "")
    except AnswerError as error:
        await message.answer(
            {
                AnswerProblem.EMPTY: _("Please answer with text."),
                AnswerProblem.TOO_LONG: _(
                    "That is a little long; please keep it under {limit} characters."
                ).format(limit=number(2000)),
                AnswerProblem.NOT_A_NUMBER: _("Please answer with a number, for example 12."),
                AnswerProblem.NOT_A_CHOICE: _("Please choose one of the buttons."),
            }[error.problem]
        )
        return
    await _saved(message, session, person, pending, value)


@router.callback_query(CheckinButton.filter(F.action == "opt"))
async def option_chosen(
    query: CallbackQuery,
    callback_data: CheckinButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
) -> None:
    pending = await checkins.pending_for(session, person.id)
    if pending is None and checkins.is_away(person, clock.now()):
        await query.answer()
        await _show_away(message, person, hamgam)
        return
    if pending is None or pending.round.id != callback_data.round_id:
        await query.answer(_("This check-in round has closed."), show_alert=True)
        return
    if not pending.member:
        await query.answer(_no_longer_a_member(pending), show_alert=True)
        return
    question = checkins.questions_of(pending.round)[pending.index]
    options = len(question.choices) if question.kind is Kind.CHOICE else SCALE_TOP
    if (
        callback_data.question != pending.index
        or question.kind not in (Kind.CHOICE, Kind.SCALE)
        or not 0 <= callback_data.value < options
    ):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    value = (
        str(callback_data.value + 1) if question.kind is Kind.SCALE else str(callback_data.value)
    )
    await show_answer(message, "✓ " + escape(shown(question, value, current_language())))
    await _saved(message, session, person, pending, value)


async def _saved(
    message: Message, session: AsyncSession, person: Person, pending: Pending, value: str
) -> None:
    following = await checkins.save_answer(session, pending, person.id, value)
    if following is None:
        await message.answer(_("✅ Thank you! Your answers are saved."))
        return
    await _ask(message, Pending(pending.round, pending.checkin, pending.group, following))


@router.callback_query(CheckinButton.filter(F.action == "skip"))
async def no_update(
    query: CallbackQuery,
    callback_data: CheckinButton,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    refused = await checkins.no_update(session, callback_data.round_id, person.id)
    if refused is Refusal.CLOSED:
        await query.answer(_("This check-in round has closed."), show_alert=True)
        return
    if refused is Refusal.BEGUN:
        await query.answer(
            _(
                "You have already begun answering this round: please answer the remaining"
                " questions."
            ),
            show_alert=True,
        )
        return
    await query.answer()
    await show_answer(message, "✓ " + escape(_("No update this time")))
    await message.answer(_("Noted: no update this time. Thank you!"))


@router.callback_query(CheckinButton.filter(F.action == "away"))
async def away(
    query: CallbackQuery,
    callback_data: CheckinButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
    state: FSMContext,
) -> None:
    """«I'm away» under a question (that round is skipped too, and an end already chosen
    stays) or «until I say I'm back» on the away card."""
    await _no_day_awaited(state)
    question = bool(callback_data.round_id)
    keeps = person.away_until if question and checkins.is_away(person, clock.now()) else None
    await checkins.away(session, person, keeps, callback_data.round_id or None)
    await query.answer()
    if question:
        await show_answer(message, "✓ " + escape(_("I'm away")))
    await _show_away(message, person, hamgam, in_place=not question)


@router.callback_query(CheckinButton.filter(F.action == "for"))
async def away_for(
    query: CallbackQuery,
    callback_data: CheckinButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
    state: FSMContext,
) -> None:
    if callback_data.value not in AWAY_FOR_DAYS:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await _no_day_awaited(state)
    now, tz = clock.now(), hamgam.settings.tz
    back_on = now.astimezone(tz).date() + timedelta(days=callback_data.value)
    await checkins.away(session, person, checkins.away_ends(back_on, tz, now))
    await query.answer()
    await _show_away(message, person, hamgam, in_place=True)


@router.callback_query(CheckinButton.filter(F.action == "until"))
async def ask_away_until(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(AwayUntil.day)
    await message.answer(
        _("On which day will you be back? Type the date, for example {example}.").format(
            example=_date_example(current_language())
        )
    )


@router.message(StateFilter(AwayUntil.day), Typed())
async def away_until_typed(
    message: Message, state: FSMContext, session: AsyncSession, person: Person, hamgam: Hamgam
) -> None:
    language = current_language()
    try:
        ends = checkins.away_ends(
            parse_day((message.text or "")[:40]), hamgam.settings.tz, clock.now()
        )
    except MomentError as error:
        await message.answer(
            _("There is no such day in the calendar.")
            if error.impossible
            else _("Please type the date like {example}.").format(example=_date_example(language))
        )
        return
    except AwayError as error:
        await message.answer(
            _("Please type a day after today.")
            if error.problem is AwayProblem.NOT_AFTER_TODAY
            else _("Please type a day within a year from now.")
        )
        return
    await state.clear()
    await checkins.away(session, person, ends)
    await _show_away(message, person, hamgam)


@router.callback_query(CheckinButton.filter(F.action == "back"))
async def back(query: CallbackQuery, message: Message, person: Person, state: FSMContext) -> None:
    await _no_day_awaited(state)
    was_away = checkins.is_away(person, clock.now())
    checkins.back(person)
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await message.answer(
        _("Welcome back! The next check-in will reach you.") if was_away else _("You are not away.")
    )


async def _no_day_awaited(state: FSMContext) -> None:
    """A button that settles the away period ends the wait for a typed day, which would
    otherwise take the person's next words as one."""
    if await state.get_state() == AwayUntil.day.state:
        await state.clear()


@router.message(Command("away"))
async def away_card(message: Message, person: Person, hamgam: Hamgam) -> None:
    await _show_away(message, person, hamgam)


async def _show_away(
    message: Message, person: Person, hamgam: Hamgam, in_place: bool = False
) -> None:
    """Whether the person is away and until when, with the way back (or the way out)."""
    show = message.edit_text if in_place else message.answer
    text = away_status(person, hamgam.settings.tz)
    away_now = checkins.is_away(person, clock.now())
    if away_now and person.away_until is None:
        text += "\n" + _(
            "Back on a day you know? Choose it, and check-ins start again by themselves then."
        )
    await show(text, reply_markup=away_keyboard(away_now))


def away_status(person: Person, tz: ZoneInfo) -> str:
    if not checkins.is_away(person, clock.now()):
        return _(
            "Going away for a while? Until you are back no check-in reaches you, and summaries"
            " show you as away rather than as not answering."
        )
    if person.away_until is None:
        return _("You are away: no check-ins reach you until you press «I'm back».")
    return _("You are away until {day}; check-ins reach you again from that day.").format(
        day=fmt.day(person.away_until, current_language(), tz)
    )


def away_keyboard(away_now: bool) -> InlineKeyboardMarkup:
    """How long to be away, and the way back (or «until I say I'm back» when not away yet)."""
    return keyboard(
        [
            [
                (label, CheckinButton(action="for", value=days))
                for days, label in zip(
                    AWAY_FOR_DAYS, (_("For a week"), _("For two weeks")), strict=True
                )
            ],
            [(_("Until a day I type"), CheckinButton(action="until"))],
            [
                (_("I'm back"), CheckinButton(action="back"))
                if away_now
                else (_("Until I say I'm back"), CheckinButton(action="away"))
            ],
        ]
    )


def _date_example(language: str) -> str:
    """A date two weeks ahead, written as the person would: Jalali in Persian."""
    ahead = clock.now().date() + timedelta(days=14)
    if language == "fa":
        return fmt.localize_digits(JalaliDate(ahead).strftime("%Y/%m/%d"), "fa")
    return ahead.isoformat()


class CheckinClock:
    """Starts due rounds, sends reminders, closes rounds and posts their summaries; all it
    knows is read from the database, so a restart picks up exactly where things stand."""

    def __init__(self, hamgam: Hamgam) -> None:
        self.hamgam = hamgam

    async def run(self) -> None:
        with self.hamgam.i18n.context():
            async with transaction(self.hamgam.sessions) as session:
                now = clock.now()
                await checkins.return_from_away(session, now)
                rows = [
                    row
                    for started in await checkins.start_due_rounds(session, now)
                    for row in self._prompts(started)
                ]
                rows += [self._reminder(r) for r in await checkins.due_reminders(session, now)]
                for summary in await checkins.close_due_rounds(session, now):
                    rows += await self._summaries(session, summary)
                await outbox.enqueue(session, rows)
            if rows:
                self.hamgam.sender.wake()

    def _prompts(self, started: checkins.StartedRound) -> list[Outgoing]:
        pending = Pending(started.round, started.checkin, started.group, 0)
        content = prompt(pending)
        return [
            Outgoing(
                f"checkin:{started.round.id}:{r.person_id}:ask",
                r.telegram_id,
                content,
                person_id=r.person_id,
                batch=f"checkin:{started.round.id}",
            )
            for r in started.recipients
        ]

    def _reminder(self, reminder: checkins.Reminder) -> Outgoing:
        closes = reminder.round.closes_at
        tz = Schedule.from_json(reminder.checkin.schedule).tz  # the check-in's own zone

        def render(language: str) -> str:
            return _(
                "⏰ A reminder: the check-in of <b>{group}</b> waits for your answers until"
                " {closes}. Just answer the last question above."
            ).format(
                group=escape(reminder.group.name(language)),
                closes=fmt.moment(closes, language, tz),
            )

        return Outgoing(
            f"checkin:{reminder.round.id}:{reminder.recipient.person_id}:remind{reminder.number}",
            reminder.recipient.telegram_id,
            Content(text=in_each_language(render)),
            person_id=reminder.recipient.person_id,
            batch=f"checkin:{reminder.round.id}",
            expires_at=closes,  # a reminder for a closed round would mislead
        )

    async def _summaries(self, session: AsyncSession, summary: RoundSummary) -> list[Outgoing]:
        content = summary_content(summary)
        targets = checkins.summary_targets(summary.checkin, summary.group)
        rows = []
        batch = f"checkin:{summary.round.id}:summary"
        if targets["chat"] is not None:
            rows.append(
                Outgoing(f"{batch}:chat", targets["chat"], content, language="both", batch=batch)
            )
        if targets["staff"]:
            staff = await session.execute(
                select(Person.id, Person.telegram_id)
                .join(PersonRole, PersonRole.person_id == Person.id)
                .where(PersonRole.role == Role.STAFF, reachable())
            )
            rows += [
                Outgoing(
                    f"{batch}:{person_id}", telegram_id, content, person_id=person_id, batch=batch
                )
                for person_id, telegram_id in staff
            ]
        return rows


def summary_content(summary: RoundSummary) -> Content:
    return Content(text=in_each_language(lambda language: summary_text(summary, language)))


async def compose_summaries_again(session: AsyncSession, round_ids: list[int]) -> None:
    """The stored summaries of these rounds, composed again from the database: after /forget
    they then neither name nor quote the person (a summary is derived, so this is exact)."""
    for round_id in round_ids:
        round_ = await session.get(CheckinRound, round_id)
        if round_ is not None:
            summary = await checkins.summarize(session, round_)
            await outbox.recompose(session, f"checkin:{round_id}:summary", summary_content(summary))


def listed(names: list[str], language: str) -> str:
    return escape(fmt.listing(names, language))


def member_labels(summary: RoundSummary, language: str) -> dict[int, str]:
    """Each member's name, told apart from others of the same name by their @username (when
    theirs alone) or else by their place among them: «Ali (@ali_t)», «Ali (2)»."""
    bases = {
        person_id: member.name or _("(deleted)") for person_id, member in summary.members.items()
    }
    namesakes: dict[str, list[int]] = {}
    for person_id in sorted(bases):
        namesakes.setdefault(bases[person_id], []).append(person_id)
    labels = {}
    for base, ids in namesakes.items():
        usernames = Counter(summary.members[person_id].username for person_id in ids)
        for place, person_id in enumerate(ids, 1):
            username = summary.members[person_id].username
            if len(ids) == 1:
                labels[person_id] = base
            elif username and usernames[username] == 1:
                labels[person_id] = f"{base} (@{username})"
            else:
                labels[person_id] = f"{base} ({fmt.number(place, language)})"
    return labels


def summary_text(summary: RoundSummary, language: str) -> str:
    tz = Schedule.from_json(summary.checkin.schedule).tz
    responded, total = summary.tally
    away = summary.people(Participation.AWAY)
    tally = (
        _("{responded} of {total} answered ({rate}).").format(
            responded=fmt.number(responded, language),
            total=fmt.number(total, language),
            rate=fmt.percent(summary.rate, language),
        )
        if total
        else _("No one was expected to answer this round: everyone was away.")
        if away
        else _("No one was asked this round.")
    )
    lines = [
        _("📋 <b>Check-in of {group}</b> · {day}").format(
            group=escape(summary.group.name(language)),
            day=fmt.day(summary.round.due_at, language, tz),
        ),
        tally
        + (
            " "
            + _("In the previous round, {rate} answered.").format(
                rate=fmt.percent(summary.previous_rate, language)
            )
            if summary.previous_rate is not None
            else ""
        ),
    ]
    who = member_labels(summary, language)
    if silent := summary.people(Participation.MISSED):
        names = listed([who[person_id] for person_id in silent], language)
        lines.append(_("Did not answer: {names}").format(names=names))
    if nothing := summary.people(Participation.NO_UPDATE):
        names = listed([who[person_id] for person_id in nothing], language)
        lines.append(_("No update this time: {names}").format(names=names))
    if away:
        names = listed([who[person_id] for person_id in away], language)
        lines.append(_("Away: {names}").format(names=names))
    for question, answers in zip(
        checkins.questions_of(summary.round), summary.answers, strict=True
    ):
        if answers:
            lines.append("\n<b>" + escape(pick(question.text, language)) + "</b>")
            lines += [
                f"• {escape(who.get(person_id, '—'))}: {escape(shown(question, value, language))}"
                for person_id, value in answers
            ]
    return "\n".join(lines)


@router.message(Command("mycheckins"))
async def my_checkins(
    message: Message, session: AsyncSession, person: Person, hamgam: Hamgam
) -> None:
    language = current_language()
    mine = await checkins.rounds_of(session, person.id)
    away_now = checkins.is_away(person, clock.now())
    if not mine and not away_now:
        await message.answer(_("You have no check-ins yet."))
        return
    lines = []
    for item in mine:
        head = f"<b>{escape(item.group.name(language))}</b> · " + fmt.day(
            item.round.due_at, language, hamgam.settings.tz
        )
        if item.round.status == RoundStatus.OPEN:
            head += " · " + _("open until {moment}").format(
                moment=fmt.moment(item.round.closes_at, language, hamgam.settings.tz)
            )
        lines.append("\n" + head)
        for index, question in enumerate(item.questions):
            if index in item.answers:
                answer = shown(question, item.answers[index], language)
                lines.append(f"• {escape(pick(question.text, language))} {escape(answer)}")
        if not item.answers:
            lines.append(
                "• "
                + {
                    Participation.NO_UPDATE: _("no update"),
                    Participation.AWAY: _("away"),
                    Participation.MISSED: _("not answered"),
                }.get(Participation(item.status), _("waiting for your answers"))
            )
    if away_now:
        lines.append("\n" + away_status(person, hamgam.settings.tz))
    builder = InlineKeyboardBuilder()
    for item in mine:
        if item.round.status == RoundStatus.OPEN and item.status in (
            Participation.ANSWERED,
            Participation.NO_UPDATE,
        ):
            builder.button(
                text=_("✏️ Change my answers: {group}").format(group=item.group.name(language)),
                callback_data=CheckinButton(action="redo", round_id=item.round.id),
            )
    if away_now:
        builder.button(text=_("I'm back"), callback_data=CheckinButton(action="back"))
    builder.adjust(1)
    await message.answer("\n".join(lines).strip(), reply_markup=builder.as_markup())
    pending = await checkins.pending_for(session, person.id)
    if pending is not None and pending.member:
        await _ask(message, pending)


@router.callback_query(CheckinButton.filter(F.action == "redo"))
async def change_answers(
    query: CallbackQuery,
    callback_data: CheckinButton,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    if not await checkins.start_over(session, callback_data.round_id, person.id):
        await query.answer(_("This check-in round has closed."), show_alert=True)
        return
    await query.answer()
    pending = await checkins.pending_for(session, person.id)
    if pending is not None and pending.member:
        await _ask(message, pending)


def shown(question: Question, value: str, language: str) -> str:
    """A stored answer as a reader sees it: a choice by its label, numbers in their digits."""
    if question.kind is Kind.CHOICE and value.isdigit() and int(value) < len(question.choices):
        return pick(question.choices[int(value)], language)
    if question.kind in (Kind.NUMBER, Kind.SCALE, Kind.INDICATOR):
        number = parse_decimal(value)  # stored in ASCII digits
        return fmt.number(number, language) if number is not None else value
    return value
