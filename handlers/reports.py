"""/report for staff, in a private chat: the period's participation, surveys, reach,
meetings and indicators on one page, with the charts that say it faster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
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

from bot import charts, clock
from bot.background import service as jobs
from bot.background.models import JobKind
from bot.background.service import Job
from bot.config import PROJECT_ROOT
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.content import Content, Media, pick
from bot.delivery.models import DeliveryStatus
from bot.delivery.outbox import Outgoing
from bot.delivery.split import split_html
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.i18n.format import TEHRAN
from bot.meetings.models import Rsvp
from bot.people.audience import Audience, AudienceKind
from bot.people.models import Person, Role
from bot.reports import digest as digests
from bot.reports import summary
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
    await jobs.submit(
        session,
        JobKind.REPORT,
        person_id=person.id,
        chat_id=message.chat.id,
        language=current_language(),
        params=params,
        message_id=message.message_id,
    )
    await session.commit()
    hamgam.submitted()


def job_status(params: dict[str, Any], done: int, total: int | None) -> str:
    """The report's progress message."""
    share = done / total if total else 0.0
    return _("Preparing the report for {period}… {percent}").format(
        period=_(PERIODS[params["period"]]).lower(),
        percent=fmt.percent(min(share, 1.0), current_language()),
    )


async def report_files(
    session: AsyncSession,
    params: dict[str, Any],
    language: str,
    folder: Path,
    progress: Callable[[int, int | None], None],
) -> dict[str, Any]:
    """In the job's child process: the figures, composed in the staff member's language, with
    the pictures and the document written into the job's folder."""
    from aiogram.utils.i18n import I18n

    progress(0, 2)
    report = await summary.build(
        session, datetime.fromisoformat(params["since"]), datetime.fromisoformat(params["until"])
    )
    progress(1, 2)
    i18n = I18n(path=PROJECT_ROOT / "locales", default_locale=language, domain="messages")
    with i18n.context(), i18n.use_locale(language):
        composed = compose_report(report, language)
    photos = []
    for number, (png, name) in enumerate(composed.photos):
        path = folder / f"{number}-{name}"
        path.write_bytes(png)
        photos.append([str(path), name])
    document = None
    if composed.document is not None:
        data, name = composed.document
        path = folder / name
        path.write_bytes(data)
        document = [str(path), name]
    progress(2, 2)
    return {"messages": composed.messages, "photos": photos, "document": document}


def job_results(job: Job, result: dict[str, Any]) -> list[Content]:
    """The report as composed: its messages, its pictures, its document, in that order."""
    language = job.language
    contents = [Content(text={language: text}) for text in result["messages"]]
    contents += [
        Content(text={}, media=Media("photo", path=path, file_name=name))
        for path, name in result["photos"]
    ]
    if result["document"] is not None:
        path, name = result["document"]
        contents.append(Content(text={}, media=Media("document", path=path, file_name=name)))
    return contents


def job_failure(job: Job) -> Content:
    return Content(text={job.language: _("The report could not be made. Please try again later.")})


@router.callback_query(ReportButton.filter())
async def unknown_period(query: CallbackQuery) -> None:
    await query.answer(_("This button has expired."), show_alert=True)


def _rate(done: int, owed: int, language: str) -> str:
    return _("{done} of {owed} ({rate})").format(
        done=fmt.number(done, language),
        owed=fmt.number(owed, language),
        rate=fmt.percent(done / owed if owed else 0, language),
    )


def _rsvps(item: summary.MeetingFigures, language: str) -> str:
    return _("{yes} coming, {no} not coming, {maybe} maybe, {pending} no answer yet").format(
        yes=fmt.number(item.rsvps[Rsvp.YES], language),
        no=fmt.number(item.rsvps[Rsvp.NO], language),
        maybe=fmt.number(item.rsvps[Rsvp.MAYBE], language),
        pending=fmt.number(item.rsvps[Rsvp.PENDING], language),
    )


