"""/report for staff, in a private chat: the period's participation, surveys, reach,
meetings and indicators on one page, with the charts that say it faster."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

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
from bot.background.models import JobKind
from bot.background.service import Job
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.content import Content, Media, in_albums, pick
from bot.delivery.models import DeliveryStatus
from bot.delivery.outbox import Outgoing
from bot.delivery.split import TEXT_LIMIT, fits, split_html
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.i18n.format import TEHRAN, rtl_safe
from bot.indicators import service as indicators
from bot.meetings.models import Rsvp
from bot.people.audience import Audience, AudienceKind
from bot.people.models import Person, Role
from bot.reports import digest as digests
from bot.reports import page, summary
from bot.reports.models import Digest, DigestFrequency
from bot.telegram.filters import PrivateChat
from bot.telegram.guards import Onboarded, RequireRole
from handlers.locale import current_language, in_each_language, in_language

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


async def report_files(
    session: AsyncSession,
    params: dict[str, Any],
    language: str,
    folder: Path,
    progress: Callable[[int, int | None], None],
) -> dict[str, Any]:
    """In the job's child process: the figures, composed in the staff member's language, with
    the pictures and the document written into the job's folder."""
    progress(0, 2)
    report = await summary.build(
        session, datetime.fromisoformat(params["since"]), datetime.fromisoformat(params["until"])
    )
    progress(1, 2)
    with in_language(language):
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


# What one message can hold is Telegram's limit; what a reader takes in on a phone is ours. The
# whole report goes to the chat while it fits in CHAT_MESSAGES messages (a small initiative: a few
# groups, a season's meetings). Past that it is a list nobody reads on a phone (a city's year
# lists 20 groups with every survey's breakdown by group, and 1,040 meetings: 97,000
# characters), so the chat gets each section's totals and the few items worth acting on, and
# the document gets everything.
CHAT_MESSAGES = 3
LISTED = 5  # a section with more items than this is summed up in the chat...
NOTABLE = 3  # ...with this many of its items: the lowest, the furthest, the next to come

Item = TypeVar("Item")


def _lowest(items: Iterable[Item], share: Callable[[Item], float | None]) -> list[Item]:
    """The NOTABLE items with the lowest share, lowest first; those without one are left out."""
    known = [
        (value, index, item)
        for index, item in enumerate(items)
        if (value := share(item)) is not None
    ]
    return [item for _value, _index, item in sorted(known)[:NOTABLE]]


def _share(counts: tuple[int, int]) -> float | None:
    return counts[0] / counts[1] if counts[1] else None


def _header(report: summary.Report, language: str) -> str:
    return _("📊 <b>Report</b> · {since} to {until}").format(
        since=fmt.day(report.since, language), until=fmt.day(report.until, language)
    )


def _more(count: int, language: str) -> list[str]:
    if count <= 0:
        return []
    return [_("… and {count} more in the file").format(count=fmt.number(count, language))]


def _each(items: Sequence[Item], line: Callable[[Item], str]) -> Iterator[str]:
    """A line per item, made as it is read (a list too long for the chat is given up part way),
    or a dash for none."""
    if not items:
        yield "• —"
    yield from map(line, items)


def _group_line(item: summary.GroupParticipation, language: str) -> str:
    return (
        f"• {escape(item.group.name(language))}: {_rate(item.responded, item.expected, language)}"
        + " · "
        + _("{rounds} rounds").format(rounds=fmt.number(item.rounds, language))
    )


def _checkins_section(report: summary.Report, language: str, brief: bool) -> Iterator[str]:
    yield _("<b>Check-ins</b> (answered of expected)")
    items = report.participation
    if not brief or len(items) <= LISTED:
        yield from _each(items, lambda item: _group_line(item, language))
        return
    yield (
        "• "
        + _("All {groups} working groups, {rounds} rounds: {rate}").format(
            groups=fmt.number(len(items), language),
            rounds=fmt.number(sum(item.rounds for item in items), language),
            rate=_rate(
                sum(item.responded for item in items),
                sum(item.expected for item in items),
                language,
            ),
        )
    )
    lowest = _lowest(items, lambda item: item.rate)
    yield _("Lowest participation:")
    yield from (_group_line(item, language) for item in lowest)
    yield from _more(len(items) - len(lowest), language)


def _breakdowns(
    figures: summary.SurveyFigures, report: summary.Report, language: str
) -> tuple[list[tuple[str, tuple[int, int]]], list[tuple[str, tuple[int, int]]]]:
    """A survey's (area, counts) and (working group's name, counts), as plain text."""
    return list(figures.rates.areas.items()), [
        (report.group_name(group_id, language), counts)
        for group_id, counts in figures.rates.groups.items()
    ]


