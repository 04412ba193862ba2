"""Meetings: staff invite groups (with a calendar file and RSVP buttons), move or cancel a
meeting, mark attendance and send a follow-up; members see /meetings and answer. The clock
sends reminders and sets up the next meeting of a series."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import charts, clock
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.content import Button, Content, Media, pick
from bot.delivery.outbox import Outgoing
from bot.groups import service as groups
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.i18n.normalize import MomentError, is_skip, normalize_text, parse_moment
from bot.meetings import calendar
from bot.meetings import service as meetings
from bot.meetings.models import Meeting, MeetingStatus, Rsvp
from bot.meetings.recurrence import Frequency, from_first, weekday_of_month
from bot.meetings.service import ChangeProblem, Invitee, RsvpProblem
from bot.people import service as people
from bot.people.models import Person, Role
from bot.telegram.app import Hamgam
from bot.telegram.filters import PrivateChat, Typed
from bot.telegram.guards import Onboarded, RequireRole
from handlers.forms import keyboard, too_long
from handlers.locale import current_language, in_each_language, number

router = Router(name="meetings")  # members
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())
staff_router = Router(name="meetings.staff")
staff_router.message.filter(PrivateChat(), Onboarded())
staff_router.callback_query.filter(PrivateChat(), Onboarded())
staff_router.message.middleware(RequireRole(Role.STAFF))
staff_router.callback_query.middleware(RequireRole(Role.STAFF))

TITLE_MAX, AGENDA_MAX, PLACE_MAX, FOLLOW_UP_MAX = 200, 600, 300, 3000
DURATIONS_MIN = (30, 60, 90, 120)
RSVP_LABELS = {
    Rsvp.YES: N_("✅ I'll come"),
    Rsvp.NO: N_("❌ I can't come"),
    Rsvp.MAYBE: N_("🤔 Maybe"),
}
# Headings of the names in the staff's list of a meeting.
RSVP_NAMES = {
    Rsvp.YES: N_("Coming"),
    Rsvp.NO: N_("Not coming"),
    Rsvp.MAYBE: N_("Maybe"),
}
REPEATS = {
    "once": N_("Does not repeat"),
    Frequency.WEEKLY.value: N_("Every week"),
    Frequency.FORTNIGHTLY.value: N_("Every two weeks"),
    Frequency.MONTHLY_WEEKDAY.value: N_("Same weekday each month (e.g. first Saturday)"),
    Frequency.MONTHLY_DAY.value: N_("Same date each month"),
}
REMINDER_CHOICES = {"24h1h": (24 * 60, 60), "1h": (60,), "none": ()}
STAFF = 0  # in the list of groups to invite: the backbone staff, who form no group


class MeetingButton(CallbackData, prefix="mtg"):
    action: str
    meeting: int = 0
    value: str = ""


class NewMeeting(StatesGroup):
    title_fa = State()
    title_en = State()
    agenda_fa = State()
    agenda_en = State()
    starts = State()
    place = State()


class ChangeMeeting(StatesGroup):
    new_time = State()
    follow_up = State()


# How a meeting reads


def when_text(meeting: Meeting, language: str) -> str:
    return fmt.moment(meeting.starts_at, language, _zone(meeting))


def _zone(meeting: Meeting) -> ZoneInfo:
    return ZoneInfo(meeting.timezone)


def details(meeting: Meeting, language: str, agenda_limit: int = AGENDA_MAX) -> list[str]:
    lines = [
        "🗓 " + when_text(meeting, language),
        "⏱ " + _("{minutes} minutes").format(minutes=fmt.number(meeting.duration_min, language)),
    ]
    if meeting.place:
        lines.append("📍 " + escape(meeting.place))
    if meeting.link:
        lines.append("🔗 " + escape(meeting.link))
    if agenda := pick(meeting.agenda, language):
        shown = agenda if len(agenda) <= agenda_limit else agenda[: agenda_limit - 1] + "…"
        lines.append("\n" + _("<b>Agenda</b>") + "\n" + escape(shown))
    return lines


def rsvp_buttons(meeting: Meeting) -> list[list[Button]]:
    return [
        [
            Button(
                in_each_language(lambda _language, rsvp=rsvp: _(RSVP_LABELS[rsvp])),
                MeetingButton(action="rsvp", meeting=meeting.id, value=rsvp.value).pack(),
            )
            for rsvp in (Rsvp.YES, Rsvp.NO, Rsvp.MAYBE)
        ]
    ]


def invitation(meeting: Meeting, calendar: Media) -> Content:
    def text(language: str) -> str:
        head = _("📅 You are invited: <b>{title}</b>").format(
            title=escape(pick(meeting.title, language))
        )
        return (
            "\n".join([head, *details(meeting, language, agenda_limit=500)])
            + "\n\n"
            + _("Will you come? The attached file adds it to your calendar.")
        )

    return Content(text=in_each_language(text), media=calendar, buttons=rsvp_buttons(meeting))


def moved(meeting: Meeting, previous: datetime, calendar: Media) -> Content:
    def text(language: str) -> str:
        return "\n".join(
            [
                _("🕒 <b>{title}</b> has moved (it was {previous}).").format(
                    title=escape(pick(meeting.title, language)),
                    previous=fmt.moment(previous, language, _zone(meeting)),
                ),
                *details(meeting, language, agenda_limit=400),
            ]
        )

    return Content(text=in_each_language(text), media=calendar, buttons=rsvp_buttons(meeting))


def cancelled(meeting: Meeting, calendar: Media) -> Content:
    def text(language: str) -> str:
        return _("✖ <b>{title}</b> on {when} is cancelled.").format(
            title=escape(pick(meeting.title, language)), when=when_text(meeting, language)
        )

    return Content(text=in_each_language(text), media=calendar)


def reminder(meeting: Meeting) -> Content:
    def text(language: str) -> str:
        return "\n".join(
            [
                _("⏰ A reminder: <b>{title}</b>").format(
                    title=escape(pick(meeting.title, language))
                ),
                *details(meeting, language, agenda_limit=300),
            ]
        )

    return Content(text=in_each_language(text))


def _rows(
    meeting: Meeting, people: list[Invitee], kind: str, content: Content, **extra: Any
) -> list[Outgoing]:
    return [
        Outgoing(
            f"{meeting.batch}:{meeting.sequence}:{person.person_id}:{kind}",
            person.telegram_id,
            content,
            person_id=person.person_id,
            batch=meeting.batch,
            **extra,
        )
        for person in people
    ]


# Members


RSVP_PROBLEMS = {
    RsvpProblem.NOT_INVITED: N_("You are not invited to this meeting."),
    RsvpProblem.CANCELLED: N_("This meeting was cancelled."),
    RsvpProblem.STARTED: N_("This meeting has already begun."),
}


@router.callback_query(MeetingButton.filter(F.action == "rsvp"))
async def rsvp_chosen(
    query: CallbackQuery,
    callback_data: MeetingButton,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    try:
        rsvp = Rsvp(callback_data.value)
    except ValueError:
        rsvp = Rsvp.PENDING
    if rsvp is Rsvp.PENDING:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    result = await meetings.answer(session, callback_data.meeting, person.id, rsvp)
    if isinstance(result, RsvpProblem):
        await query.answer(_(RSVP_PROBLEMS[result]), show_alert=True)
        return
    await query.answer(
        _("Noted: {answer}. You can change it until the meeting begins.").format(
            answer=_(RSVP_LABELS[rsvp])
        )
    )
    await message.edit_reply_markup(reply_markup=_my_rsvp_keyboard(result, rsvp))


def _my_rsvp_keyboard(meeting: Meeting, chosen: Rsvp) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [
                (
                    ("● " if rsvp is chosen else "") + _(RSVP_LABELS[rsvp]),
                    MeetingButton(action="rsvp", meeting=meeting.id, value=rsvp.value),
                )
                for rsvp in (Rsvp.YES, Rsvp.NO, Rsvp.MAYBE)
            ]
        ]
    )


@router.message(Command("meetings"))
async def my_meetings(
    message: Message, session: AsyncSession, person: Person, roles: frozenset[Role]
) -> None:
    language = current_language()
    mine = await meetings.upcoming_for(session, person.id, clock.now())
    if not mine and Role.STAFF not in roles:
        await message.answer(_("You have no upcoming meetings."))
    for item in mine:
        text = "\n".join(
            [
                f"📅 <b>{escape(pick(item.meeting.title, language))}</b>",
                *details(item.meeting, language, agenda_limit=300),
                _("Your answer: {answer}").format(answer=_(RSVP_LABELS[item.rsvp]))
                if item.rsvp in RSVP_LABELS
                else _("You have not answered yet."),
            ]
        )
        await message.answer(text, reply_markup=_my_rsvp_keyboard(item.meeting, item.rsvp))
    if Role.STAFF in roles:
        await _staff_list(message, session)


# Staff: a new meeting


@staff_router.message(Command("newmeeting"))
async def new_meeting(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await state.clear()
    summaries = await groups.summaries(session)
    if not summaries:
        await message.answer(_("Make a group first with /newgroup."))
        return
    await state.set_data({"groups": [], "choices": [STAFF, *(s.group.id for s in summaries)]})
    await message.answer(
        _("Which groups are invited? Press each, then «Done»."),
        reply_markup=await _groups_keyboard(session, []),
    )


async def _groups_keyboard(session: AsyncSession, chosen: list[int]) -> InlineKeyboardMarkup:
    language = current_language()
    rows = [
        [
            (
                ("☑ " if summary.group.id in chosen else "☐ ") + summary.group.name(language)[:40],
                MeetingButton(action="group", value=str(summary.group.id)),
            )
        ]
        for summary in await groups.summaries(session)
    ]
    rows.append(
        [
            (
                ("☑ " if STAFF in chosen else "☐ ") + _("Backbone staff"),
                MeetingButton(action="group", value=str(STAFF)),
            )
        ]
    )
    rows.append([(_("Done"), MeetingButton(action="groups_done"))])
    return keyboard(rows)


@staff_router.callback_query(MeetingButton.filter(F.action == "group"))
async def toggle_group(
    query: CallbackQuery,
    callback_data: MeetingButton,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    data = await state.get_data()
    if not callback_data.value.isdigit() or int(callback_data.value) not in data.get("choices", []):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    chosen = set(data.get("groups", [])) ^ {int(callback_data.value)}
    await state.update_data({"groups": sorted(chosen)})
    await query.answer()
    await message.edit_reply_markup(reply_markup=await _groups_keyboard(session, sorted(chosen)))


@staff_router.callback_query(MeetingButton.filter(F.action == "groups_done"))
async def groups_done(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    if not data.get("groups"):
        await query.answer(_("Choose at least one."), show_alert=True)
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await state.set_state(NewMeeting.title_fa)
    await message.answer(_("The meeting's title in Persian? (or «-» for English only)"))


def _text(message: Message, limit: int) -> str | None:
    text = normalize_text(message.text or "")
    return text if 0 < len(text) <= limit else None


@staff_router.message(StateFilter(NewMeeting.title_fa), Typed())
async def title_fa_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    if not is_skip(typed) and _text(message, TITLE_MAX) is None:
        await too_long(message, TITLE_MAX)
        return
    await state.update_data({"title_fa": "" if is_skip(typed) else typed})
    await state.set_state(NewMeeting.title_en)
    await message.answer(_("And in English? (or «-» to keep it only in Persian)"))


@staff_router.message(StateFilter(NewMeeting.title_en), Typed())
async def title_en_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    data = await state.get_data()
    if is_skip(typed) and not data.get("title_fa"):
        await message.answer(_("The title needs a text in at least one language."))
        return
    if not is_skip(typed) and _text(message, TITLE_MAX) is None:
        await too_long(message, TITLE_MAX)
        return
    await state.update_data({"title_en": "" if is_skip(typed) else typed})
    await state.set_state(NewMeeting.agenda_fa)
    await message.answer(_("The agenda in Persian? (or «-» for none)"))


@staff_router.message(StateFilter(NewMeeting.agenda_fa), Typed())
async def agenda_fa_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    if not is_skip(typed) and _text(message, AGENDA_MAX) is None:
        await too_long(message, AGENDA_MAX)
        return
    await state.update_data({"agenda_fa": "" if is_skip(typed) else typed})
    await state.set_state(NewMeeting.agenda_en)
    await message.answer(_("And in English? (or «-» for none)"))


def _example() -> str:
    return "۱۴۰۵/۰۹/۱۵ ۱۸:۰۰" if current_language() == "fa" else "2026-12-06 18:00"


@staff_router.message(StateFilter(NewMeeting.agenda_en), Typed())
async def agenda_en_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    if not is_skip(typed) and _text(message, AGENDA_MAX) is None:
        await too_long(message, AGENDA_MAX)
        return
    await state.update_data({"agenda_en": "" if is_skip(typed) else typed})
    await state.set_state(NewMeeting.starts)
    await message.answer(
        _("When does it start? Type the date and time, for example {example}").format(
            example=_example()
        )
    )


async def _typed_start(message: Message, hamgam: Hamgam) -> datetime | None:
    """A start in the future, or None after saying what was wrong."""
    try:
        moment = parse_moment(message.text or "", hamgam.settings.tz)
    except MomentError as error:
        await message.answer(
            _("There is no such day in the calendar. Please type the date again.")
            if error.impossible
            else _("Please type the date and time like {example}.").format(example=_example())
        )
        return None
    if moment <= clock.now():
        await message.answer(_("That time has passed. Please type a time in the future."))
        return None
    return moment


@staff_router.message(StateFilter(NewMeeting.starts), Typed())
async def start_typed(message: Message, state: FSMContext, hamgam: Hamgam) -> None:
    if (moment := await _typed_start(message, hamgam)) is None:
        return
    await state.update_data({"starts": moment.isoformat()})
    await state.set_state(None)
    await message.answer(
        _("How long is it?"),
        reply_markup=keyboard(
            [
                [
                    (
                        _("{minutes} min").format(minutes=number(minutes)),
                        MeetingButton(action="duration", value=str(minutes)),
                    )
                    for minutes in DURATIONS_MIN
                ]
            ]
        ),
    )


@staff_router.callback_query(MeetingButton.filter(F.action == "duration"))
async def duration_chosen(
    query: CallbackQuery, callback_data: MeetingButton, message: Message, state: FSMContext
) -> None:
    if "starts" not in await state.get_data() or callback_data.value not in map(str, DURATIONS_MIN):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await state.update_data({"duration": int(callback_data.value)})
    await state.set_state(NewMeeting.place)
    await message.answer(_("Where? Type the place, or a link for an online meeting."))


@staff_router.message(StateFilter(NewMeeting.place), Typed())
async def place_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    if _text(message, PLACE_MAX) is None:
        await too_long(message, PLACE_MAX)
        return
    online = typed.lower().startswith(("https://", "http://"))
    await state.update_data({"place": None if online else typed, "link": typed if online else None})
    await state.set_state(None)
    await message.answer(
        _("Does it repeat?"),
        reply_markup=keyboard(
            [
                [(_(label), MeetingButton(action="repeat", value=key))]
                for key, label in REPEATS.items()
            ]
        ),
    )


@staff_router.callback_query(MeetingButton.filter(F.action == "repeat"))
async def repeat_chosen(
    query: CallbackQuery, callback_data: MeetingButton, message: Message, state: FSMContext
) -> None:
    if "duration" not in await state.get_data() or callback_data.value not in REPEATS:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await state.update_data({"repeat": callback_data.value})
    await message.edit_text(
        _("Send reminders to those who have not declined?"),
        reply_markup=keyboard(
            [
                [(_("24 hours and 1 hour before"), MeetingButton(action="remind", value="24h1h"))],
                [(_("1 hour before"), MeetingButton(action="remind", value="1h"))],
                [(_("No reminders"), MeetingButton(action="remind", value="none"))],
            ]
        ),
    )


@staff_router.callback_query(MeetingButton.filter(F.action == "remind"))
async def reminders_chosen(
    query: CallbackQuery,
    callback_data: MeetingButton,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    data = await state.get_data()
    if "repeat" not in data or callback_data.value not in REMINDER_CHOICES:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    data = await state.update_data({"reminders": list(REMINDER_CHOICES[callback_data.value])})
    language = current_language()
    names = [g.name(language) for g in (await groups.by_ids(session, data["groups"])).values()]
    if STAFF in data["groups"]:
        names.append(_("Backbone staff"))
    title = data.get("title_fa") if language == "fa" else data.get("title_en")
    lines = [
        _("📅 <b>{title}</b>").format(
            title=escape(title or data.get("title_fa") or data.get("title_en") or "")
        ),
        "🗓 " + fmt.moment(datetime.fromisoformat(data["starts"]), language),
        "⏱ " + _("{minutes} minutes").format(minutes=number(data["duration"])),
        "📍 " + escape(data.get("place") or data.get("link") or ""),
        "🔁 " + _(REPEATS[data["repeat"]]),
        "👥 " + escape(fmt.listing(names, language)),
    ]
    agenda = {"fa": data.get("agenda_fa") or "", "en": data.get("agenda_en") or ""}
    if shown := pick(agenda, language):
        lines.append("\n" + _("<b>Agenda</b>") + "\n" + escape(shown))
    await message.edit_text(
        "\n".join(lines),
        reply_markup=keyboard(
            [
                [
                    (_("📨 Send the invitations"), MeetingButton(action="create")),
                    (_("✖ Discard"), MeetingButton(action="discard")),
                ]
            ]
        ),
    )


@staff_router.callback_query(MeetingButton.filter(F.action == "discard"))
async def discard(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await message.answer(_("Discarded. Nothing was sent."))


@staff_router.callback_query(MeetingButton.filter(F.action == "create"))
async def create(
    query: CallbackQuery,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
) -> None:
    data = await state.get_data()
    if "reminders" not in data:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    starts = datetime.fromisoformat(data["starts"])
    if starts <= clock.now():
        await query.answer(
            _("That time has passed. Please type a time in the future."), show_alert=True
        )
        return
    recurrence = None
    if data["repeat"] != "once":
        zone = hamgam.settings.timezone
        frequency = Frequency(data["repeat"])
        nth, _last = weekday_of_month(starts, timezone=zone)
        # A fifth Saturday is not in every month: such a series meets on the last one.
        fifth = frequency is Frequency.MONTHLY_WEEKDAY and nth == 5
        recurrence = from_first(starts, frequency, timezone=zone, last_weekday=fifth)
    meeting, invitees = await meetings.create(
        session,
        title={k: v for k, v in (("fa", data.get("title_fa")), ("en", data.get("title_en"))) if v},
        agenda={
            k: v for k, v in (("fa", data.get("agenda_fa")), ("en", data.get("agenda_en"))) if v
        },
        starts_at=starts,
        duration_min=int(data["duration"]),
        place=data.get("place"),
        link=data.get("link"),
        timezone=hamgam.settings.timezone,
        group_ids=[group_id for group_id in data["groups"] if group_id != STAFF],
        person_ids=[p.id for p in await people.staff(session)] if STAFF in data["groups"] else [],
        reminders_min=data["reminders"],
        recurrence=recurrence,
        author_id=person.id,
    )
    content = invitation(meeting, await calendar.file(session, meeting))
    await outbox.enqueue(session, _rows(meeting, invitees, "invite", content))
    await state.clear()
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await message.answer(
        _("📨 Invitations go to {count} people. See the answers with /meetings.").format(
            count=number(len(invitees))
        )
    )
    hamgam.sender.wake()


# Staff: the list, RSVPs, moving, cancelling, attendance, follow-up


async def _staff_list(message: Message, session: AsyncSession) -> None:
    language = current_language()
    now = clock.now()
    found = await meetings.for_staff(session, now)
    if not found:
        await message.answer(
            _("There are no meetings yet. Send /newmeeting to invite people to one.")
        )
        return
    for meeting in found:
        summary = await meetings.overview(session, meeting)
        counts = _(
            "{yes} coming, {no} not coming, {maybe} maybe and {pending} yet to answer"
        ).format(
            **{
                key: fmt.number(summary.counts[rsvp], language)
                for key, rsvp in (
                    ("yes", Rsvp.YES),
                    ("no", Rsvp.NO),
                    ("maybe", Rsvp.MAYBE),
                    ("pending", Rsvp.PENDING),
                )
            }
        )
        lines = [
            f"📅 <b>#{fmt.number(meeting.id, language)}"
            f" {escape(pick(meeting.title, language))}</b>",
            "🗓 " + when_text(meeting, language),
            counts,
        ]
        for rsvp in (Rsvp.YES, Rsvp.MAYBE, Rsvp.NO):
            if summary.names[rsvp]:
                joined = fmt.listing(summary.names[rsvp][:30], language)
                lines.append(f"{_(RSVP_NAMES[rsvp])}: {escape(joined)}")
        buttons: list[tuple[str, MeetingButton]] = []
        if meeting.status == MeetingStatus.CANCELLED:
            lines.append("✖ " + _("cancelled"))
        elif meeting.starts_at > now:
            buttons = [
                (_("🕒 Change the time"), MeetingButton(action="move", meeting=meeting.id)),
                (_("✖ Cancel the meeting"), MeetingButton(action="cancel", meeting=meeting.id)),
            ]
        else:
            lines.append(
                _("Attendance: {count}").format(count=fmt.number(summary.attended, language))
            )
            buttons = [
                (_("✅ Attendance"), MeetingButton(action="attendance", meeting=meeting.id)),
                (_("✉️ Follow-up"), MeetingButton(action="follow", meeting=meeting.id)),
            ]
        rows = [buttons]
        if meeting.recurrence is not None and not meeting.series_ended:
            rows.append(
                [(_("⏹ Stop repeating"), MeetingButton(action="endseries", meeting=meeting.id))]
            )
        await message.answer("\n".join(lines), reply_markup=keyboard(rows))
    chart = await _attendance_chart(session, language)
    if chart is not None:
        await message.answer_photo(
            BufferedInputFile(chart, "attendance.png"),
            caption=_("Attendance at meetings, per group."),
        )


async def _attendance_chart(session: AsyncSession, language: str) -> bytes | None:
    series = await meetings.attendance_by_group(session, clock.now())
    if not any(rate is not None for points in series.values() for _at, rate in points):
        return None
    names = await groups.by_ids(session, series)
    return charts.line_chart(
        [
            charts.Series(names[group_id].name(language) if group_id in names else "—", points)
            for group_id, points in series.items()
        ],
        language,
        _("Attendance at meetings, per group"),
        percent=True,
    )


CHANGE_PROBLEMS = {
    ChangeProblem.NOT_FOUND: N_("This meeting does not exist."),
    ChangeProblem.CANCELLED: N_("This meeting was cancelled."),
    ChangeProblem.STARTED: N_("This meeting has already begun."),
    ChangeProblem.IN_THE_PAST: N_("That time has passed. Please type a time in the future."),
}


@staff_router.callback_query(MeetingButton.filter(F.action == "move"))
async def ask_new_time(
    query: CallbackQuery,
    callback_data: MeetingButton,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    meeting = await session.get(Meeting, callback_data.meeting)
    if meeting is None or meeting.status != MeetingStatus.SCHEDULED:
        await query.answer(_(CHANGE_PROBLEMS[ChangeProblem.NOT_FOUND]), show_alert=True)
        return
    await query.answer()
    await state.set_state(ChangeMeeting.new_time)
    await state.set_data({"meeting": meeting.id})
    await message.answer(
        _("The new date and time? For example {example}").format(example=_example())
    )


@staff_router.message(StateFilter(ChangeMeeting.new_time), Typed())
async def new_time_typed(
    message: Message, state: FSMContext, session: AsyncSession, person: Person, hamgam: Hamgam
) -> None:
    if (moment := await _typed_start(message, hamgam)) is None:
        return
    meeting_id = int((await state.get_data())["meeting"])
    before = await session.get(Meeting, meeting_id)
    previous = before.starts_at if before else None
    result = await meetings.reschedule(session, meeting_id, moment, person.id)
    await state.clear()
    if isinstance(result, ChangeProblem):
        await message.answer(_(CHANGE_PROBLEMS[result]))
        return
    assert previous is not None
    people = await meetings.invitees_of(session, meeting_id)
    content = moved(result, previous, await calendar.file(session, result))
    await outbox.enqueue(session, _rows(result, people, "moved", content))
    await message.answer(
        _("🕒 Moved to {when}; {count} people will be told.").format(
            when=when_text(result, current_language()), count=number(len(people))
        )
    )
    hamgam.sender.wake()


@staff_router.callback_query(MeetingButton.filter(F.action == "cancel"))
async def confirm_cancel(
    query: CallbackQuery, callback_data: MeetingButton, message: Message
) -> None:
    await query.answer()
    await message.edit_reply_markup(
        reply_markup=keyboard(
            [
                [
                    (
                        _("✖ Yes, cancel the meeting"),
                        MeetingButton(action="cancelyes", meeting=callback_data.meeting),
                    )
                ]
            ]
        )
    )


@staff_router.callback_query(MeetingButton.filter(F.action == "cancelyes"))
async def cancel(
    query: CallbackQuery,
    callback_data: MeetingButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
) -> None:
    result = await meetings.cancel(session, callback_data.meeting, person.id)
    if isinstance(result, ChangeProblem):
        await query.answer(_(CHANGE_PROBLEMS[result]), show_alert=True)
        return
    people = await meetings.invitees_of(session, result.id)
    content = cancelled(result, await calendar.file(session, result))
    await outbox.enqueue(session, _rows(result, people, "cancelled", content))
    await query.answer(_("Cancelled; everyone invited will be told."))
    await message.edit_reply_markup(reply_markup=None)
    hamgam.sender.wake()


@staff_router.callback_query(MeetingButton.filter(F.action == "endseries"))
async def end_series(
    query: CallbackQuery,
    callback_data: MeetingButton,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    if not await meetings.end_series(session, callback_data.meeting, person.id):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer(_("No further meetings of this series will be set."), show_alert=True)


async def _attendance_keyboard(session: AsyncSession, meeting_id: int) -> InlineKeyboardMarkup:
    rows = [
        [
            (
                ("☑ " if attended else "☐ ") + name[:40],
                MeetingButton(action="attended", meeting=meeting_id, value=str(person_id)),
            )
        ]
        for person_id, name, attended in await meetings.attendees(session, meeting_id)
    ]
    rows.append([(_("Done"), MeetingButton(action="attendance_done", meeting=meeting_id))])
    return keyboard(rows)


@staff_router.callback_query(MeetingButton.filter(F.action == "attendance"))
async def attendance(
    query: CallbackQuery, callback_data: MeetingButton, message: Message, session: AsyncSession
) -> None:
    meeting = await session.get(Meeting, callback_data.meeting)
    if meeting is None or meeting.starts_at > clock.now():
        await query.answer(_("Attendance is marked once the meeting has begun."), show_alert=True)
        return
    await query.answer()
    await message.answer(
        _("Who came to <b>{title}</b>? Press each person who was there.").format(
            title=escape(pick(meeting.title, current_language()))
        ),
        reply_markup=await _attendance_keyboard(session, meeting.id),
    )


@staff_router.callback_query(MeetingButton.filter(F.action == "attended"))
async def toggle_attended(
    query: CallbackQuery,
    callback_data: MeetingButton,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    meeting = await session.get(Meeting, callback_data.meeting)
    marked = {
        pid: was for pid, _name, was in await meetings.attendees(session, callback_data.meeting)
    }
    if (
        meeting is None
        or meeting.starts_at > clock.now()
        or not callback_data.value.isdigit()
        or int(callback_data.value) not in marked
    ):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    person_id = int(callback_data.value)
    await meetings.mark_attendance(session, meeting.id, person_id, not marked[person_id], person.id)
    await session.flush()
    await query.answer()
    await message.edit_reply_markup(reply_markup=await _attendance_keyboard(session, meeting.id))


@staff_router.callback_query(MeetingButton.filter(F.action == "attendance_done"))
async def attendance_done(query: CallbackQuery, message: Message) -> None:
    await query.answer(_("Saved."))
    await message.edit_reply_markup(reply_markup=None)


@staff_router.callback_query(MeetingButton.filter(F.action == "follow"))
async def ask_follow_up(
    query: CallbackQuery,
    callback_data: MeetingButton,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    if await session.get(Meeting, callback_data.meeting) is None:
        await query.answer(_(CHANGE_PROBLEMS[ChangeProblem.NOT_FOUND]), show_alert=True)
        return
    await query.answer()
    await state.set_state(ChangeMeeting.follow_up)
    await state.set_data({"meeting": callback_data.meeting})
    await message.answer(_("Write the follow-up (minutes, next steps); it goes as you write it."))


@staff_router.message(StateFilter(ChangeMeeting.follow_up), Typed())
async def follow_up_typed(message: Message, state: FSMContext) -> None:
    if _text(message, FOLLOW_UP_MAX) is None:
        await too_long(message, FOLLOW_UP_MAX)
        return
    await state.update_data({"text": normalize_text(message.text or "")})
    await state.set_state(None)
    meeting_id = int((await state.get_data())["meeting"])
    await message.answer(
        _("To whom?"),
        reply_markup=keyboard(
            [
                [
                    (
                        _("Those who came"),
                        MeetingButton(action="send_follow", meeting=meeting_id, value="attended"),
                    ),
                    (
                        _("Everyone invited"),
                        MeetingButton(action="send_follow", meeting=meeting_id, value="all"),
                    ),
                ]
            ]
        ),
    )


@staff_router.callback_query(MeetingButton.filter(F.action == "send_follow"))
async def send_follow_up(
    query: CallbackQuery,
    callback_data: MeetingButton,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    hamgam: Hamgam,
) -> None:
    data = await state.get_data()
    meeting = await session.get(Meeting, callback_data.meeting)
    if meeting is None or "text" not in data or int(data.get("meeting", 0)) != meeting.id:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    people = await meetings.invitees_of(
        session, meeting.id, attended_only=callback_data.value == "attended"
    )
    body = escape(data["text"])

    def text(language: str) -> str:
        return (
            _("📝 After <b>{title}</b>:").format(title=escape(pick(meeting.title, language)))
            + "\n"
            + body
        )

    count = await outbox.enqueue(
        session,
        [
            Outgoing(
                f"{meeting.batch}:followup:{clock.now().timestamp():.0f}:{p.person_id}",
                p.telegram_id,
                Content(text=in_each_language(text)),
                person_id=p.person_id,
                batch=f"{meeting.batch}:followup",
            )
            for p in people
        ],
    )
    await state.clear()
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await message.answer(_("✉️ The follow-up goes to {count} people.").format(count=number(count)))
    hamgam.sender.wake()


class MeetingClock:
    """Reminders when they fall due; the next meeting of each series once the last has ended."""

    def __init__(self, hamgam: Hamgam) -> None:
        self.hamgam = hamgam

    async def run(self) -> None:
        with self.hamgam.i18n.context():
            async with transaction(self.hamgam.sessions) as session:
                now = clock.now()
                rows: list[Outgoing] = []
                for due in await meetings.due_reminders(session, now):
                    rows += _rows(
                        due.meeting,
                        [due.invitee],
                        f"remind{due.number}",
                        reminder(due.meeting),
                        expires_at=due.meeting.starts_at,
                    )
                for meeting, invitees in await meetings.next_of_series(session, now):
                    content = invitation(meeting, await calendar.file(session, meeting))
                    rows += _rows(meeting, invitees, "invite", content)
                await outbox.enqueue(session, rows)
            if rows:
                self.hamgam.sender.wake()