def _attendance(item: summary.MeetingFigures, language: str) -> str:
    if not item.held:
        return _("to come")
    if not item.marked:
        return _("attendance not marked")
    return _("attended {attended} of {invited}").format(
        attended=fmt.number(item.attended, language), invited=fmt.number(item.invited, language)
    )


def report_text(report: summary.Report, language: str) -> str:
    lines = [
        _("📊 <b>Report</b> · {since} to {until}").format(
            since=fmt.day(report.since, language), until=fmt.day(report.until, language)
        ),
        "",
        _("<b>Check-ins</b> (answered of expected)"),
    ]
    lines += [
        f"• {escape(item.group.name(language))}: {_rate(item.responded, item.expected, language)}"
        + " · "
        + _("{rounds} rounds").format(rounds=fmt.number(item.rounds, language))
        for item in report.participation
    ] or ["• —"]
    lines += ["", _("<b>Surveys</b> (finished of invited)")]
    for figures in report.surveys:
        title = f"• {escape(pick(figures.survey.form['title'], language))}: "
        least = fmt.number(figures.survey.min_responses or 0, language)
        if figures.rates.withheld:  # anonymous, and too few answers to show anything
            lines.append(
                title
                + _("🔒 anonymous, fewer than {least} answers so far: not shown").format(
                    least=least
                )
            )
            continue
        lines.append(title + _rate(*figures.rates.total, language))
        if figures.rates.hidden:
            lines.append(
                "  "
                + _(
                    "🔒 anonymous: areas and working groups where fewer than {least} answered"
                    " are not shown"
                ).format(least=least)
            )
        if figures.rates.areas:
            lines.append(
                "  "
                + _("By area: {rates}").format(
                    rates="؛ ".join(
                        f"{escape(area)} {_rate(*counts, language)}"
                        for area, counts in figures.rates.areas.items()
                    )
                )
            )
        if figures.rates.groups:
            lines.append(
                "  "
                + _("By working group: {rates}").format(
                    rates="؛ ".join(
                        escape(report.group_name(group_id, language))
                        + " "
                        + _rate(*counts, language)
                        for group_id, counts in figures.rates.groups.items()
                    )
                )
            )
    if not report.surveys:
        lines.append("• —")
    reach = report.reach
    lines += [
        "",
        _("<b>Announcements</b>"),
        "• "
        + _(
            "{delivered} delivered of {total} · {unreachable} unreachable · {skipped} not sent"
            " (stopped or gone) · {opted_out} people opted out"
        ).format(
            delivered=fmt.number(reach.delivered, language),
            total=fmt.number(reach.total, language),
            unreachable=fmt.number(reach.statuses[DeliveryStatus.UNREACHABLE], language),
            skipped=fmt.number(reach.statuses[DeliveryStatus.SKIPPED], language),
            opted_out=fmt.number(reach.opted_out, language),
        ),
        "",
        _("<b>Meetings</b>"),
    ]
    lines += [
        f"• {escape(pick(item.meeting.title, language))}"
        f" ({fmt.day(item.meeting.starts_at, language)}): "
        + _rsvps(item, language)
        + " · "
        + _attendance(item, language)
        for item in report.meetings
    ] or ["• —"]
    lines += ["", _("<b>Indicators</b>")]
    for standing in report.standings:
        item = standing.indicator
        progress = (
            fmt.percent(max(standing.progress, 0), language)
            if standing.progress is not None
            else "—"
        )
        lines.append(
            f"• {escape(pick(item.name, language))}: "
            + _("{progress} of the way to the target").format(progress=progress)
        )
    if not report.standings:
        lines.append("• —")
    return "\n".join(lines)