def _survey_lines(
    figures: summary.SurveyFigures, report: summary.Report, language: str, brief: bool
) -> list[str]:
    """A survey's rate and its breakdowns: all of them, or (brief) where the fewest answered."""
    title = f"• {escape(pick(figures.survey.form['title'], language))}: "
    least = fmt.number(figures.survey.min_responses or 0, language)
    rates = figures.rates
    if rates.withheld:  # anonymous, and too few answers to show anything
        return [
            title
            + _("🔒 anonymous, fewer than {least} answers so far: not shown").format(least=least)
        ]
    lines = [title + _rate(*rates.total, language)]
    if rates.hidden:
        lines.append(
            "  "
            + _(
                "🔒 anonymous: areas and working groups where fewer than {least} answered"
                " are not shown"
            ).format(least=least)
        )
    areas, groups = _breakdowns(figures, report, language)
    if brief:
        return lines + [
            "  "
            + _("Fewest answered: {place} {rate}").format(
                place=escape(place), rate=_rate(*counts, language)
            )
            for place, counts in _lowest([*areas, *groups], lambda place: _share(place[1]))[:1]
        ]
    separator = "؛ " if language == "fa" else "; "
    for label, breakdown in (
        (N_("By area: {rates}"), areas),
        (N_("By working group: {rates}"), groups),
    ):
        if breakdown:
            rates_text = separator.join(
                f"{escape(place)} {_rate(*counts, language)}" for place, counts in breakdown
            )
            lines.append("  " + _(label).format(rates=rates_text))
    return lines


def _surveys_section(report: summary.Report, language: str, brief: bool) -> Iterator[str]:
    yield _("<b>Surveys</b> (finished of invited)")
    items = report.surveys
    if not brief or len(items) <= LISTED:
        if not items:
            yield "• —"
        for item in items:
            yield from _survey_lines(item, report, language, brief)
        return
    shown = [item for item in items if not item.rates.withheld]
    yield (
        "• "
        + _("All {count} surveys: {rate}").format(
            count=fmt.number(len(items), language),
            rate=_rate(
                sum(item.rates.total[0] for item in shown),
                sum(item.rates.total[1] for item in shown),
                language,
            ),
        )
    )
    lowest = _lowest(shown, lambda item: _share(item.rates.total))
    yield _("Fewest answered:")
    for item in lowest:
        yield from _survey_lines(item, report, language, True)
    yield from _more(len(items) - len(lowest), language)


def _announcement_summary(report: summary.Report, language: str) -> str:
    """Already a total: one line at any size (plain text)."""
    reach = report.reach
    return _(
        "{delivered} delivered of {total} · {unreachable} unreachable · {skipped} not"
        " sent (stopped or gone) · {opted_out} people opted out"
    ).format(
        delivered=fmt.number(reach.delivered, language),
        total=fmt.number(reach.total, language),
        unreachable=fmt.number(reach.statuses[DeliveryStatus.UNREACHABLE], language),
        skipped=fmt.number(reach.statuses[DeliveryStatus.SKIPPED], language),
        opted_out=fmt.number(reach.opted_out, language),
    )


def _announcements_section(report: summary.Report, language: str) -> Iterator[str]:
    yield _("<b>Announcements</b>")
    yield "• " + _announcement_summary(report, language)


def _meeting_line(item: summary.MeetingFigures, language: str) -> str:
    return (
        f"• {escape(pick(item.meeting.title, language))}"
        f" ({fmt.day(item.meeting.starts_at, language)}): "
        + _rsvps(item, language)
        + " · "
        + _attendance(item, language)
    )


def _attendance_share(item: summary.MeetingFigures) -> float | None:
    return item.attended / item.invited if item.held and item.marked and item.invited else None


def _meetings_section(report: summary.Report, language: str, brief: bool) -> Iterator[str]:
    yield _("<b>Meetings</b>")
    items = report.meetings
    if not brief or len(items) <= LISTED:
        yield from _each(items, lambda item: _meeting_line(item, language))
        return
    held = [item for item in items if item.held]
    marked = [item for item in held if item.marked]
    yield (
        "• "
        + _("{held} held · attendance taken at {marked}: {rate}").format(
            held=fmt.number(len(held), language),
            marked=fmt.number(len(marked), language),
            rate=_rate(
                sum(item.attended for item in marked),
                sum(item.invited for item in marked),
                language,
            ),
        )
    )
    lowest = _lowest(marked, _attendance_share)
    if lowest:
        yield _("Lowest attendance:")
        yield from (_meeting_line(item, language) for item in lowest)
    coming = [item for item in items if not item.held][:NOTABLE]
    if coming:
        yield _("To come:")
        yield from (_meeting_line(item, language) for item in coming)
    yield from _more(len(items) - len(lowest) - len(coming), language)


