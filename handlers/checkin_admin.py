"""Staff setting up check-ins: the list with a participation chart, a new check-in in a few
taps, and a card per check-in where each part of it is changed: days or a day of the month,
time, time zone, answer window, reminders, where the summary goes, skip dates, questions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta
from decimal import Decimal
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import charts, clock
from bot.background.models import JobKind
from bot.background.service import Job
from bot.background.work import Work
from bot.checkins import service as checkins
from bot.checkins.models import Checkin, SummaryTo
from bot.checkins.questions import DEFAULT_QUESTIONS, Kind, Question
from bot.checkins.schedule import Schedule, Window, find_timezone
from bot.delivery.content import Content, Media, pick
from bot.groups import service as groups
from bot.groups.models import Group
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.i18n.normalize import (
    MomentError,
    is_skip,
    normalize_text,
    parse_day,
    parse_decimal,
    parse_int,
    read_bilingual_lines,
)
from bot.i18n.normalize import parse_time as read_time
from bot.indicators import service as indicators
from bot.indicators.models import Indicator
from bot.people.models import Person, Role
from bot.telegram.app import Hamgam
from bot.telegram.filters import PrivateChat, Typed
from bot.telegram.guards import Onboarded, RequireRole
from handlers.forms import keyboard, too_long
from handlers.locale import current_language, in_language, number

router = Router(name="checkins.staff")
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())
router.message.middleware(RequireRole(Role.STAFF))
router.callback_query.middleware(RequireRole(Role.STAFF))

MAX_QUESTIONS = 10
QUESTION_MAX = 300
CHOICE_MAX = 60
MAX_CHOICES = 8
MAX_REMINDERS = 3
MAX_REMINDER_HOURS = 31 * 24  # no window is longer
ZONES = ("Asia/Tehran", "Europe/Berlin", "Europe/London", "America/Toronto")

WEEKDAY_NAMES = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
WEEK_FROM_SATURDAY = (5, 6, 0, 1, 2, 3, 4)  # how the week is read in Iran
KIND_NAMES = {
    Kind.TEXT: N_("free text"),
    Kind.NUMBER: N_("a number"),
    Kind.CHOICE: N_("one of several choices"),
    Kind.SCALE: N_("a scale of 1 to 5"),
    Kind.INDICATOR: N_("a shared indicator's value"),
}
SUMMARY_NAMES = {
    SummaryTo.CHAT: N_("the group's chat"),
    SummaryTo.STAFF: N_("staff"),
    SummaryTo.BOTH: N_("the group's chat and staff"),
}


class CheckinAdmin(CallbackData, prefix="chka"):
    action: str
    checkin: int = 0
    value: int = 0


class NewCheckin(StatesGroup):
    time = State()


class EditCheckin(StatesGroup):
    time = State()
    month_day = State()
    timezone = State()
    window_time = State()
    reminders = State()
    skip_date = State()
    question_fa = State()
    question_en = State()
    choices = State()


def _button(text: str, action: str, checkin: int = 0, value: int = 0) -> tuple[str, str]:
    return text, CheckinAdmin(action=action, checkin=checkin, value=value).pack()


def time_text(value: time, language: str) -> str:
    return fmt.localize_digits(value.strftime("%H:%M"), language)


def schedule_text(schedule: Schedule, language: str) -> str:
    at = time_text(schedule.at, language)
    if schedule.weekdays:
        days = [_(WEEKDAY_NAMES[day]) for day in WEEK_FROM_SATURDAY if day in schedule.weekdays]
        return _("every {days} at {time}").format(days=fmt.listing(days, language), time=at)
    day = fmt.number(schedule.month_day or 1, language)
    if schedule.calendar == "jalali":
        return _("on day {day} of each Persian (Jalali) month at {time}").format(day=day, time=at)
    return _("on day {day} of each Gregorian month at {time}").format(day=day, time=at)


def window_text(window: Window, language: str) -> str:
    at = time_text(window.at, language)
    if window.days_after == 0:
        return _("the same day at {time}").format(time=at)
    if window.days_after == 1:
        return _("the next day at {time}").format(time=at)
    return _("{days} days later at {time}").format(
        days=fmt.number(window.days_after, language), time=at
    )


def hours_text(minutes: int, language: str) -> str:
    return (
        fmt.number(Decimal(minutes) / 60, language)
        if minutes % 60
        else fmt.number(minutes // 60, language)
    )


def reminders_text(window: Window, language: str) -> str:
    if not window.reminders_after_min:
        return _("no reminders")
    hours = [hours_text(minutes, language) for minutes in window.reminders_after_min]
    return _("{hours} hours after the question").format(hours=fmt.listing(hours, language))


def card_text(checkin: Checkin, group: Group, language: str) -> str:
    schedule = Schedule.from_json(checkin.schedule)
    window = Window.from_json(checkin.window)
    lines = [
        _("📋 <b>Check-in #{id} · {group}</b>").format(
            id=fmt.number(checkin.id, language), group=escape(group.name(language))
        ),
        "🗓 " + schedule_text(schedule, language),
        "🌐 " + _("Time zone: {zone}").format(zone=fmt.time_zone(schedule.timezone, language)),
        "⏳ " + _("Answers are taken until {window}").format(window=window_text(window, language)),
        "🔔 " + _("Reminders: {reminders}").format(reminders=reminders_text(window, language)),
        "📣 "
        + _("The summary goes to {target}").format(
            target=_(SUMMARY_NAMES[SummaryTo(checkin.summary_to)])
        ),
    ]
    if schedule.skip_dates:
        days = [fmt.day(day, language) for day in sorted(schedule.skip_dates)]
        lines.append("🚫 " + _("No round on {days}").format(days=fmt.listing(days, language)))
    if checkin.paused:
        lines.append("⏸ " + _("Paused"))
    elif upcoming := schedule.next_after(clock.now()):
        lines.append(
            "▶️ "
            + _("Next round: {moment}").format(moment=fmt.moment(upcoming, language, schedule.tz))
        )
    lines.append("\n" + _("<b>Questions</b>"))
    for index, question in enumerate(checkins.questions_of(checkin), 1):
        lines.append(
            f"{fmt.number(index, language)}. {escape(pick(question.text, language))}"
            f" <i>({_(KIND_NAMES[question.kind])})</i>"
        )
    return "\n".join(lines)


def card_keyboard(checkin: Checkin) -> InlineKeyboardMarkup:
    id_ = checkin.id
    return keyboard(
        [
            [
                _button(_("🗓 Days of the week"), "days", id_),
                _button(_("📅 Monthly"), "monthly", id_),
            ],
            [_button(_("🕐 Time"), "time", id_), _button(_("🌐 Time zone"), "tz", id_)],
            [
                _button(_("⏳ Answer window"), "window", id_),
                _button(_("🔔 Reminders"), "remind", id_),
            ],
            [_button(_("📣 Summary"), "summary", id_), _button(_("🚫 Skip dates"), "skip", id_)],
            [_button(_("❓ Questions"), "questions", id_)],
            [
                _button(_("▶️ Resume"), "resume", id_)
                if checkin.paused
                else _button(_("⏸ Pause"), "pause", id_),
                _button(_("🗑 Delete"), "delete", id_),
            ],
            [_button(_("« All check-ins"), "list")],
        ]
    )


async def _found(session: AsyncSession, checkin_id: int) -> tuple[Checkin, Group] | None:
    checkin = await session.get(Checkin, checkin_id)
    if checkin is None:
        return None
    group = await session.get(Group, checkin.group_id)
    return (checkin, group) if group is not None else None


async def _show_card(
    message: Message, session: AsyncSession, checkin_id: int, *, in_place: bool = True
) -> None:
    """The card, in place of the message whose button was pressed, or as a new message."""
    found = await _found(session, checkin_id)
    show = message.edit_text if in_place else message.answer
    if found is None:
        await show(_("That check-in no longer exists."))
        return
    await show(card_text(*found, current_language()), reply_markup=card_keyboard(found[0]))


async def _checkin_of(
    query: CallbackQuery, session: AsyncSession, callback_data: CheckinAdmin
) -> Checkin | None:
    checkin = await session.get(Checkin, callback_data.checkin)
    if checkin is None:
        await query.answer(_("That check-in no longer exists."), show_alert=True)
    return checkin


# The list, and participation as a background job


async def _list_page(session: AsyncSession) -> tuple[str, InlineKeyboardMarkup]:
    language = current_language()
    overviews = await checkins.overviews(session, clock.now())
    lines = [_("<b>Check-ins</b>")]
    rows = []
    for overview in overviews:
        item = overview.checkin
        schedule = Schedule.from_json(item.schedule)
        state = (
            _("Paused")
            if item.paused
            else _("Next round: {moment}").format(
                moment=fmt.moment(overview.next_round, language, schedule.tz)
                if overview.next_round
                else "—"
            )
        )
        lines.append(
            f"\n<b>#{fmt.number(item.id, language)} {escape(overview.group.name(language))}</b>"
            f" · {schedule_text(schedule, language)}\n{state}"
        )
        rows.append(
            [
                _button(
                    _("✏️ #{id} {group}").format(
                        id=fmt.number(item.id, language), group=overview.group.name(language)[:40]
                    ),
                    "edit",
                    item.id,
                )
            ]
        )
    if not overviews:
        lines.append(_("There are no check-ins yet."))
    rows.append([_button(_("➕ New check-in"), "new")])
    return "\n".join(lines), keyboard(rows)


@router.message(Command("checkins"))
async def list_checkins(
    message: Message, session: AsyncSession, state: FSMContext, person: Person, hamgam: Hamgam
) -> None:
    """The list at once; the participation of the latest rounds, a read over all their
    participants and a chart, follows from a background job when there is any."""
    await state.clear()
    text, keyboard = await _list_page(session)
    if not await checkins.any_closed_round(session):
        await message.answer(text, reply_markup=keyboard)
        return
    await message.answer(
        text + "\n\n" + _("📈 Participation in the latest rounds follows in a moment."),
        reply_markup=keyboard,
    )
    await hamgam.submit(
        session,
        JobKind.PARTICIPATION,
        {},
        person_id=person.id,
        chat_id=message.chat.id,
        language=current_language(),
    )


async def participation_files(session: AsyncSession, work: Work) -> dict[str, Any]:
    """In the job's child process: each check-in's latest rates, and their chart."""
    language = work.language
    found = await checkins.participation(session)
    with in_language(language):
        lines = [_("<b>Participation in check-ins, round by round</b>")]
        for item in found:
            rates = " · ".join(
                fmt.percent(rate, language) if rate is not None else "—"
                for rate in item.recent_rates[-6:]
            )
            lines.append(
                f"#{fmt.number(item.checkin.id, language)} {escape(item.group.name(language))}: "
                + rates
            )
        chart = None
        if found:
            png = charts.line_chart(
                [
                    charts.Series(
                        f"#{fmt.number(p.checkin.id, language)} {p.group.name(language)}", p.recent
                    )
                    for p in found
                ],
                language,
                _("Check-in participation per group"),
                percent=True,
            )
            chart = work.file("participation.png", png)
    return {"text": "\n".join(lines), "chart": chart}


def job_results(job: Job, result: dict[str, Any]) -> list[Content]:
    """The chart with each check-in's rates as its caption (the outbox sends a long caption's
    rest as messages); nothing if the closed rounds went meanwhile (their check-in deleted)."""
    if result["chart"] is None:
        return []
    media = Media("photo", path=result["chart"], file_name="participation.png")
    return [Content(text={job.language: result["text"]}, media=media)]


def job_failure(job: Job) -> Content:
    return Content(
        text={job.language: _("The participation chart could not be made. Please try again later.")}
    )


@router.callback_query(CheckinAdmin.filter(F.action == "list"))
async def back_to_list(query: CallbackQuery, message: Message, session: AsyncSession) -> None:
    text, keyboard = await _list_page(session)
    await query.answer()
    await message.edit_text(text, reply_markup=keyboard)


@router.callback_query(CheckinAdmin.filter(F.action == "edit"))
async def open_card(
    query: CallbackQuery, callback_data: CheckinAdmin, message: Message, session: AsyncSession
) -> None:
    if await _checkin_of(query, session, callback_data) is None:
        return
    await query.answer()
    await _show_card(message, session, callback_data.checkin)


# A new check-in: group, day, time; the card then adjusts the rest


@router.callback_query(CheckinAdmin.filter(F.action == "new"))
async def choose_group(query: CallbackQuery, message: Message, session: AsyncSession) -> None:
    language = current_language()
    summaries = await groups.summaries(session)
    await query.answer()
    if not summaries:
        await message.answer(_("Make a group first with /newgroup."))
        return
    await message.answer(
        _("For which group?"),
        reply_markup=keyboard(
            [
                [_button(summary.group.name(language)[:40], "group", value=summary.group.id)]
                for summary in summaries
            ]
        ),
    )


@router.callback_query(CheckinAdmin.filter(F.action == "group"))
async def choose_day(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    if await session.get(Group, callback_data.value) is None:
        await query.answer(_("That group no longer exists."), show_alert=True)
        return
    await state.set_data({"group_id": callback_data.value})
    await query.answer()
    await message.answer(
        _("On which day of the week?"),
        reply_markup=keyboard(
            [
                [_button(_(WEEKDAY_NAMES[day]), "day", value=day) for day in days]
                for days in (WEEK_FROM_SATURDAY[:4], WEEK_FROM_SATURDAY[4:])
            ]
        ),
    )


@router.callback_query(CheckinAdmin.filter(F.action == "day"))
async def ask_time(
    query: CallbackQuery, callback_data: CheckinAdmin, message: Message, state: FSMContext
) -> None:
    if "group_id" not in await state.get_data() or not 0 <= callback_data.value <= 6:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await state.update_data({"weekday": callback_data.value})
    await state.set_state(NewCheckin.time)
    await query.answer()
    await message.answer(_time_question())


def _time_question() -> str:
    return _("At what time? For example {example}").format(
        example=fmt.localize_digits("18:00", current_language())
    )


async def _typed_time(message: Message) -> time | None:
    try:
        return read_time(message.text or "")
    except MomentError:
        await message.answer(
            _("Please type the time like {example}.").format(
                example=fmt.localize_digits("18:00", current_language())
            )
        )
        return None


@router.message(StateFilter(NewCheckin.time), Typed())
async def create_checkin(
    message: Message, state: FSMContext, session: AsyncSession, person: Person, hamgam: Hamgam
) -> None:
    at = await _typed_time(message)
    if at is None:
        return
    data = await state.get_data()
    schedule = Schedule(
        at=at,
        weekdays=frozenset({int(data["weekday"])}),
        timezone=hamgam.settings.timezone,
    )
    created = await checkins.create(
        session, int(data["group_id"]), schedule, Window(), actor_id=person.id
    )
    await state.clear()
    await message.answer(
        _("📋 Check-in #{id} is set. Change anything below.").format(
            id=fmt.number(created.id, current_language())
        )
    )
    await _show_card(message, session, created.id, in_place=False)


# Editing: each button changes one part, then the card shows the result


async def _saved(
    message: Message,
    session: AsyncSession,
    person: Person,
    checkin: Checkin,
    *,
    edit_in_place: bool,
    **changes: object,
) -> bool:
    """Applies a change through the service; False (with the reason told) when it would make
    rounds close before they open."""
    try:
        await checkins.edit(session, checkin.id, person.id, **changes)  # type: ignore[arg-type]
    except ValueError:
        await message.answer(
            _(
                "With that, rounds would close before they open. Make the answer window"
                " longer first (⏳ Answer window)."
            )
        )
        return False
    if not edit_in_place:
        await message.answer(_("✅ Saved."))
    await _show_card(message, session, checkin.id, in_place=edit_in_place)
    return True


async def _editing(state: FSMContext, session: AsyncSession, message: Message) -> Checkin | None:
    """The check-in a typed answer belongs to; gone if it was deleted meanwhile."""
    checkin = await session.get(Checkin, (await state.get_data()).get("checkin_id", 0))
    if checkin is None:
        await state.clear()
        await message.answer(_("That check-in no longer exists."))
    return checkin


async def _ask(
    state: FSMContext, message: Message, checkin: Checkin, step: State, text: str, **data: object
) -> None:
    await state.set_state(step)
    await state.set_data({"checkin_id": checkin.id, **data})
    await message.answer(text)


def _days_keyboard(checkin: Checkin) -> InlineKeyboardMarkup:
    chosen = Schedule.from_json(checkin.schedule).weekdays
    rows = [
        [
            _button(("✅ " if day in chosen else "") + _(WEEKDAY_NAMES[day]), "wd", checkin.id, day)
            for day in days
        ]
        for days in (WEEK_FROM_SATURDAY[:4], WEEK_FROM_SATURDAY[4:])
    ]
    rows.append([_button(_("✔️ Done"), "edit", checkin.id)])
    return keyboard(rows)


@router.callback_query(CheckinAdmin.filter(F.action == "days"))
async def pick_days(
    query: CallbackQuery, callback_data: CheckinAdmin, message: Message, session: AsyncSession
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await query.answer()
    await message.edit_text(
        _("On which days of the week? Press a day to add or remove it."),
        reply_markup=_days_keyboard(checkin),
    )


@router.callback_query(CheckinAdmin.filter(F.action == "wd"))
async def toggle_day(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    if not 0 <= callback_data.value <= 6:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    schedule = Schedule.from_json(checkin.schedule)
    days = schedule.weekdays ^ {callback_data.value}
    if not days:
        await query.answer(_("Keep at least one day."), show_alert=True)
        return
    await checkins.edit(
        session,
        checkin.id,
        person.id,
        schedule=replace(schedule, weekdays=days, month_day=None),
    )
    await query.answer()
    await message.edit_reply_markup(reply_markup=_days_keyboard(checkin))


@router.callback_query(CheckinAdmin.filter(F.action == "monthly"))
async def ask_month_day(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await query.answer()
    await _ask(
        state,
        message,
        checkin,
        EditCheckin.month_day,
        _(
            "On which day of the month (1 to 31)? In a shorter month, a later day falls on its"
            " last day."
        ),
    )


@router.message(StateFilter(EditCheckin.month_day), Typed())
async def month_day_typed(message: Message, state: FSMContext, session: AsyncSession) -> None:
    if (checkin := await _editing(state, session, message)) is None:
        return
    day = parse_int(message.text or "")
    if day is None or not 1 <= day <= 31:
        await message.answer(_("Please type a day of the month from 1 to 31."))
        return
    await state.set_state(None)
    await message.answer(
        _("Of which calendar?"),
        reply_markup=keyboard(
            [
                [_button(_("Persian (Jalali) months"), "jalali", checkin.id, day)],
                [_button(_("Gregorian months"), "gregorian", checkin.id, day)],
            ]
        ),
    )


@router.callback_query(CheckinAdmin.filter(F.action.in_({"jalali", "gregorian"})))
async def month_calendar_chosen(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    if not 1 <= callback_data.value <= 31:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await state.clear()
    await query.answer()
    schedule = replace(
        Schedule.from_json(checkin.schedule),
        weekdays=frozenset(),
        month_day=callback_data.value,
        calendar="jalali" if callback_data.action == "jalali" else "gregorian",
    )
    await _saved(message, session, person, checkin, edit_in_place=True, schedule=schedule)


@router.callback_query(CheckinAdmin.filter(F.action == "time"))
async def ask_new_time(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await query.answer()
    await _ask(state, message, checkin, EditCheckin.time, _time_question())


@router.message(StateFilter(EditCheckin.time), Typed())
async def time_typed(
    message: Message, state: FSMContext, session: AsyncSession, person: Person
) -> None:
    if (checkin := await _editing(state, session, message)) is None:
        return
    if (at := await _typed_time(message)) is None:
        return
    schedule = replace(Schedule.from_json(checkin.schedule), at=at)
    if await _saved(message, session, person, checkin, edit_in_place=False, schedule=schedule):
        await state.clear()


@router.callback_query(CheckinAdmin.filter(F.action == "tz"))
async def ask_timezone(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await query.answer()
    await state.set_state(EditCheckin.timezone)
    await state.set_data({"checkin_id": checkin.id})
    await message.answer(
        _(
            "In which time zone are the times of this check-in? Choose one, or type its name,"
            " for example Europe/Paris."
        ),
        reply_markup=keyboard(
            [
                [_button(fmt.time_zone(zone, current_language()), "zone", checkin.id, index)]
                for index, zone in enumerate(ZONES)
            ]
        ),
    )


async def _set_zone(
    message: Message,
    session: AsyncSession,
    person: Person,
    checkin: Checkin,
    zone: str,
    *,
    edit_in_place: bool,
) -> None:
    schedule = replace(Schedule.from_json(checkin.schedule), timezone=zone)
    await _saved(message, session, person, checkin, edit_in_place=edit_in_place, schedule=schedule)


@router.callback_query(CheckinAdmin.filter(F.action == "zone"))
async def zone_chosen(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    if not 0 <= callback_data.value < len(ZONES):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await state.clear()
    await query.answer()
    await _set_zone(
        message, session, person, checkin, ZONES[callback_data.value], edit_in_place=True
    )


@router.message(StateFilter(EditCheckin.timezone), Typed())
async def zone_typed(
    message: Message, state: FSMContext, session: AsyncSession, person: Person
) -> None:
    if (checkin := await _editing(state, session, message)) is None:
        return
    zone = find_timezone(normalize_text(message.text or "")[:64])
    if zone is None:
        await message.answer(
            _("I don't know that time zone. Type it like Asia/Tehran or Europe/Paris.")
        )
        return
    await state.clear()
    await _set_zone(message, session, person, checkin, zone, edit_in_place=False)


@router.callback_query(CheckinAdmin.filter(F.action == "window"))
async def ask_window_day(
    query: CallbackQuery, callback_data: CheckinAdmin, message: Message, session: AsyncSession
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await query.answer()
    await message.edit_text(
        _("Until which day are answers taken?"),
        reply_markup=keyboard(
            [
                [
                    _button(_("The same day"), "windays", checkin.id, 0),
                    _button(_("The next day"), "windays", checkin.id, 1),
                ],
                [
                    _button(
                        _("{days} days later").format(days=number(days)),
                        "windays",
                        checkin.id,
                        days,
                    )
                    for days in (2, 3, 6)
                ],
                [_button(_("« Back"), "edit", checkin.id)],
            ]
        ),
    )


@router.callback_query(CheckinAdmin.filter(F.action == "windays"))
async def ask_window_time(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    if not 0 <= callback_data.value <= 6:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await _ask(
        state,
        message,
        checkin,
        EditCheckin.window_time,
        _("Until what time that day? For example {example}").format(
            example=fmt.localize_digits("20:00", current_language())
        ),
        days_after=callback_data.value,
    )


@router.message(StateFilter(EditCheckin.window_time), Typed())
async def window_time_typed(
    message: Message, state: FSMContext, session: AsyncSession, person: Person
) -> None:
    if (checkin := await _editing(state, session, message)) is None:
        return
    if (at := await _typed_time(message)) is None:
        return
    days_after = int((await state.get_data())["days_after"])
    window = replace(Window.from_json(checkin.window), days_after=days_after, at=at)
    if not window.fits(Schedule.from_json(checkin.schedule)):
        await message.answer(
            _("That is before the round begins; answers must be taken after {time}.").format(
                time=time_text(Schedule.from_json(checkin.schedule).at, current_language())
            )
        )
        return
    await state.clear()
    await _saved(message, session, person, checkin, edit_in_place=False, window=window)


@router.callback_query(CheckinAdmin.filter(F.action == "remind"))
async def ask_reminders(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await query.answer()
    await state.set_state(EditCheckin.reminders)
    await state.set_data({"checkin_id": checkin.id})
    await message.answer(
        _(
            "How many hours after the question should those who have not answered be"
            " reminded? Up to three, for example {example}."
        ).format(example=fmt.localize_digits("4, 20", current_language())),
        reply_markup=keyboard([[_button(_("No reminders"), "noremind", checkin.id)]]),
    )


@router.callback_query(CheckinAdmin.filter(F.action == "noremind"))
async def no_reminders(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await state.clear()
    await query.answer()
    window = replace(Window.from_json(checkin.window), reminders_after_min=())
    await _saved(message, session, person, checkin, edit_in_place=True, window=window)


def read_hours(typed: str) -> list[Decimal] | None:
    """«۴، ۲۰» or «4, 20» or «1.5» → hours; None when any part is not a positive number."""
    parts = [part for part in normalize_text(typed).replace("،", ",").split(",") if part.strip()]
    hours = [parse_decimal(part) for part in parts]
    if not hours or any(hour is None or not 0 < hour <= MAX_REMINDER_HOURS for hour in hours):
        return None
    return sorted(hour for hour in hours if hour is not None)


@router.message(StateFilter(EditCheckin.reminders), Typed())
async def reminders_typed(
    message: Message, state: FSMContext, session: AsyncSession, person: Person
) -> None:
    if (checkin := await _editing(state, session, message)) is None:
        return
    hours = read_hours((message.text or "")[:200])
    if hours is None or len(hours) > MAX_REMINDERS:
        await message.answer(
            _("Please type up to three numbers of hours, for example {example}.").format(
                example=fmt.localize_digits("4, 20", current_language())
            )
        )
        return
    window = Window.from_json(checkin.window)
    length = window.length(Schedule.from_json(checkin.schedule))
    if any(timedelta(hours=float(hour)) >= length for hour in hours):
        await message.answer(
            _("Answers are only taken for {hours} hours; a reminder must come before that.").format(
                hours=hours_text(int(length.total_seconds() // 60), current_language())
            )
        )
        return
    await state.clear()
    minutes = tuple(int(hour * 60) for hour in hours)
    await _saved(
        message,
        session,
        person,
        checkin,
        edit_in_place=False,
        window=replace(window, reminders_after_min=minutes),
    )


@router.callback_query(CheckinAdmin.filter(F.action == "summary"))
async def ask_summary_target(
    query: CallbackQuery, callback_data: CheckinAdmin, message: Message, session: AsyncSession
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await query.answer()
    current = SummaryTo(checkin.summary_to)
    await message.edit_text(
        _("Where should each round's summary go?"),
        reply_markup=keyboard(
            [
                [
                    _button(
                        ("✅ " if target is current else "") + _(SUMMARY_NAMES[target]),
                        "sumto",
                        checkin.id,
                        index,
                    )
                ]
                for index, target in enumerate(SummaryTo)
            ]
            + [[_button(_("« Back"), "edit", checkin.id)]]
        ),
    )


@router.callback_query(CheckinAdmin.filter(F.action == "sumto"))
async def summary_target_chosen(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    targets = list(SummaryTo)
    if not 0 <= callback_data.value < len(targets):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await _saved(
        message,
        session,
        person,
        checkin,
        edit_in_place=True,
        summary_to=targets[callback_data.value],
    )


@router.callback_query(CheckinAdmin.filter(F.action == "skip"))
async def ask_skip_date(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await query.answer()
    language = current_language()
    skipped = sorted(Schedule.from_json(checkin.schedule).skip_dates)
    await state.set_state(EditCheckin.skip_date)
    await state.set_data({"checkin_id": checkin.id})
    await message.answer(
        _("On which day should there be no round? Type the date, for example {example}.").format(
            example=fmt.localize_digits("1405/01/01", language)
        )
        + ("\n" + _("Press a skipped day to have its round after all.") if skipped else ""),
        reply_markup=keyboard(
            [
                [_button("↩️ " + fmt.day(day, language), "unskip", checkin.id, day.toordinal())]
                for day in skipped
            ]
        ),
    )


@router.message(StateFilter(EditCheckin.skip_date), Typed())
async def skip_date_typed(
    message: Message, state: FSMContext, session: AsyncSession, person: Person
) -> None:
    if (checkin := await _editing(state, session, message)) is None:
        return
    try:
        day = parse_day((message.text or "")[:40])
    except MomentError as error:
        await message.answer(
            _("There is no such day in the calendar.")
            if error.impossible
            else _("Please type the date like {example}.").format(
                example=fmt.localize_digits("1405/01/01", current_language())
            )
        )
        return
    await state.clear()
    await checkins.skip_date(session, checkin.id, day, person.id)
    await message.answer(_("✅ No round on {day}.").format(day=fmt.day(day, current_language())))
    await _show_card(message, session, checkin.id, in_place=False)


@router.callback_query(CheckinAdmin.filter(F.action == "unskip"))
async def unskip(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    try:
        day = date.fromordinal(callback_data.value)
    except (ValueError, OverflowError):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await state.clear()
    await checkins.skip_date(session, checkin.id, day, person.id, skipped=False)
    await query.answer(_("Done."))
    await _show_card(message, session, checkin.id)


# Questions


def _questions_keyboard(checkin: Checkin) -> InlineKeyboardMarkup:
    count = len(checkin.questions)
    language = current_language()
    rows = [
        [
            _button(
                _("🗑 Remove question {n}").format(n=fmt.number(n, language)), "qdel", checkin.id, n
            )
        ]
        for n in range(1, count + 1)
        if count > 1
    ]
    if count < MAX_QUESTIONS:
        rows.append([_button(_("➕ Add a question"), "qadd", checkin.id)])
    rows.append([_button(_("↺ The three default questions"), "qdefault", checkin.id)])
    rows.append([_button(_("« Back"), "edit", checkin.id)])
    return keyboard(rows)


@router.callback_query(CheckinAdmin.filter(F.action == "questions"))
async def show_questions(
    query: CallbackQuery, callback_data: CheckinAdmin, message: Message, session: AsyncSession
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=_questions_keyboard(checkin))


@router.callback_query(CheckinAdmin.filter(F.action.in_({"qdel", "qdefault"})))
async def remove_question(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    questions = checkins.questions_of(checkin)
    if callback_data.action == "qdefault":
        questions = list(DEFAULT_QUESTIONS)
    elif len(questions) > 1 and 1 <= callback_data.value <= len(questions):
        del questions[callback_data.value - 1]
    else:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer(_("Done."))
    await checkins.edit(session, checkin.id, person.id, questions=questions)
    found = await _found(session, checkin.id)
    assert found is not None
    await message.edit_text(
        card_text(*found, current_language()), reply_markup=_questions_keyboard(checkin)
    )


@router.callback_query(CheckinAdmin.filter(F.action == "qadd"))
async def ask_question_kind(
    query: CallbackQuery, callback_data: CheckinAdmin, message: Message, session: AsyncSession
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await query.answer()
    await message.answer(
        _("What kind of answer does the new question take?"),
        reply_markup=keyboard(
            [
                [_button(_(KIND_NAMES[kind]), "qkind", checkin.id, index)]
                for index, kind in enumerate(Kind)
            ]
        ),
    )


@router.callback_query(CheckinAdmin.filter(F.action == "qkind"))
async def ask_question_fa(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    kinds = list(Kind)
    if not 0 <= callback_data.value < len(kinds) or len(checkin.questions) >= MAX_QUESTIONS:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    if kinds[callback_data.value] is Kind.INDICATOR:
        await _choose_indicator(message, session, checkin)
        return
    await _ask(
        state,
        message,
        checkin,
        EditCheckin.question_fa,
        _("Write the question in Persian, or «-» to write it only in English."),
        kind=kinds[callback_data.value].value,
    )


async def _choose_indicator(message: Message, session: AsyncSession, checkin: Checkin) -> None:
    language = current_language()
    found = await indicators.all_indicators(session)
    if not found:
        await message.answer(_("There are no indicators yet. Define one with /newindicator."))
        return
    await message.answer(
        _("Which indicator do the answers report?"),
        reply_markup=keyboard(
            [
                [_button(pick(item.name, language)[:60], "qind", checkin.id, item.id)]
                for item in found
            ]
        ),
    )


@router.callback_query(CheckinAdmin.filter(F.action == "qind"))
async def indicator_question(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    indicator = await session.get(Indicator, callback_data.value)
    if indicator is None or len(checkin.questions) >= MAX_QUESTIONS:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    text = {
        language: f"{pick(indicator.name, language)} ({pick(indicator.unit, language)})؟"
        if language == "fa"
        else f"{pick(indicator.name, language)} ({pick(indicator.unit, language)})?"
        for language in ("fa", "en")
    }
    question = Question(text, Kind.INDICATOR, indicator_id=indicator.id)
    await _add_question(message, session, person, checkin, question)


def _question_text(typed: str) -> str | None:
    text = normalize_text(typed)
    return text if 0 < len(text) <= QUESTION_MAX else None


@router.message(StateFilter(EditCheckin.question_fa), Typed())
async def question_fa_typed(message: Message, state: FSMContext, session: AsyncSession) -> None:
    if await _editing(state, session, message) is None:
        return
    typed = normalize_text(message.text or "")
    if not is_skip(typed) and _question_text(typed) is None:
        await too_long(message, QUESTION_MAX)
        return
    await state.update_data({"fa": "" if is_skip(typed) else typed})
    await state.set_state(EditCheckin.question_en)
    await message.answer(
        _("Now in English, or «-» to keep it only in Persian.")
        if not is_skip(typed)
        else _("Now in English.")
    )


@router.message(StateFilter(EditCheckin.question_en), Typed())
async def question_en_typed(
    message: Message, state: FSMContext, session: AsyncSession, person: Person
) -> None:
    if (checkin := await _editing(state, session, message)) is None:
        return
    typed = normalize_text(message.text or "")
    data = await state.get_data()
    skipped = is_skip(typed)
    if (skipped and not data["fa"]) or (not skipped and _question_text(typed) is None):
        await too_long(message, QUESTION_MAX) if not skipped else await message.answer(
            _("The question needs a text in at least one language.")
        )
        return
    text = {
        lang: value
        for lang, value in (("fa", data["fa"]), ("en", "" if skipped else typed))
        if value
    }
    if Kind(data["kind"]) is Kind.CHOICE:
        await state.update_data({"text": text})
        await state.set_state(EditCheckin.choices)
        await message.answer(
            _(
                "Send the choices, one per line (two to eight). To give both languages, write"
                " «Persian / English» on a line."
            )
        )
        return
    await state.clear()
    await _add_question(message, session, person, checkin, Question(text, Kind(data["kind"])))


@router.message(StateFilter(EditCheckin.choices), Typed())
async def choices_typed(
    message: Message, state: FSMContext, session: AsyncSession, person: Person
) -> None:
    if (checkin := await _editing(state, session, message)) is None:
        return
    choices = read_bilingual_lines(message.text or "", CHOICE_MAX, 2, MAX_CHOICES)
    if choices is None:
        await message.answer(
            _(
                "Please send two to eight choices, one per line, each up to {limit} characters."
            ).format(limit=number(CHOICE_MAX))
        )
        return
    data = await state.get_data()
    await state.clear()
    await _add_question(
        message, session, person, checkin, Question(data["text"], Kind.CHOICE, tuple(choices))
    )


async def _add_question(
    message: Message, session: AsyncSession, person: Person, checkin: Checkin, question: Question
) -> None:
    questions = [*checkins.questions_of(checkin), question][:MAX_QUESTIONS]
    await _saved(message, session, person, checkin, edit_in_place=False, questions=questions)


# Pause, resume, delete


@router.callback_query(CheckinAdmin.filter(F.action.in_({"pause", "resume"})))
async def pause_or_resume(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    paused = callback_data.action == "pause"
    if await checkins.set_paused(session, callback_data.checkin, paused, person.id) is None:
        await query.answer(_("That check-in no longer exists."), show_alert=True)
        return
    await query.answer(_("Paused.") if paused else _("Resumed."))
    await session.flush()
    await _show_card(message, session, callback_data.checkin)


@router.callback_query(CheckinAdmin.filter(F.action == "delete"))
async def confirm_delete(
    query: CallbackQuery, callback_data: CheckinAdmin, message: Message, session: AsyncSession
) -> None:
    if (checkin := await _checkin_of(query, session, callback_data)) is None:
        return
    await query.answer()
    await message.edit_reply_markup(
        reply_markup=keyboard(
            [
                [
                    _button(
                        _("🗑 Yes, delete it with its rounds and answers"), "deleteyes", checkin.id
                    )
                ],
                [_button(_("« Back"), "edit", checkin.id)],
            ]
        )
    )


@router.callback_query(CheckinAdmin.filter(F.action == "deleteyes"))
async def delete(
    query: CallbackQuery,
    callback_data: CheckinAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    if not await checkins.remove(session, callback_data.checkin, person.id):
        await query.answer(_("That check-in no longer exists."), show_alert=True)
        return
    await query.answer(_("Deleted."))
    await session.flush()
    text, keyboard = await _list_page(session)
    await message.edit_text(text, reply_markup=keyboard)
