"""Staff making surveys: written in the bot step by step, taken from the readiness template, or
imported from an XLSForm file; then audience, opening and closing, anonymity, a preview in both
languages, publishing. /results shows what residents answered, with charts."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import charts, clock
from bot.background.models import JobKind
from bot.background.service import Job
from bot.background.work import Work
from bot.delivery.content import Button, Content, Media, in_albums, pick
from bot.groups import service as groups
from bot.i18n import LANGUAGES, N_
from bot.i18n import format as fmt
from bot.i18n.normalize import (
    MomentError,
    is_skip,
    normalize_text,
    parse_decimal,
    parse_moment,
    read_bilingual_lines,
)
from bot.people import audience as audiences
from bot.people.audience import Audience
from bot.people.models import Person, Role
from bot.surveys import service as surveys
from bot.surveys.form import Choice, Form, Kind, Question
from bot.surveys.models import Survey, SurveyStatus
from bot.surveys.service import PublishProblem
from bot.surveys.templates import READINESS
from bot.surveys.xlsform import MAX_FILE_BYTES, Problem, XLSFormError, read_xlsform_isolated
from bot.telegram.app import Hamgam
from bot.telegram.filters import PrivateChat, Typed, Workbook
from bot.telegram.guards import Onboarded, RequireRole
from handlers import audience as audience_picker
from handlers.forms import keyboard, too_long
from handlers.locale import current_language, in_language, number
from handlers.surveys import instructions

router = Router(name="surveys.staff")
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())
router.message.middleware(RequireRole(Role.STAFF))
router.callback_query.middleware(RequireRole(Role.STAFF))

LABEL_MAX = 300
CHOICE_MAX = 60
MAX_CHOICES = 10
MAX_QUESTIONS = 30
TEXTS_SHOWN = 15
MESSAGE_MAX = 3900  # Telegram takes 4,096 characters

KINDS = {
    "single": (N_("One choice"), Kind.SINGLE, None),
    "multiple": (N_("Several choices"), Kind.MULTIPLE, None),
    "scale5": (N_("Scale 1–5"), Kind.SCALE, 5),
    "scale10": (N_("Scale 1–10"), Kind.SCALE, 10),
    "number": (N_("A number"), Kind.NUMBER, None),
    "text": (N_("Free text"), Kind.TEXT, None),
    "yes_no": (N_("Yes or no"), Kind.YES_NO, None),
}
KIND_NAMES = {
    Kind.SINGLE: N_("one choice"),
    Kind.MULTIPLE: N_("several choices"),
    Kind.SCALE: N_("scale"),
    Kind.NUMBER: N_("number"),
    Kind.TEXT: N_("free text"),
    Kind.YES_NO: N_("yes or no"),
    Kind.NOTE: N_("note"),
}
CLOSE_AFTER_DAYS = (1, 3, 7, 14)
TEXT_LIMITS = (200, 1000)


class SurveyForm(StatesGroup):
    file = State()
    title_fa = State()
    title_en = State()
    label_fa = State()
    label_en = State()
    choices = State()
    bounds = State()
    opens = State()
    closes = State()


class SurveyAdmin(CallbackData, prefix="sva"):
    action: str
    value: str = ""


def _keyboard(rows: list[list[tuple[str, str, str]]]) -> InlineKeyboardMarkup:
    """Rows of (label, action, value)."""
    return keyboard(
        [
            [(text, SurveyAdmin(action=action, value=value)) for text, action, value in row]
            for row in rows
        ]
    )


@router.message(Command("newsurvey"))
async def new_survey(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(
        _("How would you like to make the survey?"),
        reply_markup=_keyboard(
            [
                [(_("✍️ Write it here, question by question"), "write", "")],
                [(_("📋 The readiness assessment (ready-made)"), "template", "")],
                [(_("📎 Send an XLSForm file"), "file", "")],
            ]
        ),
    )


# From a template or a file


@router.callback_query(SurveyAdmin.filter(F.action == "template"))
async def from_template(
    query: CallbackQuery, message: Message, state: FSMContext, session: AsyncSession, person: Person
) -> None:
    await query.answer()
    draft = await surveys.create_draft(session, READINESS, "template", person.id)
    await _drafted(message, state, draft)


@router.callback_query(SurveyAdmin.filter(F.action == "file"))
async def ask_file(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(SurveyForm.file)
    await message.answer(
        _(
            "Send the XLSForm file (.xlsx) as a document: a «survey» sheet and a «choices» sheet,"
            " with «label::Persian (fa)» and «label::English (en)» columns, as in KoBoToolbox"
            " and ODK."
        )
    )


# A workbook is unmistakably a survey: taken in any step (an announcement's attachment is
# handled earlier, by its own router).
@router.message(Workbook())
async def file_received(
    message: Message, state: FSMContext, session: AsyncSession, person: Person, bot: Bot
) -> None:
    document = message.document
    assert document is not None
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await message.answer(_("The file is too large; an XLSForm is usually well under 2 MB."))
        return
    content = io.BytesIO()
    await bot.download(document, destination=content)
    try:
        form = await read_xlsform_isolated(content.getvalue())
    except XLSFormError as error:
        await message.answer(xlsform_problem(error))
        return
    draft = await surveys.create_draft(session, form, "xlsform", person.id)
    await _drafted(message, state, draft)


@router.message(StateFilter(SurveyForm.file))
async def not_a_file(message: Message) -> None:
    await message.answer(_("Please send the survey as an .xlsx file, or /cancel to stop."))


PROBLEMS = {
    Problem.NOT_A_WORKBOOK: N_("this is not an Excel workbook (.xlsx)"),
    Problem.MISSING_SHEET: N_("the sheet «{sheet}» is missing"),
    Problem.MISSING_COLUMN: N_("a required column is missing"),
    Problem.MISSING_VALUE: N_("a required value is empty"),
    Problem.UNSUPPORTED_TYPE: N_("the question type «{type}» is not supported"),
    Problem.UNSUPPORTED_COLUMN: N_("this column is not supported"),
    Problem.UNKNOWN_LIST: N_("there is no choice list «{list}» in the choices sheet"),
    Problem.BAD_VALUE: N_("the value «{value}» cannot be read here"),
    Problem.NO_QUESTIONS: N_("the form has no question to answer"),
    Problem.BAD_NAME: N_("names must be short Latin letters, digits and _ (without spaces)"),
    Problem.DUPLICATE_NAME: N_("the name «{name}» is used twice"),
    Problem.MISSING_LABEL: N_("a label in Persian or English is needed"),
    Problem.TOO_FEW_CHOICES: N_("a choice question needs at least two choices"),
    Problem.DUPLICATE_CHOICE: N_("the choice «{choice}» appears twice"),
    Problem.BAD_BOUNDS: N_("the limits do not make sense"),
    Problem.BAD_EXPRESSION: N_("the expression «{expression}» is not supported"),
    Problem.UNKNOWN_NAME: N_("there is no question named «{name}»"),
    Problem.LATER_NAME: N_("«{name}» comes later in the form; only earlier answers can be used"),
    Problem.UNKNOWN_CHOICE: N_("«{name}» has no choice «{choice}»"),
    Problem.PYXFORM: N_("the file could not be read as an XLSForm"),
    Problem.FILE_TOO_LARGE: N_("the file is larger than {limit} MB"),
    Problem.UNPACKED_TOO_LARGE: N_(
        "unpacked, the workbook is larger than {limit} MB; a survey form is far smaller"
    ),
    Problem.PACKED_TOO_TIGHTLY: N_(
        "the workbook unpacks to {ratio} times its size, which no survey form does"
    ),
    Problem.TOO_MANY_ROWS: N_("it has more than {limit} rows; a survey form has far fewer"),
    Problem.TOO_SLOW: N_("reading it took longer than {seconds} seconds, so it was stopped"),
    Problem.TOO_MUCH_MEMORY: N_(
        "reading it needed more than {limit} MB of memory, so it was stopped"
    ),
}


_FIGURES = {"limit", "ratio", "seconds"}  # the limits a file went beyond, shown as numbers


def xlsform_problem(error: XLSFormError) -> str:
    """The refusal in the staff member's language: where, what, and pyxform's own words."""
    params: dict[str, Any] = {
        key: number(int(value)) if key in _FIGURES else escape(value)
        for key, value in error.params.items()
    }
    try:
        what = _(PROBLEMS[error.code]).format(**params)
    except KeyError:
        what = escape(error.message)
    where = []
    if error.sheet:
        where.append(_("sheet «{sheet}»").format(sheet=escape(error.sheet)))
    if error.row is not None:
        where.append(_("row {row}").format(row=number(error.row)))
    if error.column:
        where.append(_("column «{column}»").format(column=escape(error.column)))
    text = _("⚠️ The file was not imported.") + "\n"
    text += fmt.listing(where, current_language())
    text += (": " if where else "") + what
    if detail := error.params.get("detail"):
        text += "\n<code>" + escape(detail[:300]) + "</code>"
    return text


# Written question by question


@router.callback_query(SurveyAdmin.filter(F.action == "write"))
async def ask_title(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(SurveyForm.title_fa)
    await state.set_data({})
    await message.answer(_("The survey's title in Persian? (or «-» for English only)"))


def _typed(message: Message, limit: int) -> str | None:
    text = normalize_text(message.text or "")
    return text if 0 < len(text) <= limit else None


@router.message(StateFilter(SurveyForm.title_fa), Typed())
async def title_fa_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    if not is_skip(typed) and _typed(message, LABEL_MAX) is None:
        await too_long(message, LABEL_MAX)
        return
    await state.update_data({"title": {"fa": "" if is_skip(typed) else typed}, "questions": []})
    await state.set_state(SurveyForm.title_en)
    await message.answer(_("And in English? (or «-» to keep it only in Persian)"))


@router.message(StateFilter(SurveyForm.title_en), Typed())
async def title_en_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    data = await state.get_data()
    if is_skip(typed) and not data["title"]["fa"]:
        await message.answer(_("The title needs a text in at least one language."))
        return
    if not is_skip(typed) and _typed(message, LABEL_MAX) is None:
        await too_long(message, LABEL_MAX)
        return
    title = {
        lang: text
        for lang, text in (("fa", data["title"]["fa"]), ("en", "" if is_skip(typed) else typed))
        if text
    }
    await state.update_data({"title": title})
    await state.set_state(None)
    await _ask_kind(message)


async def _ask_kind(message: Message) -> None:
    names = list(KINDS.items())
    await message.answer(
        _("What kind of question?"),
        reply_markup=_keyboard(
            [
                [(_(label), "kind", key) for key, (label, _kind, _top) in names[i : i + 2]]
                for i in range(0, len(names), 2)
            ]
        ),
    )


@router.callback_query(SurveyAdmin.filter(F.action == "kind"))
async def kind_chosen(
    query: CallbackQuery, callback_data: SurveyAdmin, message: Message, state: FSMContext
) -> None:
    data = await state.get_data()
    if callback_data.value not in KINDS or "title" not in data:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    if len(data.get("questions", [])) >= MAX_QUESTIONS:
        await query.answer(_("That is as many questions as a survey can have."), show_alert=True)
        return
    await query.answer()
    await state.update_data({"kind": callback_data.value})
    await state.set_state(SurveyForm.label_fa)
    await message.answer(_("The question in Persian? (or «-» for English only)"))


@router.message(StateFilter(SurveyForm.label_fa), Typed())
async def label_fa_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    if not is_skip(typed) and _typed(message, LABEL_MAX) is None:
        await too_long(message, LABEL_MAX)
        return
    await state.update_data({"label": {"fa": "" if is_skip(typed) else typed}})
    await state.set_state(SurveyForm.label_en)
    await message.answer(_("And in English? (or «-» to keep it only in Persian)"))


@router.message(StateFilter(SurveyForm.label_en), Typed())
async def label_en_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    data = await state.get_data()
    if is_skip(typed) and not data["label"]["fa"]:
        await message.answer(_("The question needs a text in at least one language."))
        return
    if not is_skip(typed) and _typed(message, LABEL_MAX) is None:
        await too_long(message, LABEL_MAX)
        return
    label = {
        lang: text
        for lang, text in (("fa", data["label"]["fa"]), ("en", "" if is_skip(typed) else typed))
        if text
    }
    await state.update_data({"label": label})
    kind = KINDS[data["kind"]][1]
    if kind in (Kind.SINGLE, Kind.MULTIPLE):
        await state.set_state(SurveyForm.choices)
        await message.answer(
            _(
                "Send the choices, one per line (two to ten). To give both languages, write"
                " «Persian / English» on a line."
            )
        )
    elif kind is Kind.NUMBER:
        await state.set_state(SurveyForm.bounds)
        await message.answer(
            _(
                "Any limits? Type the smallest and largest answer, like {example}, or «-» for none."
            ).format(example=fmt.localize_digits("0-120", current_language()))
        )
    elif kind is Kind.TEXT:
        await state.set_state(None)
        await message.answer(
            _("How long may an answer be?"),
            reply_markup=_keyboard(
                [
                    [
                        (
                            _("Up to {limit} characters").format(limit=number(limit)),
                            "length",
                            str(limit),
                        )
                        for limit in TEXT_LIMITS
                    ]
                ]
            ),
        )
    else:
        await state.set_state(None)
        await _ask_required(message)


@router.callback_query(SurveyAdmin.filter(F.action == "length"))
async def length_chosen(
    query: CallbackQuery, callback_data: SurveyAdmin, message: Message, state: FSMContext
) -> None:
    if "label" not in await state.get_data() or callback_data.value not in map(str, TEXT_LIMITS):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await state.update_data({"max_length": int(callback_data.value)})
    await message.edit_reply_markup(reply_markup=None)
    await _ask_required(message)


@router.message(StateFilter(SurveyForm.choices), Typed())
async def choices_typed(message: Message, state: FSMContext) -> None:
    choices = read_bilingual_lines(message.text or "", CHOICE_MAX, 2, MAX_CHOICES)
    if choices is None:
        await message.answer(
            _(
                "Please send two to ten choices, one per line, each up to {limit} characters."
            ).format(limit=number(CHOICE_MAX))
        )
        return
    await state.update_data({"choices": choices})
    await state.set_state(None)
    await _ask_required(message)


def read_bounds(typed: str) -> tuple[Decimal, Decimal] | None:
    """«۰-۱۲۰», «0 - 120» or «0 تا 120»."""
    text = normalize_text(typed).replace("تا", "-").replace("–", "-")
    parts = [part for part in text.rsplit("-", 1)] if "-" in text[1:] else []
    if len(parts) != 2:
        return None
    low, high = parse_decimal(parts[0]), parse_decimal(parts[1])
    if low is None or high is None or low > high:
        return None
    return low, high


@router.message(StateFilter(SurveyForm.bounds), Typed())
async def bounds_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    bounds = None if is_skip(typed) else read_bounds(typed)
    if bounds is None and not is_skip(typed):
        await message.answer(
            _("Please type the limits like {example}, or «-» for none.").format(
                example=fmt.localize_digits("0-120", current_language())
            )
        )
        return
    await state.update_data({"bounds": [str(b) for b in bounds] if bounds else None})
    await state.set_state(None)
    await _ask_required(message)


async def _ask_required(message: Message) -> None:
    await message.answer(
        _("Must it be answered?"),
        reply_markup=_keyboard(
            [[(_("Required"), "required", "1"), (_("Optional (can be skipped)"), "required", "0")]]
        ),
    )


@router.callback_query(SurveyAdmin.filter(F.action == "required"))
async def required_chosen(
    query: CallbackQuery,
    callback_data: SurveyAdmin,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
) -> None:
    data = await state.get_data()
    if "label" not in data or data.get("kind") not in KINDS:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    questions = [
        *data.get("questions", []),
        _question(data, len(data.get("questions", [])) + 1, callback_data.value == "1").to_json(),
    ]
    form = Form(data["title"], tuple(Question.from_json(q) for q in questions))
    if "draft" in data and await surveys.replace_form(session, int(data["draft"]), form):
        draft_id = int(data["draft"])
    else:
        draft_id = (await surveys.create_draft(session, form, "bot", person.id)).id
    await state.set_data({"title": data["title"], "questions": questions, "draft": draft_id})
    await message.edit_reply_markup(reply_markup=None)
    await message.answer(
        _("✅ Question {n} added.").format(n=number(len(questions))),
        reply_markup=_keyboard(
            [
                [(_("➕ Another question"), "another", "")],
                [(_("✔️ That's all: who should answer?"), "finish", "")],
            ]
        ),
    )


def _question(data: dict[str, Any], n: int, required: bool) -> Question:
    _label, kind, top = KINDS[data["kind"]]
    bounds = data.get("bounds") if kind is Kind.NUMBER else None
    return Question(
        name=f"q{n}",
        kind=kind,
        label=data["label"],
        required=required,
        choices=tuple(
            Choice(f"c{index}", choice) for index, choice in enumerate(data.get("choices") or [], 1)
        )
        if kind in (Kind.SINGLE, Kind.MULTIPLE)
        else (),
        minimum=Decimal(1) if top else Decimal(bounds[0]) if bounds else None,
        maximum=Decimal(top) if top else Decimal(bounds[1]) if bounds else None,
        max_length=data.get("max_length") if kind is Kind.TEXT else None,
    )


@router.callback_query(SurveyAdmin.filter(F.action == "another"))
async def another(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    if "draft" not in await state.get_data():
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await _ask_kind(message)


@router.callback_query(SurveyAdmin.filter(F.action == "finish"))
async def finish_writing(
    query: CallbackQuery, message: Message, state: FSMContext, session: AsyncSession
) -> None:
    data = await state.get_data()
    draft = await session.get(Survey, int(data.get("draft", 0)))
    if draft is None or draft.status != SurveyStatus.DRAFT:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await _drafted(message, state, draft)


# Publishing: audience, opening, closing, anonymity, preview


async def _drafted(message: Message, state: FSMContext, draft: Survey) -> None:
    form = surveys.form_of(draft)
    await state.set_data({"draft": draft.id})
    await message.answer(
        ngettext(
            "📋 <b>{title}</b>: {count} question ready.",
            "📋 <b>{title}</b>: {count} questions ready.",
            len(form.answerable),
        ).format(
            title=escape(pick(form.title, current_language())), count=number(len(form.answerable))
        )
    )
    await audience_picker.ask(message, state, "survey", _("Who should answer it?"))


@audience_picker.chosen("survey")
async def audience_chosen(
    message: Message, state: FSMContext, session: AsyncSession, audience: Audience
) -> None:
    await state.update_data({"audience": audience.to_json()})
    await state.set_state(None)
    await message.answer(
        _("When does it open?"),
        reply_markup=_keyboard(
            [[(_("Now"), "opens", "now"), (_("🕒 At a time I type…"), "opens", "later")]]
        ),
    )


@router.callback_query(SurveyAdmin.filter(F.action == "opens"))
async def opens_chosen(
    query: CallbackQuery, callback_data: SurveyAdmin, message: Message, state: FSMContext
) -> None:
    if "audience" not in await state.get_data():
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    if callback_data.value == "later":
        await state.set_state(SurveyForm.opens)
        await message.answer(_moment_question(_("When does it open?")))
        return
    await state.update_data({"opens": clock.now().isoformat()})
    await _ask_closes(message)


def _moment_question(question: str) -> str:
    example = "۱۴۰۵/۰۹/۱۵ ۱۸:۰۰" if current_language() == "fa" else "2026-12-06 18:00"
    return (
        question + " " + _("Type the date and time, for example {example}").format(example=example)
    )


async def _typed_moment(message: Message) -> Any:
    """The typed date and time, or None after saying what was wrong."""
    try:
        moment = parse_moment(message.text or "", fmt.TEHRAN)
    except MomentError as error:
        await message.answer(
            _("There is no such day in the calendar.")
            if error.impossible
            else _moment_question(_("I could not read that."))
        )
        return None
    if moment <= clock.now():
        await message.answer(_("That time has passed. Please type a time in the future."))
        return None
    return moment


@router.message(StateFilter(SurveyForm.opens), Typed())
async def opens_typed(message: Message, state: FSMContext) -> None:
    if (moment := await _typed_moment(message)) is None:
        return
    await state.update_data({"opens": moment.isoformat()})
    await state.set_state(None)
    await _ask_closes(message)


async def _ask_closes(message: Message) -> None:
    await message.answer(
        _("When does it close?"),
        reply_markup=_keyboard(
            [
                [
                    (_("After {days} days").format(days=number(days)), "closes", str(days))
                    for days in CLOSE_AFTER_DAYS[:2]
                ],
                [
                    (_("After {days} days").format(days=number(days)), "closes", str(days))
                    for days in CLOSE_AFTER_DAYS[2:]
                ],
                [(_("🕒 At a time I type…"), "closes", "later")],
            ]
        ),
    )


@router.callback_query(SurveyAdmin.filter(F.action == "closes"))
async def closes_chosen(
    query: CallbackQuery, callback_data: SurveyAdmin, message: Message, state: FSMContext
) -> None:
    data = await state.get_data()
    if "opens" not in data or not (
        callback_data.value == "later" or callback_data.value in map(str, CLOSE_AFTER_DAYS)
    ):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    if callback_data.value == "later":
        await state.set_state(SurveyForm.closes)
        await message.answer(_moment_question(_("When does it close?")))
        return
    opens = datetime.fromisoformat(data["opens"])
    closes = opens + timedelta(days=int(callback_data.value))
    await state.update_data({"closes": closes.isoformat()})
    await _ask_anonymous(message)


@router.message(StateFilter(SurveyForm.closes), Typed())
async def closes_typed(message: Message, state: FSMContext) -> None:
    if (moment := await _typed_moment(message)) is None:
        return
    opens = datetime.fromisoformat((await state.get_data())["opens"])
    if moment <= opens + timedelta(minutes=5):
        await message.answer(_("It must close after it opens. Please type a later time."))
        return
    await state.update_data({"closes": moment.isoformat()})
    await state.set_state(None)
    await _ask_anonymous(message)


async def _ask_anonymous(message: Message) -> None:
    await message.answer(
        _("Should answers be anonymous?"),
        reply_markup=_keyboard(
            [
                [(_("🔒 Anonymous"), "anonymous", "1")],
                [(_("👤 With names (staff see who answered what)"), "anonymous", "0")],
            ]
        ),
    )


@router.callback_query(SurveyAdmin.filter(F.action == "anonymous"))
async def anonymous_chosen(
    query: CallbackQuery,
    callback_data: SurveyAdmin,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    data = await state.get_data()
    draft = await session.get(Survey, int(data.get("draft", 0)))
    if draft is None or "closes" not in data or draft.status != SurveyStatus.DRAFT:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    anonymous = callback_data.value == "1"
    await state.update_data({"anonymous": anonymous})
    form = surveys.form_of(draft)
    i18n = get_i18n()
    for language in LANGUAGES:
        heading = (
            _("Preview for Persian readers:")
            if language == "fa"
            else _("Preview for English readers:")
        )
        with i18n.use_locale(language):
            body = preview(form, language)
        await message.answer(heading + "\n" + body)
    invited = await audiences.count(session, Audience.from_json(data["audience"]))
    language = current_language()
    await message.answer(
        ngettext(
            "It opens {opens} and closes {closes}; {count} person will be invited.",
            "It opens {opens} and closes {closes}; {count} people will be invited.",
            invited,
        ).format(
            opens=fmt.moment(datetime.fromisoformat(data["opens"]), language),
            closes=fmt.moment(datetime.fromisoformat(data["closes"]), language),
            count=number(invited),
        )
        + "\n"
        + (_("🔒 Anonymous.") if anonymous else _("👤 With names.")),
        reply_markup=_keyboard(
            [[(_("✅ Publish"), "publish", ""), (_("✖ Discard"), "discard", "")]]
        ),
    )


def preview(form: Form, language: str) -> str:
    """The whole survey as a reader in this language will see it, for staff to check."""
    lines = [f"<b>{escape(pick(form.title, language))}</b>"]
    for n, question in enumerate(form.questions, 1):
        line = f"{fmt.number(n, language)}. {escape(pick(question.label, language))}"
        kind = _(KIND_NAMES[question.kind])
        optional = question.answerable and not question.required
        if optional:
            kind += " · " + _("optional")
        line += f" <i>({kind})</i>"
        lines.append(line)
        if (
            question.kind is Kind.SCALE
            and question.minimum is not None
            and question.maximum is not None
        ):
            lines.append(
                "   "
                + fmt.number(question.minimum, language)
                + " … "
                + fmt.number(question.maximum, language)
            )
        if question.kind in (Kind.NUMBER, Kind.TEXT):  # the limits a reader will meet
            lines.append("   " + instructions(question, language))
        lines += [f"   ◦ {escape(pick(option.label, language))}" for option in question.options]
    return "\n".join(lines)


@router.callback_query(SurveyAdmin.filter(F.action == "publish"))
async def publish(
    query: CallbackQuery,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
) -> None:
    data = await state.get_data()
    if "anonymous" not in data:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    result = await surveys.publish(
        session,
        int(data["draft"]),
        audience=Audience.from_json(data["audience"]),
        opens_at=datetime.fromisoformat(data["opens"]),
        closes_at=datetime.fromisoformat(data["closes"]),
        anonymous=bool(data["anonymous"]),
        min_responses=hamgam.settings.anonymous_min_responses,
        actor_id=person.id,
    )
    if result is PublishProblem.CLOSES_TOO_SOON:
        await query.answer(
            _("It must close after it opens. Please type a later time."), show_alert=True
        )
        return
    if isinstance(result, PublishProblem):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await state.clear()
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    assert result.opens_at is not None
    await message.answer(
        _("✅ Published. Invitations go out {opens}. See the answers with /results.").format(
            opens=fmt.moment(result.opens_at, current_language())
        )
    )


@router.callback_query(SurveyAdmin.filter(F.action == "discard"))
async def discard(
    query: CallbackQuery, message: Message, state: FSMContext, session: AsyncSession, person: Person
) -> None:
    data = await state.get_data()
    if "draft" in data:
        await surveys.discard(session, int(data["draft"]), person.id)
    await state.clear()
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await message.answer(_("Discarded. Nothing was sent."))


# Results


@router.message(Command("results"))
async def list_results(message: Message, session: AsyncSession) -> None:
    language = current_language()
    found = await surveys.surveys_for_staff(session)
    if not found:
        await message.answer(_("There are no surveys yet. Make one with /newsurvey."))
        return
    status_names = {
        SurveyStatus.SCHEDULED: _("scheduled"),
        SurveyStatus.OPEN: _("open"),
        SurveyStatus.CLOSED: _("closed"),
    }
    await message.answer(
        _("Which survey?"),
        reply_markup=_keyboard(
            [
                [
                    (
                        f"#{fmt.number(s.id, language)} {_short_title(s, language)}"
                        f" · {status_names.get(SurveyStatus(s.status), '')}",
                        "results",
                        str(s.id),
                    )
                ]
                for s in found
            ]
        ),
    )


def _short_title(survey: Survey, language: str) -> str:
    return pick(surveys.form_of(survey).title, language)[:40]


@router.callback_query(SurveyAdmin.filter(F.action == "results"))
async def show_results(
    query: CallbackQuery,
    callback_data: SurveyAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
) -> None:
    """The figures (a read over every answer) and a chart per question are made by a
    background job; a new message shows its progress, and the list stays to pick another."""
    survey = (
        await session.get(Survey, int(callback_data.value))
        if callback_data.value.isdigit()
        else None
    )
    if survey is None or survey.status == SurveyStatus.DRAFT:
        await query.answer(_("This survey does not exist."), show_alert=True)
        return
    await query.answer()
    language = current_language()
    params = {"survey": survey.id, "title": _short_title(survey, language)}
    progress = await message.answer(job_status(params, 0, None))
    await hamgam.submit(
        session,
        JobKind.RESULTS,
        params,
        person_id=person.id,
        chat_id=message.chat.id,
        language=language,
        message_id=progress.message_id,
    )


def job_status(params: dict[str, Any], done: int, total: int | None) -> str:
    """The results' progress message, which ends as their heading."""
    title = escape(params["title"])
    if total and done >= total:
        return _("📊 The results of «{title}» follow.").format(title=title)
    return _("📊 Counting the answers of «{title}»… {percent}").format(
        title=title, percent=fmt.percent(done / total if total else 0.0, current_language())
    )


