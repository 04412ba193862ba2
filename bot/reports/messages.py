"""/report's words and pictures in the reader's language: the chat's messages, the charts and
the whole report as an HTML page, from the figures bot.reports.summary gathers. No aiogram and
no I18n context: the words come from the catalogs in the language given (bot.i18n.words), so a
background job's child process composes it with only what the report needs loaded."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import TypeVar

from bot import charts
from bot.delivery.content import pick
from bot.delivery.models import DeliveryStatus
from bot.delivery.split import TEXT_LIMIT, fits, split_html
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.i18n.format import rtl_safe
from bot.i18n.words import words
from bot.indicators import service as indicators
from bot.meetings.models import Rsvp
from bot.reports import page, summary


def done_of(done: int, owed: int, language: str) -> str:
    """A share said as "3 of 4 (75%)", in the report and the digest alike."""
    _ = words(language).gettext
    return _("{done} of {owed} ({rate})").format(
        done=fmt.number(done, language),
        owed=fmt.number(owed, language),
        rate=fmt.percent(done / owed if owed else 0, language),
    )


def _rsvps(item: summary.MeetingFigures, language: str) -> str:
    _ = words(language).gettext
    return _("{yes} coming, {no} not coming, {maybe} maybe and {pending} yet to answer").format(
        yes=fmt.number(item.rsvps[Rsvp.YES], language),
        no=fmt.number(item.rsvps[Rsvp.NO], language),
        maybe=fmt.number(item.rsvps[Rsvp.MAYBE], language),
        pending=fmt.number(item.rsvps[Rsvp.PENDING], language),
    )


def _attendance(item: summary.MeetingFigures, language: str) -> str:
    _ = words(language).gettext
    if not item.held:
        return _("not held yet")
    if not item.marked:
        return _("attendance was not taken")
    return _("{attended} of {invited} came").format(
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
    _ = words(language).gettext
    return _("📊 <b>Report</b> · {since} to {until}").format(
        since=fmt.day(report.since, language), until=fmt.day(report.until, language)
    )


def _more(count: int, language: str) -> list[str]:
    _ = words(language).gettext
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
    _ = words(language).gettext
    return (
        f"• {escape(item.group.name(language))}: {done_of(item.responded, item.expected, language)}"
        + " "
        + _("over {rounds} rounds").format(rounds=fmt.number(item.rounds, language))
    )


def _checkins_section(report: summary.Report, language: str, brief: bool) -> Iterator[str]:
    _ = words(language).gettext
    yield _("<b>Check-ins</b> (answers received of those expected)")
    items = report.participation
    if not brief or len(items) <= LISTED:
        yield from _each(items, lambda item: _group_line(item, language))
        return
    yield (
        "• "
        + _("All {groups} working groups together, over {rounds} rounds: {rate}").format(
            groups=fmt.number(len(items), language),
            rounds=fmt.number(sum(item.rounds for item in items), language),
            rate=done_of(
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
    _ = words(language).gettext
    title = f"• {escape(pick(figures.survey.form['title'], language))}: "
    least = fmt.number(figures.survey.min_responses or 0, language)
    rates = figures.rates
    if rates.withheld:  # anonymous, and too few answers to show anything
        return [
            title
            + _("🔒 anonymous: not shown until at least {least} people have answered").format(
                least=least
            )
        ]
    lines = [title + done_of(*rates.total, language)]
    if rates.hidden:
        lines.append(
            "  "
            + _(
                "🔒 anonymous: areas and working groups where fewer than {least} people answered"
                " are not shown"
            ).format(least=least)
        )
    areas, groups = _breakdowns(figures, report, language)
    if brief:
        return lines + [
            "  "
            + _("Lowest response: {place} {rate}").format(
                place=escape(place), rate=done_of(*counts, language)
            )
            for place, counts in _lowest([*areas, *groups], lambda place: _share(place[1]))[:1]
        ]
    for label, breakdown in (
        (N_("By area: {rates}"), areas),
        (N_("By working group: {rates}"), groups),
    ):
        if breakdown:
            rates_text = fmt.listing(
                (f"{escape(place)} {done_of(*counts, language)}" for place, counts in breakdown),
                language,
                semicolons=True,
            )
            lines.append("  " + _(label).format(rates=rates_text))
    return lines


def _surveys_section(report: summary.Report, language: str, brief: bool) -> Iterator[str]:
    _ = words(language).gettext
    yield _("<b>Surveys</b> (completed of those invited)")
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
        + _("All {count} surveys together: {rate}").format(
            count=fmt.number(len(items), language),
            rate=done_of(
                sum(item.rates.total[0] for item in shown),
                sum(item.rates.total[1] for item in shown),
                language,
            ),
        )
    )
    lowest = _lowest(shown, lambda item: _share(item.rates.total))
    yield _("Lowest response:")
    for item in lowest:
        yield from _survey_lines(item, report, language, True)
    yield from _more(len(items) - len(lowest), language)


def _announcement_summary(report: summary.Report, language: str) -> str:
    """Already a total: one line at any size (plain text)."""
    _ = words(language).gettext
    reach = report.reach
    return _(
        "{delivered} of {total} messages arrived; {unreachable} people could not be reached,"
        " {skipped} messages were not sent (the person had stopped messages or left), and"
        " {opted_out} people stopped receiving messages in this period."
    ).format(
        delivered=fmt.number(reach.delivered, language),
        total=fmt.number(reach.total, language),
        unreachable=fmt.number(reach.statuses[DeliveryStatus.UNREACHABLE], language),
        skipped=fmt.number(reach.statuses[DeliveryStatus.SKIPPED], language),
        opted_out=fmt.number(reach.opted_out, language),
    )


def _announcements_section(report: summary.Report, language: str) -> Iterator[str]:
    _ = words(language).gettext
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
    _ = words(language).gettext
    yield _("<b>Meetings</b>")
    items = report.meetings
    if not brief or len(items) <= LISTED:
        yield from _each(items, lambda item: _meeting_line(item, language))
        return
    held = [item for item in items if item.held]
    marked = [item for item in held if item.marked]
    yield (
        "• "
        + _("{held} meetings were held; attendance was taken at {marked} of them: {rate}").format(
            held=fmt.number(len(held), language),
            marked=fmt.number(len(marked), language),
            rate=done_of(
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
        yield _("Still to come:")
        yield from (_meeting_line(item, language) for item in coming)
    yield from _more(len(items) - len(lowest) - len(coming), language)


def _progress(standing: indicators.Standing, language: str) -> str:
    if standing.progress is None:
        return "—"
    return fmt.percent(max(standing.progress, 0), language)


def _indicator_line(standing: indicators.Standing, language: str) -> str:
    _ = words(language).gettext
    return f"• {escape(pick(standing.indicator.name, language))}: " + _(
        "{share} of the way to the target"
    ).format(share=_progress(standing, language))


def _indicators_section(report: summary.Report, language: str, brief: bool) -> Iterator[str]:
    _ = words(language).gettext
    yield _("<b>Indicators</b>")
    items = report.standings
    if not brief or len(items) <= LISTED:
        yield from _each(items, lambda item: _indicator_line(item, language))
        return
    yield (
        "• "
        + _("{reached} of {count} indicators have reached their target or passed it").format(
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
    longer than a message (then split at its lines). Measured with the direction marks the bot
    adds (`rtl_safe`), added here already (the marking is idempotent)."""
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
    "surveys.png": N_("Surveys: completed of those invited"),
    "reach.png": N_("Announcements: what became of each message"),
    "rsvps.png": N_("Meetings: who is coming, of those invited"),
    "meetings.png": N_("Attendance at meetings"),
    "indicators.png": N_("Indicators: the way to the target"),
}
CHART_ROWS = 12  # bars a chart can show readably on a phone; the page lists every one


