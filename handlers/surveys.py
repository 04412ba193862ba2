"""Residents answering surveys: one question at a time, buttons where they fit, «back» and
«skip», typed numbers in any digits; and the clock that opens, reminds and closes surveys."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.content import Button, Content, pick
from bot.delivery.outbox import Outgoing
from bot.i18n import format as fmt
from bot.people.models import Person
from bot.surveys import service as surveys
from bot.surveys.form import AnswerError, AnswerProblem, Kind, Question, check_answer, read_answer
from bot.surveys.models import Survey
from bot.surveys.service import Progress, Refusal
from bot.telegram.app import Hamgam
from bot.telegram.filters import NotText, PrivateChat, Typed, Workbook
from bot.telegram.guards import Onboarded
from handlers.forms import show_answer
from handlers.locale import current_language, in_each_language

router = Router(name="surveys")
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())


class SurveyButton(CallbackData, prefix="sv"):
    action: str  # go, opt, tog, done, skip, back, next
    survey: int
    question: int = -1  # the question's place in the form
    value: int = 0


class Answering(StatesGroup):
    survey = State()


def title(survey: Survey, language: str) -> str:
    return pick(surveys.form_of(survey).title, language)


def invitation(survey: Survey, reminder: bool = False) -> Content:
    """The invitation (or the reminder) with its «start» button, in each language."""

    def text(language: str) -> str:
        form = surveys.form_of(survey)
        assert survey.closes_at is not None
        lines = [
            (
                _("⏰ A reminder: you started the survey <b>{title}</b>; it closes {closes}.")
                if reminder
                else _("📋 A new survey: <b>{title}</b>")
            ).format(
                title=escape(pick(form.title, language)),
                closes=fmt.moment(survey.closes_at, language),
            ),
            ngettext(
                "{count} question · open until {closes}",
                "{count} questions · open until {closes}",
                len(form.answerable),
            ).format(
                count=fmt.number(len(form.answerable), language),
                closes=fmt.moment(survey.closes_at, language),
            ),
        ]
        if survey.anonymous:
            lines.append(_("🔒 Anonymous: your answers are not linked to you."))
        return "\n".join(lines)

    label = in_each_language(lambda _language: _("▶️ Continue") if reminder else _("▶️ Start"))
    return Content(
        text=in_each_language(text),
        buttons=[[Button(label, SurveyButton(action="go", survey=survey.id).pack())]],
    )


REFUSALS = {
    Refusal.NOT_FOUND: lambda: _("This survey does not exist."),
    Refusal.NOT_OPEN: lambda: _("This survey is not open yet."),
    Refusal.CLOSED: lambda: _("This survey has closed. Thank you for your interest!"),
    Refusal.FINISHED: lambda: _("You have already answered this survey. Thank you!"),
    Refusal.NOT_INVITED: lambda: _("This survey is not open to you."),
}


def instructions(question: Question, language: str) -> str:
    """What to do to answer, with the limits a typed answer must keep."""
    if question.kind is Kind.MULTIPLE:
        return _("Choose one or more, then press «Done».")
    if question.kind in (Kind.SINGLE, Kind.YES_NO, Kind.SCALE):
        return _("Choose one.")
    if question.kind is Kind.NUMBER:
        low, high = question.minimum, question.maximum
        if low is not None and high is not None:
            return _("Type a number from {low} to {high}.").format(
                low=fmt.number(low, language), high=fmt.number(high, language)
            )
        return _("Type a number.")
    if question.kind is Kind.TEXT:
        assert question.max_length is not None
        return _("Type your answer (up to {limit} characters).").format(
            limit=fmt.number(question.max_length, language)
        )
    return ""


def question_text(progress: Progress, language: str) -> str:
    question = progress.question
    assert question is not None
    n, total = progress.position
    lines = [
        _("📋 <b>{title}</b> · {n} of {total}").format(
            title=escape(pick(progress.form.title, language)),
            n=fmt.number(n, language),
            total=fmt.number(total, language),
        ),
        "",
        "<b>" + escape(pick(question.label, language)) + "</b>",
    ]
    if question.hint:
        lines.append("<i>" + escape(pick(question.hint, language)) + "</i>")
    if how := instructions(question, language):
        lines.append(
            how + ("" if question.required or not question.answerable else " " + _("(optional)"))
        )
    return "\n".join(lines)


def _row(buttons: list[tuple[str, SurveyButton]]) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=text, callback_data=data.pack()) for text, data in buttons]


def question_keyboard(
    progress: Progress, picked: frozenset[int] = frozenset()
) -> InlineKeyboardMarkup:
    question = progress.question
    assert question is not None
    language = current_language()
    place = progress.form.questions.index(question)

    def button(action: str, value: int = 0) -> SurveyButton:
        return SurveyButton(action=action, survey=progress.survey_id, question=place, value=value)

    rows: list[list[InlineKeyboardButton]] = []
    if question.kind is Kind.SCALE:
        assert question.minimum is not None and question.maximum is not None
        points = list(range(int(question.minimum), int(question.maximum) + 1))
        per_row = 6 if len(points) > 6 else len(points)
        for start in range(0, len(points), per_row):
            rows.append(
                _row(
                    [
                        (fmt.number(point, language), button("opt", index))
                        for index, point in enumerate(points[start : start + per_row], start)
                    ]
                )
            )
    elif question.kind is Kind.YES_NO:
        rows.append(
            _row(
                [
                    (pick(o.label, language), button("opt", i))
                    for i, o in enumerate(question.options)
                ]
            )
        )
    elif question.kind is Kind.SINGLE:
        rows += [
            _row([(pick(option.label, language)[:60], button("opt", index))])
            for index, option in enumerate(question.options)
        ]
    elif question.kind is Kind.MULTIPLE:
        rows += [
            _row(
                [
                    (
                        ("☑ " if index in picked else "☐ ") + pick(option.label, language)[:58],
                        button("tog", index),
                    )
                ]
            )
            for index, option in enumerate(question.options)
        ]
        rows.append(_row([(_("✔️ Done"), button("done"))]))
    elif question.kind is Kind.NOTE:
        rows.append(_row([(_("Continue ▶️"), button("next"))]))
    navigation = []
    if progress.can_go_back:
        navigation.append((_("« Back"), button("back")))
    if question.answerable and not question.required:
        navigation.append((_("Skip ⏭"), button("skip")))
    if navigation:
        rows.append(_row(navigation))
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _ask(message: Message, progress: Progress, state: FSMContext) -> SendMessage:
    """The current question, or the thanks when there is none left. Handlers return it rather
    than send it: on a webhook it goes back in the response to Telegram, after the answer is
    committed and without a round trip of its own (this is the path every answer takes)."""
    if progress.question is None:
        await state.clear()
        return message.answer(
            _("✅ Thank you! Your answers are saved.")
            + ("\n" + _("They are anonymous.") if progress.anonymous else "")
        )
    await state.set_state(Answering.survey)
    await state.set_data({"survey": progress.survey_id, "picked": []})
    return message.answer(
        question_text(progress, current_language()), reply_markup=question_keyboard(progress)
    )


@router.callback_query(SurveyButton.filter(F.action == "go"))
async def begin(
    query: CallbackQuery,
    callback_data: SurveyButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
) -> SendMessage | None:
    progress = await surveys.start(session, callback_data.survey, person.id)
    if isinstance(progress, Refusal):
        await query.answer(REFUSALS[progress](), show_alert=True)
        return
    await query.answer()
    return await _ask(message, progress, state)


async def _current(
    query: CallbackQuery, callback_data: SurveyButton, session: AsyncSession, person: Person
) -> Progress | None:
    """The progress a button belongs to, or None (and the person told why) when the button
    is from a closed survey or a question already passed."""
    progress = await surveys.current(session, callback_data.survey, person.id)
    if isinstance(progress, Refusal):
        await query.answer(REFUSALS[progress](), show_alert=True)
        return None
    if (
        progress.question is None
        or progress.form.questions.index(progress.question) != callback_data.question
    ):
        await query.answer(_("This question is already behind you."), show_alert=True)
        return None
    return progress


async def _saved(
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    progress: Progress,
    value: object,
) -> SendMessage:
    following = await surveys.save(session, progress, person.id, value)  # type: ignore[arg-type]
    return await _ask(message, following, state)


@router.callback_query(SurveyButton.filter(F.action == "opt"))
async def option_chosen(
    query: CallbackQuery,
    callback_data: SurveyButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
) -> SendMessage | None:
    if (progress := await _current(query, callback_data, session, person)) is None:
        return
    question = progress.question
    assert question is not None
    language = current_language()
    value: object
    if question.kind is Kind.SCALE:
        assert question.minimum is not None and question.maximum is not None
        point = question.minimum + callback_data.value
        valid = callback_data.value >= 0 and point <= question.maximum
        value, chosen = point, fmt.number(point, language)
    else:
        valid = question.kind in (Kind.SINGLE, Kind.YES_NO) and 0 <= callback_data.value < len(
            question.options
        )
        option = question.options[callback_data.value] if valid else None
        value = option.name if option else None
        chosen = pick(option.label, language) if option else ""
    if not valid:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    if not await _acceptable(query, question, progress, value):
        return
    await query.answer()
    await show_answer(message, "✓ " + escape(chosen))
    return await _saved(message, session, person, state, progress, value)


async def _acceptable(
    query: CallbackQuery, question: Question, progress: Progress, value: object
) -> bool:
    try:
        check_answer(question, value, progress.answers)  # type: ignore[arg-type]
    except AnswerError as error:
        await query.answer(_problem(question, error), show_alert=True)
        return False
    return True


@router.callback_query(SurveyButton.filter(F.action == "tog"))
async def toggle(
    query: CallbackQuery,
    callback_data: SurveyButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
) -> None:
    if (progress := await _current(query, callback_data, session, person)) is None:
        return
    question = progress.question
    assert question is not None
    if question.kind is not Kind.MULTIPLE or not 0 <= callback_data.value < len(question.choices):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    picked = frozenset((await state.get_data()).get("picked", [])) ^ {callback_data.value}
    await state.set_state(Answering.survey)
    await state.set_data({"survey": progress.survey_id, "picked": sorted(picked)})
    await query.answer()
    await message.edit_reply_markup(reply_markup=question_keyboard(progress, picked))


@router.callback_query(SurveyButton.filter(F.action == "done"))
async def toggles_done(
    query: CallbackQuery,
    callback_data: SurveyButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
) -> SendMessage | None:
    if (progress := await _current(query, callback_data, session, person)) is None:
        return
    question = progress.question
    assert question is not None
    if question.kind is not Kind.MULTIPLE:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    picked = [i for i in (await state.get_data()).get("picked", []) if i < len(question.choices)]
    if not picked:
        await query.answer(
            _("Choose at least one.") if question.required else _("Choose at least one, or skip."),
            show_alert=True,
        )
        return
    value = tuple(question.choices[i].name for i in sorted(picked))
    if not await _acceptable(query, question, progress, value):
        return
    await query.answer()
    language = current_language()
    chosen = [pick(question.choices[i].label, language) for i in sorted(picked)]
    await show_answer(message, "✓ " + escape(fmt.listing(chosen, language)))
    return await _saved(message, session, person, state, progress, value)


@router.callback_query(SurveyButton.filter(F.action.in_({"skip", "next"})))
async def skip(
    query: CallbackQuery,
    callback_data: SurveyButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
) -> SendMessage | None:
    if (progress := await _current(query, callback_data, session, person)) is None:
        return
    question = progress.question
    assert question is not None
    if question.required or (callback_data.action == "next") == question.answerable:
        await query.answer(_("This question needs an answer."), show_alert=True)
        return
    await query.answer()
    if question.answerable:
        await show_answer(message, _("⏭ Skipped"))
    else:  # a note, read
        await message.edit_reply_markup(reply_markup=None)
    return await _saved(message, session, person, state, progress, None)


@router.callback_query(SurveyButton.filter(F.action == "back"))
async def go_back(
    query: CallbackQuery,
    callback_data: SurveyButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
) -> SendMessage | None:
    if (progress := await _current(query, callback_data, session, person)) is None:
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    return await _ask(message, await surveys.back(session, progress), state)


def _problem(question: Question, error: AnswerError) -> str:
    language = current_language()
    if error.problem is AnswerProblem.CONSTRAINT and question.constraint_message:
        return pick(question.constraint_message, language)
    if error.problem is AnswerProblem.NOT_A_CHOICE and question.kind is Kind.MULTIPLE:
        return _("Please choose with the buttons, then press «Done».")
    texts = {
        AnswerProblem.EMPTY: lambda: _("Please answer with text."),
        AnswerProblem.TOO_LONG: lambda: _(
            "That is a little long; please keep it under {limit} characters."
        ).format(limit=fmt.number(error.params.get("max_length", 0), language)),
        AnswerProblem.NOT_A_NUMBER: lambda: (
            _("Please answer with a number from {low} to {high}.").format(
                low=fmt.number(question.minimum, language),
                high=fmt.number(question.maximum, language),
            )
            if question.minimum is not None and question.maximum is not None
            else _("Please answer with a number, for example 12.")
        ),
        AnswerProblem.NOT_AN_INTEGER: lambda: _("Please answer with a whole number."),
        AnswerProblem.TOO_SMALL: lambda: _("The smallest answer is {low}.").format(
            low=fmt.number(Decimal(error.params["minimum"]), language)
        ),
        AnswerProblem.TOO_BIG: lambda: _("The largest answer is {high}.").format(
            high=fmt.number(Decimal(error.params["maximum"]), language)
        ),
        AnswerProblem.NOT_A_CHOICE: lambda: _("Please choose one of the buttons."),
        AnswerProblem.CONSTRAINT: lambda: _("That answer is not possible here; please check it."),
    }
    return texts[error.problem]()


@router.message(StateFilter(Answering.survey), Typed())
async def typed(
    message: Message, session: AsyncSession, person: Person, state: FSMContext
) -> SendMessage | None:
    progress = await surveys.current(session, (await state.get_data()).get("survey", 0), person.id)
    if isinstance(progress, Refusal):
        await state.clear()
        await message.answer(REFUSALS[progress]())
        return
    question = progress.question
    if question is None:
        return await _ask(message, progress, state)
    if not question.answerable:
        await message.answer(_("Press «Continue ▶️» to go on."))
        return
    try:
        value = read_answer(question, message.text or "", progress.answers)
    except AnswerError as error:
        await message.answer(_problem(question, error))
        return
    return await _saved(message, session, person, state, progress, value)


@router.message(StateFilter(Answering.survey), NotText(), ~Workbook())
async def not_text(message: Message) -> None:
    await message.answer(_("Please answer with text."))


@router.message(Command("surveys"))
async def my_surveys(message: Message, session: AsyncSession, person: Person) -> None:
    language = current_language()
    mine = await surveys.open_for(session, person.id)
    if not mine:
        await message.answer(_("There is no open survey for you right now."))
        return
    lines = [_("<b>Open surveys</b>")]
    rows = []
    for survey, started in mine:
        assert survey.closes_at is not None
        lines.append(
            "• "
            + _("{title} · until {closes}").format(
                title=escape(title(survey, language)),
                closes=fmt.moment(survey.closes_at, language),
            )
        )
        label = _("▶️ Continue: {title}") if started else _("▶️ Start: {title}")
        rows.append(
            [
                InlineKeyboardButton(
                    text=label.format(title=title(survey, language))[:60],
                    callback_data=SurveyButton(action="go", survey=survey.id).pack(),
                )
            ]
        )
    await message.answer("\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


class SurveyClock:
    """Opens scheduled surveys (invitations), sends the one reminder, closes them."""

    def __init__(self, hamgam: Hamgam) -> None:
        self.hamgam = hamgam

    async def run(self) -> None:
        with self.hamgam.i18n.context():
            async with transaction(self.hamgam.sessions) as session:
                now = clock.now()
                rows = [
                    self._row(
                        fanout.survey,
                        invitee,
                        "invite",
                        surveys.invitation_batch(fanout.survey.id),
                        content,
                    )
                    for fanout in await surveys.open_due(session, now)
                    for content in [invitation(fanout.survey)]
                    for invitee in fanout.people
                ]
                rows += [
                    self._row(fanout.survey, invitee, "remind", fanout.survey.batch, content)
                    for fanout in await surveys.reminders_due(session, now)
                    for content in [invitation(fanout.survey, reminder=True)]
                    for invitee in fanout.people
                ]
                await surveys.close_due(session, now)
                await outbox.enqueue(session, rows)
            if rows:
                self.hamgam.sender.wake()

    @staticmethod
    def _row(
        survey: Survey, invitee: surveys.Invitee, kind: str, batch: str, content: Content
    ) -> Outgoing:
        return Outgoing(
            f"survey:{survey.id}:{invitee.person_id}:{kind}",
            invitee.telegram_id,
            content,
            person_id=invitee.person_id,
            batch=batch,
            expires_at=survey.closes_at,
        )
