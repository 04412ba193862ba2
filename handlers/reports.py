"""/report for staff, in a private chat: the period's participation, surveys, reach,
meetings and indicators on one page, with the charts that say it faster."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from persiantools.jdatetime import JalaliDate
from sqlalchemy.ext.asyncio import AsyncSession

from bot import charts, clock
from bot.delivery.content import pick
from bot.delivery.models import DeliveryStatus
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.i18n.format import TEHRAN
from bot.meetings.models import Rsvp
from bot.people.models import Role
from bot.reports import summary
from bot.telegram.filters import PrivateChat
from bot.telegram.guards import Onboarded, RequireRole
from handlers.locale import current_language

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
async def show_report(
    query: CallbackQuery, callback_data: ReportButton, message: Message, session: AsyncSession
) -> None:
    await query.answer()
    language = current_language()
    since, until = period_bounds(callback_data.period, clock.now())
    report = await summary.build(session, since, until)
    await message.answer(report_text(report, language))
    for png, name in report_charts(report, language):
        await message.answer_photo(BufferedInputFile(png, name))


@router.callback_query(ReportButton.filter())
async def unknown_period(query: CallbackQuery) -> None:
    await query.answer(_("This button has expired."), show_alert=True)


def _rate(done: int, owed: int, language: str) -> str:
    return _("{done} of {owed} ({rate})").format(
        done=fmt.number(done, language),
        owed=fmt.number(owed, language),
        rate=fmt.percent(done / owed if owed else 0, language),
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
    lines += [
        f"• {escape(pick(figures.survey.form['title'], language))}: "
        + _rate(*figures.rates.total, language)
        + (
            " · "
            + "؛ ".join(
                f"{escape(area)} {_rate(*counts, language)}"
                for area, counts in figures.rates.areas.items()
            )
            if figures.rates.areas
            else ""
        )
        for figures in report.surveys
    ] or ["• —"]
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
        + _("{yes} coming, {no} not, {maybe} maybe · attended {attended} of {invited}").format(
            yes=fmt.number(item.rsvps[Rsvp.YES], language),
            no=fmt.number(item.rsvps[Rsvp.NO], language),
            maybe=fmt.number(item.rsvps[Rsvp.MAYBE], language),
            attended=fmt.number(item.attended, language),
            invited=fmt.number(item.invited, language),
        )
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
    attended = [item for item in report.meetings if item.invited]
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
    return pictures