def _progress(standing: indicators.Standing, language: str) -> str:
    if standing.progress is None:
        return "—"
    return fmt.percent(max(standing.progress, 0), language)


def _indicator_line(standing: indicators.Standing, language: str) -> str:
    return f"• {escape(pick(standing.indicator.name, language))}: " + _(
        "{progress} of the way to the target"
    ).format(progress=_progress(standing, language))


def _indicators_section(report: summary.Report, language: str, brief: bool) -> Iterator[str]:
    yield _("<b>Indicators</b>")
    items = report.standings
    if not brief or len(items) <= LISTED:
        yield from _each(items, lambda item: _indicator_line(item, language))
        return
    yield (
        "• "
        + _("{count} indicators, {reached} at the target or past it").format(
            count=fmt.number(len(items), language),
            reached=fmt.number(sum((item.progress or 0) >= 1 for item in items), language),
        )
    )
    furthest = _lowest(items, lambda item: item.progress)
    yield _("Furthest from the target:")
    yield from (_indicator_line(item, language) for item in furthest)
    yield from _more(len(items) - len(furthest), language)


def _section_lines(report: summary.Report, language: str, brief: bool) -> list[Iterator[str]]:
    """The report's sections, the header first, each as its lines of Telegram HTML, made as
    they are read."""
    return [
        iter([_header(report, language)]),
        _checkins_section(report, language, brief),
        _surveys_section(report, language, brief),
        _announcements_section(report, language),
        _meetings_section(report, language, brief),
        _indicators_section(report, language, brief),
    ]


def _sections(report: summary.Report, language: str, brief: bool) -> list[str]:
    """The report's sections as Telegram HTML, the header first: each is kept whole in one
    message where it fits."""
    return ["\n".join(lines) for lines in _section_lines(report, language, brief)]


def _whole_sections(report: summary.Report, language: str) -> list[str] | None:
    """Every section in full, or None once they show more than CHAT_MESSAGES messages can: a
    city's year stops a few hundred meetings in instead of writing out all 1,040 to drop
    them. Counts the line breaks within sections only, so it stays a floor."""
    left = CHAT_MESSAGES * TEXT_LIMIT
    sections = []
    for lines in _section_lines(report, language, brief=False):
        kept: list[str] = []
        for line in lines:
            left -= _shown_at_least(line) + bool(kept)
            if left < 0:
                return None
            kept.append(line)
        sections.append("\n".join(kept))
    return sections


_MARKUP = re.compile(r"<[^>]*>|&#?\w+;")


def _shown_at_least(html: str) -> int:
    """A floor of what `html` shows, counting every tag and escape as nothing: cheap where
    packing a city's year (100,000 characters, tokenised) to learn it is too long took seconds."""
    return len(html) - sum(len(markup) for markup in _MARKUP.findall(html))


def _messages(sections: list[str], language: str) -> list[str]:
    """Sections packed into messages, a break only between two of them unless one alone is
    longer than a message (then split at its lines). Measured with the right-to-left marks the
    bot adds to Persian lines, added here already (the marking is idempotent)."""
    messages: list[str] = []
    for section in (rtl_safe(section, language) for section in sections):
        joined = f"{messages[-1]}\n\n{section}" if messages else section
        if messages and fits(joined):
            messages[-1] = joined
        else:
            messages.extend(split_html(section))
    return messages


CHART_TITLES = {
    "participation.png": N_("Check-in participation per group"),
    "surveys.png": N_("Surveys: finished of invited"),
    "reach.png": N_("Announcements: what became of each message"),
    "rsvps.png": N_("Meetings: who is coming, of those invited"),
    "meetings.png": N_("Attendance at meetings"),
    "indicators.png": N_("Indicators: the way to the target"),
}
CHART_ROWS = 12  # bars a chart can show readably on a phone; the page lists every one


def _outcomes(reach: summary.Reach) -> dict[str, int]:
    """What became of the announcements' messages, named for a person."""
    statuses = reach.statuses
    return {
        _("delivered"): statuses[DeliveryStatus.SENT],
        _("unreachable"): statuses[DeliveryStatus.UNREACHABLE],
        _("not sent (stopped or gone)"): statuses[DeliveryStatus.SKIPPED],
        _("failed"): statuses[DeliveryStatus.FAILED],
        _("still being sent"): statuses[DeliveryStatus.PENDING] + statuses[DeliveryStatus.SENDING],
    }