async def results_files(session: AsyncSession, work: Work) -> dict[str, Any]:
    """In the job's child process: the survey's figures in the staff member's language, and a
    chart of each question that has counts, written into the job's folder."""
    language = work.language
    work.progress(0, 2)
    survey = await session.get(Survey, work.params["survey"])
    if survey is None:
        raise LookupError(f"survey {work.params['survey']} no longer exists")
    found = await surveys.results(session, survey)
    rates = await surveys.rates(session, survey)
    work.progress(1, 2)
    photos = []
    with in_language(language):
        text = await results_text(session, found, rates, language)
        for number_, result in enumerate(found.questions):
            if result.counts:
                labels = _option_labels(result.question, language)
                png = charts.bar_chart(
                    [labels.get(key, key) for key in result.counts],
                    list(result.counts.values()),
                    language,
                    pick(result.question.label, language),
                )
                photos.append([work.file(f"{number_}.png", png), f"{result.question.name}.png"])
    work.progress(2, 2)
    return {"text": text, "open": survey.status == SurveyStatus.OPEN, "photos": photos}


def job_results(job: Job, result: dict[str, Any]) -> list[Content]:
    """The figures (with the button that closes the survey while it is open), then the charts
    in albums (each drawn with its question as its title)."""
    buttons = []
    if result["open"]:
        close = SurveyAdmin(action="close", value=str(job.params["survey"])).pack()
        buttons = [[Button({job.language: _("🛑 Close it now")}, callback_data=close)]]
    charts_ = [Media("photo", path=path, file_name=name) for path, name in result["photos"]]
    return [Content(text={job.language: result["text"]}, buttons=buttons), *in_albums(charts_)]