def _outcomes(reach: summary.Reach, language: str) -> dict[str, int]:
    """What became of the announcements' messages, named for a person."""
    _ = words(language).gettext
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
    _ = words(language).gettext
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
    _ = words(language).gettext
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
                    [done_of(*item.rates.total, language) for item in shown],
                    language,
                    _(CHART_TITLES["surveys.png"]),
                ),
                "surveys.png",
            )
        )
    if report.reach.total:
        outcomes = _outcomes(report.reach, language)
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
                    [done_of(item.rsvps[Rsvp.YES], item.invited, language) for item in chosen],
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
                            _("attended, of those invited"),
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


@dataclass(frozen=True)
class ComposedReport:
    """/report as it is delivered, in order: the messages, the document, then the photos."""

    messages: list[str]  # HTML messages, each within Telegram's 4096 characters
    photos: list[tuple[bytes, str]]  # chart PNGs and file names, sent after the messages
    document: tuple[bytes, str] | None  # a file (bytes, file name) sent with the messages, or None


def compose_report(
    report: summary.Report,
    language: str,
    chat_ready: Callable[[list[str]], None] | None = None,
) -> ComposedReport:
    """The whole report in the chat while it fits in CHAT_MESSAGES messages; past that, each
    section's totals and notable items in the chat and everything in an HTML page. Pure (no
    database, no network): a background job may call it in another process. The chat's
    messages are made first and given to `chat_ready`, so they can be on their way while the
    charts, most of the work, are drawn."""
    messages, whole = _chat(report, language)
    if chat_ready is not None:
        chat_ready(messages)
    pictures = report_charts(report, language)
    document = None if whole else _document(report, language, pictures)
    return ComposedReport(messages, pictures, document)


def _chat(report: summary.Report, language: str) -> tuple[list[str], bool]:
    """The chat's messages, and whether they hold the whole report."""
    _ = words(language).gettext
    whole = _whole_sections(report, language)
    if whole is not None:
        messages = _messages(whole, language)
        if len(messages) <= CHAT_MESSAGES:
            return messages, True
    brief = [
        *_sections(report, language, brief=True),
        _("📎 The whole report is in the file below."),
    ]
    return _messages(brief, language), False


def _document(
    report: summary.Report, language: str, pictures: list[tuple[bytes, str]]
) -> tuple[bytes, str]:
    """Every section in full as a page, each with its charts; named for its period in the
    reader's calendar."""
    _ = words(language).gettext
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

    body.append(f"<h2>{_('<b>Check-ins</b> (answers received of those expected)')}</h2>")
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

    body.append(f"<h2>{_('<b>Surveys</b> (completed of those invited)')}</h2>")
    for item in report.surveys:
        body.append(page.text(pick(item.survey.form["title"], language), "h3", isolate=True))
        least = fmt.number(item.survey.min_responses or 0, language)
        if item.rates.withheld:
            body.append(
                page.text(
                    _("🔒 anonymous: not shown until at least {least} people have answered").format(
                        least=least
                    )
                )
            )
            continue
        body.append(page.text(done_of(*item.rates.total, language)))
        if item.rates.hidden:
            body.append(
                page.text(
                    _(
                        "🔒 anonymous: areas and working groups where fewer than {least}"
                        " people answered are not shown"
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
                    for label, count in _outcomes(report.reach, language).items()
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