def _answered(item: summary.MeetingFigures) -> bool:
    return item.rsvps[Rsvp.YES] + item.rsvps[Rsvp.NO] + item.rsvps[Rsvp.MAYBE] > 0


def _participation_series(
    items: list[summary.GroupParticipation], language: str
) -> list[charts.Series]:
    """A line per group while they can be told apart; past LISTED, twenty lines of a year are
    a tangle, so the groups' average and the NOTABLE lowest (as the chat names them), each
    with its share over the period."""
    if len(items) <= LISTED:
        return [charts.Series(item.group.name(language), item.history) for item in items]
    everyone = charts.average(
        [charts.Series("", item.history) for item in items],
        _("Average of all {count} working groups").format(count=fmt.number(len(items), language)),
    )
    return [everyone] + [
        charts.Series(
            f"{item.group.name(language)} ({fmt.percent(item.rate or 0, language)})", item.history
        )
        for item in _lowest(items, lambda item: item.rate)
    ]


def report_charts(report: summary.Report, language: str) -> list[tuple[bytes, str]]:
    """A chart for each part of the page that has something to show, in the page's order; none
    of nothing (no round answered, no invitation answered): an empty chart only costs a look."""
    pictures = []
    with_rounds = [
        item for item in report.participation if any(rate is not None for _, rate in item.history)
    ]
    if with_rounds:
        pictures.append(
            (
                charts.line_chart(
                    _participation_series(with_rounds, language),
                    language,
                    _(CHART_TITLES["participation.png"]),
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
                    _(CHART_TITLES["surveys.png"]),
                ),
                "surveys.png",
            )
        )
    if report.reach.total:
        outcomes = _outcomes(report.reach)
        pictures.append(
            (
                charts.bar_chart(
                    list(outcomes),
                    list(outcomes.values()),
                    language,
                    _(CHART_TITLES["reach.png"]),
                ),
                "reach.png",
            )
        )
    # Who is coming matters most for the meetings to come, then for the latest ones held; a
    # year's meetings in one chart would be bars too thin to read.
    answered = [item for item in report.meetings if item.invited and _answered(item)]
    coming = [item for item in answered if not item.held][:CHART_ROWS]
    held = [item for item in answered if item.held][::-1][: CHART_ROWS - len(coming)][::-1]
    if held or coming:
        chosen = held + coming
        pictures.append(
            (
                charts.share_chart(
                    [
                        f"{pick(item.meeting.title, language)}"
                        f" ({fmt.day(item.meeting.starts_at, language)})"
                        for item in chosen
                    ],
                    [item.rsvps[Rsvp.YES] / item.invited for item in chosen],
                    [_rsvps(item, language) for item in chosen],
                    language,
                    _(CHART_TITLES["rsvps.png"]),
                ),
                "rsvps.png",
            )
        )
    attended = [item for item in report.meetings if _attendance_share(item) is not None]
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
                    _(CHART_TITLES["meetings.png"]),
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
                    [_progress(item, language) for item in progressing],
                    language,
                    _(CHART_TITLES["indicators.png"]),
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


@dataclass(frozen=True)
class ComposedReport:
    """/report as it is delivered, in order: the messages, the document, then the photos."""

    messages: list[str]  # HTML messages, each within Telegram's 4096 characters
    photos: list[tuple[bytes, str]]  # chart PNGs and file names, sent after the messages
    document: tuple[bytes, str] | None  # a file (bytes, file name) sent with the messages, or None


def compose_report(report: summary.Report, language: str) -> ComposedReport:
    """The whole report in the chat while it fits in CHAT_MESSAGES messages; past that, each
    section's totals and notable items in the chat and everything in an HTML page. Pure (no
    database, no network): a background job may call it in another process."""
    pictures = report_charts(report, language)
    whole = _whole_sections(report, language)
    if whole is not None:
        messages = _messages(whole, language)
        if len(messages) <= CHAT_MESSAGES:
            return ComposedReport(messages, pictures, None)
    brief = [
        *_sections(report, language, brief=True),
        _("📎 The whole report is in the file below."),
    ]
    return ComposedReport(
        _messages(brief, language), pictures, _document(report, language, pictures)
    )