def job_failure(job: Job) -> Content:
    return Content(
        text={job.language: _("The results could not be counted. Please try again later.")}
    )


def _option_labels(question: Question, language: str) -> dict[str, str]:
    if question.kind is Kind.SCALE:
        assert question.minimum is not None and question.maximum is not None
        return {
            str(point): fmt.number(point, language)
            for point in range(int(question.minimum), int(question.maximum) + 1)
        }
    return {option.name: pick(option.label, language) for option in question.options}


def _rate(responded: int, invited: int, language: str) -> str:
    return _("{responded} of {invited} ({rate})").format(
        responded=fmt.number(responded, language),
        invited=fmt.number(invited, language),
        rate=fmt.percent(responded / invited if invited else 0, language),
    )


def _response_rate(responded: int, invited: int, language: str) -> str:
    return ngettext(
        "{responded} of the {invited} person invited has answered ({rate}).",
        "{responded} of the {invited} people invited have answered ({rate}).",
        invited,
    ).format(
        responded=fmt.number(responded, language),
        invited=fmt.number(invited, language),
        rate=fmt.percent(responded / invited if invited else 0, language),
    )


def withheld(least: int, language: str) -> str:
    """What staff see of an anonymous survey with fewer than `least` responses counted."""
    return _(
        "🔒 Anonymous: nothing is shown until at least {least} people have answered,"
        " so that no figure shows one person's answers. Fewer than {least} so far."
    ).format(least=fmt.number(least, language))


