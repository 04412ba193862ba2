"""/report for staff, in a private chat: the period's participation, surveys, reach,
meetings and indicators on one page, with the charts that say it faster. A background job
makes it (bot/reports/report_job.py, worded in bot/reports/messages.py); here are the
buttons, its progress and what it delivers, and the progress digest."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from persiantools.jdatetime import JalaliDate
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.background.models import JobKind
from bot.background.service import Job
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.content import Content, Media, in_albums, pick
from bot.delivery.outbox import Outgoing
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.i18n.format import TEHRAN
from bot.people.audience import Audience, AudienceKind
from bot.people.models import Person, Role
from bot.reports import digest as digests
from bot.reports import summary
from bot.reports.messages import done_of
from bot.reports.models import Digest, DigestFrequency
from bot.telegram.filters import PrivateChat
from bot.telegram.guards import Onboarded, RequireRole
from handlers.locale import current_language, in_each_language

if TYPE_CHECKING:
    from bot.telegram.app import Hamgam

router = Router(name="reports")
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())
router.message.middleware(RequireRole(Role.STAFF))
router.callback_query.middleware(RequireRole(Role.STAFF))

PERIODS = {
    "30d": N_("The last 30 days"),
    "season": N_("This season"),
    "year": N_("This Persian year"),
}


class ReportButton(CallbackData, prefix="rep"):
    period: str


def period_bounds(key: str, now: datetime) -> tuple[datetime, datetime]:
    """(since, until) for a period staff choose; seasons and years are Jalali, in Tehran."""
    if key == "30d":
        return now - timedelta(days=30), now
    today = JalaliDate(now.astimezone(TEHRAN).date())
    first = (
        JalaliDate(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        if key == "season"
        else JalaliDate(today.year, 1, 1)
    )
    since = datetime.combine(first.to_gregorian(), datetime.min.time(), TEHRAN)
    return since, now


@router.message(Command("report"))
async def choose_period(message: Message) -> None:
    await message.answer(
        _("A report for which period?"),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=_(label), callback_data=ReportButton(period=key).pack())]
                for key, label in PERIODS.items()
            ]
        ),
    )


@router.callback_query(ReportButton.filter(F.period.in_(set(PERIODS))))
async def start_report(
    query: CallbackQuery,
    callback_data: ReportButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
) -> None:
    """The report is made by a background job (its figures take a while at city size); this
    message shows its progress."""
    await query.answer()
    since, until = period_bounds(callback_data.period, clock.now())
    params = {
        "period": callback_data.period,
        "since": since.isoformat(),
        "until": until.isoformat(),
    }
    await message.edit_text(job_status(params, 0, None))
    await hamgam.submit(
        session,
        JobKind.REPORT,
        params,
        person_id=person.id,
        chat_id=message.chat.id,
        language=current_language(),
        message_id=message.message_id,
    )


def job_status(params: dict[str, Any], done: int, total: int | None) -> str:
    """The report's progress message."""
    share = done / total if total else 0.0
    return _("Preparing the report for {period}… {percent}").format(
        period=_(PERIODS[params["period"]]).lower(),
        percent=fmt.percent(min(share, 1.0), current_language()),
    )


def job_results(job: Job, result: dict[str, Any]) -> list[Content]:
    """The report as composed: its messages, its document, its pictures, in that order."""
    language = job.language
    contents = [Content(text={language: text}) for text in result["messages"]]
    if result["document"] is not None:
        path, name = result["document"]
        contents.append(Content(text={}, media=Media("document", path=path, file_name=name)))
    charts = [Media("photo", path=path, file_name=name) for path, name in result["photos"]]
    return contents + in_albums(charts)


def job_failure(job: Job) -> Content:
    return Content(text={job.language: _("The report could not be made. Please try again later.")})


@router.callback_query(ReportButton.filter())
async def unknown_period(query: CallbackQuery) -> None:
    await query.answer(_("This button has expired."), show_alert=True)


DIGEST_CHOICES = {
    "weekly_committee": (DigestFrequency.WEEKLY, AudienceKind.COMMITTEE),
    "monthly_committee": (DigestFrequency.MONTHLY, AudienceKind.COMMITTEE),
    "weekly_everyone": (DigestFrequency.WEEKLY, AudienceKind.EVERYONE),
    "monthly_everyone": (DigestFrequency.MONTHLY, AudienceKind.EVERYONE),
}
DIGEST_LABELS = {
    "weekly_committee": N_("Weekly, to the steering committee"),
    "monthly_committee": N_("Monthly, to the steering committee"),
    "weekly_everyone": N_("Weekly, to everyone"),
    "monthly_everyone": N_("Monthly, to everyone"),
    "stop": N_("Stop the digest"),
}