def _document(
    report: summary.Report, language: str, pictures: list[tuple[bytes, str]]
) -> tuple[bytes, str]:
    """Every section in full as a page, each with its charts; named for its period in the
    reader's calendar."""
    charts_of = {name: png for png, name in pictures}

    def figures(*names: str) -> list[str]:
        return [
            page.image(charts_of[name], _(CHART_TITLES[name]))
            for name in names
            if name in charts_of
        ]

    def rate_cells(counts: tuple[int, int]) -> list[str]:
        done, owed = counts
        return [
            fmt.number(done, language),
            fmt.number(owed, language),
            fmt.percent(done / owed, language) if owed else "—",
        ]

    since, until = fmt.day(report.since, language), fmt.day(report.until, language)
    title = _("Hamgam report: {since} to {until}").format(since=since, until=until)
    body = [
        page.text(title, "h1"),
        page.text(
            _("Figures as of {moment}.").format(moment=fmt.moment(report.until, language)),
            css="muted",
        ),
    ]

    body.append(f"<h2>{_('<b>Check-ins</b> (answered of expected)')}</h2>")
    body.append(
        page.table(
            [_("Working group"), _("Rounds"), _("Answered"), _("Expected"), _("Share")],
            [
                [
                    item.group.name(language),
                    fmt.number(item.rounds, language),
                    *rate_cells((item.responded, item.expected)),
                ]
                for item in report.participation
            ],
            numeric=(1, 2, 3, 4),
        )
        if report.participation
        else page.text("—")
    )
    body += figures("participation.png")

    body.append(f"<h2>{_('<b>Surveys</b> (finished of invited)')}</h2>")
    for item in report.surveys:
        body.append(page.text(pick(item.survey.form["title"], language), "h3", isolate=True))
        least = fmt.number(item.survey.min_responses or 0, language)
        if item.rates.withheld:
            body.append(
                page.text(
                    _("🔒 anonymous, fewer than {least} answers so far: not shown").format(
                        least=least
                    )
                )
            )
            continue
        body.append(page.text(_rate(*item.rates.total, language)))
        if item.rates.hidden:
            body.append(
                page.text(
                    _(
                        "🔒 anonymous: areas and working groups where fewer than {least}"
                        " answered are not shown"
                    ).format(least=least),
                    css="muted",
                )
            )
        areas, groups = _breakdowns(item, report, language)
        for head, breakdown in ((_("Area"), areas), (_("Working group"), groups)):
            if breakdown:
                body.append(
                    page.table(
                        [head, _("Finished"), _("Invited"), _("Share")],
                        [[place, *rate_cells(counts)] for place, counts in breakdown],
                        numeric=(1, 2, 3),
                    )
                )
    if not report.surveys:
        body.append(page.text("—"))
    body += figures("surveys.png")

    body.append(f"<h2>{_('<b>Announcements</b>')}</h2>")
    body.append(page.text(_announcement_summary(report, language)))
    if report.reach.total:
        body.append(
            page.table(
                [_("What became of the message"), _("Messages")],
                [
                    [label, fmt.number(count, language)]
                    for label, count in _outcomes(report.reach).items()
                ],
                numeric=(1,),
            )
        )
    body += figures("reach.png")

    body.append(f"<h2>{_('<b>Meetings</b>')}</h2>")
    body.append(
        page.table(
            [_("Meeting"), _("Date"), _("Answers to the invitation"), _("Attendance")],
            [
                [
                    pick(item.meeting.title, language),
                    fmt.day(item.meeting.starts_at, language),
                    _rsvps(item, language),
                    _attendance(item, language),
                ]
                for item in report.meetings
            ],
        )
        if report.meetings
        else page.text("—")
    )
    body += figures("rsvps.png", "meetings.png")

    body.append(f"<h2>{_('<b>Indicators</b>')}</h2>")
    body.append(
        page.table(
            [_("Indicator"), _("Latest value"), _("Target"), _("Progress")],
            [
                [
                    pick(standing.indicator.name, language),
                    _amount(standing.latest, standing, language),
                    _amount(Decimal(standing.indicator.target), standing, language),
                    _progress(standing, language),
                ]
                for standing in report.standings
            ],
            numeric=(1, 2, 3),
        )
        if report.standings
        else page.text("—")
    )
    body += figures("indicators.png")

    first, last = fmt.file_day(report.since, language), fmt.file_day(report.until, language)
    name = f"hamgam-report-{first}-to-{last}.html"
    return page.page(title, language, body).encode("utf-8"), name


def _amount(value: Decimal | None, standing: indicators.Standing, language: str) -> str:
    if value is None:
        return "—"
    return f"{fmt.number(value, language)} {pick(standing.indicator.unit, language)}".strip()