async def results_text(
    session: AsyncSession, found: surveys.Results, rates: surveys.Rates, language: str
) -> str:
    survey = found.survey
    title = _("📊 <b>{title}</b>").format(title=escape(pick(found.form.title, language)))
    if found.withheld or rates.withheld:
        return title + "\n" + withheld(survey.min_responses or 0, language)
    if survey.anonymous:
        lines = [
            title,
            ngettext(
                "{count} completed response is counted.",
                "{count} completed responses are counted.",
                found.finished,
            ).format(count=fmt.number(found.finished, language)),
            _response_rate(*rates.total, language),
            _(
                "🔒 Anonymous: answers are counted in groups of at least {least}, and no area"
                " or working group where fewer answered is shown, so that no figure shows one"
                " person's answers. Free texts are in alphabetical order."
            ).format(least=fmt.number(survey.min_responses or 0, language)),
        ]
    else:
        lines = [
            title,
            _("{finished} finished it and {partial} answered only part of it.").format(
                finished=fmt.number(found.finished, language),
                partial=fmt.number(found.partial, language),
            ),
            _response_rate(*rates.total, language),
        ]
    if rates.areas:
        lines.append(
            _("By area: {rates}").format(
                rates=fmt.listing(
                    (
                        f"{escape(area)} {_rate(*counts, language)}"
                        for area, counts in rates.areas.items()
                    ),
                    language,
                    semicolons=True,
                )
            )
        )
    if rates.groups:
        names = {
            group_id: group.name(language)
            for group_id, group in (await groups.by_ids(session, rates.groups)).items()
        }
        lines.append(
            _("By working group: {rates}").format(
                rates=fmt.listing(
                    (
                        f"{escape(names.get(group, '—'))} {_rate(*counts, language)}"
                        for group, counts in rates.groups.items()
                    ),
                    language,
                    semicolons=True,
                )
            )
        )
    for n, result in enumerate(found.questions, 1):
        question = result.question
        lines.append(
            f"\n<b>{fmt.number(n, language)}. {escape(pick(question.label, language))}</b> · "
            + ngettext("{count} answer", "{count} answers", result.answered).format(
                count=fmt.number(result.answered, language)
            )
        )
        labels = _option_labels(question, language)
        for key, count in result.counts.items():
            share = count / result.answered if result.answered else 0
            lines.append(
                f"• {escape(labels.get(key, key))}: {fmt.number(count, language)}"
                f" ({fmt.percent(share, language)})"
            )
        if result.numbers:
            assert result.mean is not None and result.median is not None
            lines.append(
                _(
                    "Average {mean}, median {median}; the answers range from {low} to {high}."
                ).format(
                    mean=fmt.number(result.mean.quantize(Decimal("0.1")), language),
                    median=fmt.number(Decimal(result.median), language),
                    low=fmt.number(min(result.numbers), language),
                    high=fmt.number(max(result.numbers), language),
                )
            )
        # The newest of a named survey; an anonymous one's are sorted, so the first.
        shown = result.texts[:TEXTS_SHOWN] if survey.anonymous else result.texts[-TEXTS_SHOWN:]
        for text in shown:
            lines.append(f"• «{escape(text[:300])}»")
        if len(result.texts) > TEXTS_SHOWN:
            lines.append(
                _("…and {more} more (all of them in the export).").format(
                    more=fmt.number(len(result.texts) - TEXTS_SHOWN, language)
                )
            )
    shown: list[str] = []
    for line in lines:  # whole lines only, so no HTML tag is cut in two
        if sum(len(kept) + 1 for kept in shown) + len(line) > MESSAGE_MAX:
            shown.append("…")
            break
        shown.append(line)
    return "\n".join(shown)


@router.callback_query(SurveyAdmin.filter(F.action == "close"))
async def close_now(
    query: CallbackQuery,
    callback_data: SurveyAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    survey = (
        await session.get(Survey, int(callback_data.value))
        if callback_data.value.isdigit()
        else None
    )
    if survey is None or survey.status != SurveyStatus.OPEN:
        await query.answer(_("This survey is not open."), show_alert=True)
        return
    await surveys.close(session, survey, clock.now(), person.id)
    await query.answer(_("Closed."))
    await message.edit_reply_markup(reply_markup=None)