def report_charts(report: summary.Report, language: str) -> list[tuple[bytes, str]]:
    """A chart for each part of the page that has figures, in the page's order."""
    pictures = []
    with_rounds = [item for item in report.participation if item.history]
    if with_rounds:
        pictures.append(
            (
                charts.line_chart(
                    [
                        charts.Series(item.group.name(language), item.history)
                        for item in with_rounds
                    ],
                    language,
                    _("Check-in participation per group"),
                    percent=True,
                ),
                "participation.png",
            )
        )
    shown = [item for item in report.surveys if not item.rates.withheld and item.rates.total[1]]
    if shown:
        pictures.append(
            (
                charts.share_chart(
                    [pick(item.survey.form["title"], language) for item in shown],
                    [item.rates.total[0] / item.rates.total[1] for item in shown],
                    [_rate(*item.rates.total, language) for item in shown],
                    language,
                    _("Surveys: finished of invited"),
                ),
                "surveys.png",
            )
        )
    reach = report.reach
    if reach.total:
        statuses = reach.statuses
        outcomes = {
            _("delivered"): statuses[DeliveryStatus.SENT],
            _("unreachable"): statuses[DeliveryStatus.UNREACHABLE],
            _("not sent (stopped or gone)"): statuses[DeliveryStatus.SKIPPED],
            _("failed"): statuses[DeliveryStatus.FAILED],
            _("still being sent"): statuses[DeliveryStatus.PENDING]
            + statuses[DeliveryStatus.SENDING],
        }
        pictures.append(
            (
                charts.bar_chart(
                    list(outcomes),
                    list(outcomes.values()),
                    language,
                    _("Announcements: what became of each message"),
                ),
                "reach.png",
            )
        )
    invited = [item for item in report.meetings if item.invited]
    if invited:
        pictures.append(
            (
                charts.share_chart(
                    [
                        f"{pick(item.meeting.title, language)}"
                        f" ({fmt.day(item.meeting.starts_at, language)})"
                        for item in invited
                    ],
                    [item.rsvps[Rsvp.YES] / item.invited for item in invited],
                    [_rsvps(item, language) for item in invited],
                    language,
                    _("Meetings: who is coming, of those invited"),
                ),
                "rsvps.png",
            )
        )
    attended = [item for item in invited if item.held and item.marked]
    if attended:
        pictures.append(
            (
                charts.line_chart(
                    [
                        charts.Series(
                            _("attended of invited"),
                            [
                                (item.meeting.starts_at, item.attended / item.invited)
                                for item in attended
                            ],
                        )
                    ],
                    language,
                    _("Attendance at meetings"),
                    percent=True,
                ),
                "meetings.png",
            )
        )
    progressing = [item for item in report.standings if item.progress is not None]
    if progressing:
        pictures.append(
            (
                charts.share_chart(
                    [pick(item.indicator.name, language) for item in progressing],
                    [item.progress or 0.0 for item in progressing],
                    [fmt.percent(max(item.progress or 0.0, 0), language) for item in progressing],
                    language,
                    _("Indicators: the way to the target"),
                ),
                "indicators.png",
            )
        )
    return pictures


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
        state = _("The progress digest goes {how}; next on {moment}.").format(
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
        await query.answer(_("It is so already."))  # the message already says it
        return
    if callback_data.choice == "stop":
        await digests.configure(session, None, None, person.id)
        await query.answer(_("The digest is stopped."))
    else:
        frequency, kind = DIGEST_CHOICES[callback_data.choice]
        digest = await digests.configure(session, frequency, Audience(kind), person.id)
        assert digest is not None and digest.next_at is not None
        await query.answer(
            _("Set. The first one goes on {moment}.").format(
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
            + _("{progress} of the way to the target").format(
                progress=fmt.percent(max(standing.progress, 0), language)
            )
        )
    if len(lines) == 3:
        lines.append("• —")
    lines += ["", _("<b>Check-ins</b> (answered of expected)")]
    lines += [
        f"• {escape(item.group.name(language))}: {_rate(item.responded, item.expected, language)}"
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


# ---- the report as it is sent -----------------------------------------------------------------
# (The one function the report's delivery depends on: what it sends, in order.)


@dataclass(frozen=True)
class ComposedReport:
    messages: list[str]  # HTML, each within Telegram's limit
    photos: list[tuple[bytes, str]]  # PNG, file name
    document: tuple[bytes, str] | None = None


def compose_report(report: summary.Report, language: str) -> ComposedReport:
    """The page of text in as many messages as it takes, then its charts."""
    return ComposedReport(
        messages=split_html(report_text(report, language)),
        photos=report_charts(report, language),
    )