class DigestButton(CallbackData, prefix="dig"):
    choice: str


def _digest_choice(current: Digest | None) -> str:
    """The key of the choice in force: "stop" when the digest is off, "" if none matches."""
    if current is None or current.next_at is None:
        return "stop"
    return next(
        (
            key
            for key, (frequency, kind) in DIGEST_CHOICES.items()
            if frequency == current.frequency and kind == current.audience["kind"]
        ),
        "",
    )


async def _digest_view(session: AsyncSession) -> tuple[str, InlineKeyboardMarkup]:
    """How the digest stands, with the choices to change it (the one in force is ticked)."""
    language = current_language()
    current = await digests.current(session)
    chosen = _digest_choice(current)
    if current is None or current.next_at is None:
        state = _("The progress digest is off.")
    else:
        state = _("The progress digest goes out {how}. Next one: {moment}.").format(
            how=_(DIGEST_LABELS[chosen]).lower() if chosen else "—",
            moment=fmt.moment(current.next_at, language),
        )
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=("✓ " if key == chosen and key != "stop" else "") + _(label),
                    callback_data=DigestButton(choice=key).pack(),
                )
            ]
            for key, label in DIGEST_LABELS.items()
        ]
    )
    text = (
        state + "\n" + _("It tells how the indicators and the check-ins went since the last one.")
    )
    return text, keyboard


@router.message(Command("digest"))
async def digest_settings(message: Message, session: AsyncSession) -> None:
    text, keyboard = await _digest_view(session)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(DigestButton.filter())
async def digest_chosen(
    query: CallbackQuery,
    callback_data: DigestButton,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    """Changes the digest and shows the message again as it now stands, not only in a pop-up."""
    if callback_data.choice not in DIGEST_LABELS:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    if callback_data.choice == _digest_choice(await digests.current(session)):
        await query.answer(_("That is already the setting."))  # the message already says it
        return
    if callback_data.choice == "stop":
        await digests.configure(session, None, None, person.id)
        await query.answer(_("The progress digest is stopped."))
    else:
        frequency, kind = DIGEST_CHOICES[callback_data.choice]
        digest = await digests.configure(session, frequency, Audience(kind), person.id)
        assert digest is not None and digest.next_at is not None
        await query.answer(
            _("Set. The first one goes out on {moment}.").format(
                moment=fmt.moment(digest.next_at, current_language())
            )
        )
    await session.flush()
    text, keyboard = await _digest_view(session)
    await message.edit_text(text, reply_markup=keyboard)


def digest_text(report: summary.Report, language: str) -> str:
    lines = [
        _("🗞 <b>Progress digest</b> · {since} to {until}").format(
            since=fmt.day(report.since, language), until=fmt.day(report.until, language)
        ),
        "",
        _("<b>Indicators</b>"),
    ]
    for standing in report.standings:
        item = standing.indicator
        if standing.latest is None or standing.progress is None:
            continue
        lines.append(
            f"• {escape(pick(item.name, language))}: "
            + fmt.number(standing.latest, language)
            + f" {escape(pick(item.unit, language))} · "
            + _("{share} of the way to the target").format(
                share=fmt.percent(max(standing.progress, 0), language)
            )
        )
    if len(lines) == 3:
        lines.append("• —")
    lines += ["", _("<b>Check-ins</b> (answers received of those expected)")]
    lines += [
        f"• {escape(item.group.name(language))}: {done_of(item.responded, item.expected, language)}"
        for item in report.participation
    ] or ["• —"]
    return "\n".join(lines)


class DigestClock:
    """Sends the digest when its time comes, through the outbox, once."""

    def __init__(self, hamgam: Hamgam) -> None:
        self.hamgam = hamgam

    async def run(self) -> None:
        with self.hamgam.i18n.context():
            async with transaction(self.hamgam.sessions) as session:
                found = await digests.due(session, clock.now())
                if found is None:
                    return
                content = Content(
                    text=in_each_language(lambda language: digest_text(found.report, language))
                )
                stamp = found.moment.isoformat(timespec="minutes")
                await outbox.enqueue(
                    session,
                    [
                        Outgoing(
                            f"digest:{stamp}:{person_id}",
                            telegram_id,
                            content,
                            person_id=person_id,
                            batch=f"digest:{stamp}",
                        )
                        for person_id, telegram_id, _language in found.readers
                    ],
                )
            self.hamgam.sender.wake()
