"""/report as it is delivered (compose_report): the whole report in a few messages cut only
between sections, each within Telegram's limit with the right-to-left marks; past that, a
summary and the whole report as an HTML page in the reader's language."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from bot.delivery.models import DeliveryStatus
from bot.delivery.split import fits
from bot.groups.models import Group, GroupKind
from bot.i18n.format import RLM, localize_digits, rtl_safe
from bot.indicators.models import Indicator
from bot.indicators.service import Standing
from bot.meetings.models import Meeting, Rsvp
from bot.reports import messages as report_messages
from bot.reports import summary
from bot.reports.messages import compose_report
from bot.surveys.models import Survey
from bot.surveys.service import Rates

UNTIL = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 10 Azar 1405
TRICKY = '<b>&"'  # a name staff typed that looks like markup


@pytest.fixture(params=["fa", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def no_charts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, str]]:
    """Stand-ins for the charts: drawing a city's charts takes seconds and says nothing here."""
    pictures = [(b"\x89PNG participation", "participation.png"), (b"\x89PNG reach", "reach.png")]
    monkeypatch.setattr(report_messages, "report_charts", lambda report, language: pictures)
    return pictures


def report(groups: int, meetings: int, *, english_names: bool = False) -> summary.Report:
    """A year of an initiative: `groups` working groups (the first named TRICKY), a survey
    broken down by area and group, announcements, `meetings` meetings (the last three to
    come), an indicator."""
    since = UNTIL - timedelta(days=365)
    made = summary.Report(since, UNTIL)
    for g in range(groups):
        name = TRICKY if g == 0 else f"کارگروه {localize_digits(str(g), 'fa')}"
        group = Group(
            id=g + 1,
            kind=GroupKind.WORKING_GROUP,
            name_fa=f"Group {g}" if english_names and g else name,
            name_en=name if g == 0 else f"Group {g}",
        )
        made.groups[group.id] = group
        history: list[tuple[datetime, float | None]] = [(UNTIL - timedelta(days=7), 0.5)]
        made.participation.append(summary.GroupParticipation(group, 52, 40 + g % 7, 100, history))
    survey = Survey(form={"title": {"fa": TRICKY, "en": TRICKY}}, min_responses=None)
    made.surveys.append(
        summary.SurveyFigures(
            survey,
            Rates(
                (30, 100),
                {"نارمک": (10, 40), TRICKY: (20, 60)},
                {group_id: (1, 5) for group_id in made.groups},
            ),
        )
    )
    made.reach = summary.Reach(
        Counter({DeliveryStatus.SENT: 900, DeliveryStatus.UNREACHABLE: 37}), 3
    )
    for m in range(meetings):
        held = m < meetings - 3 or meetings <= 3
        starts = UNTIL - timedelta(days=7 * (meetings - m)) if held else UNTIL + timedelta(days=m)
        title = {"fa": f"جلسهٔ {localize_digits(str(m), 'fa')}", "en": f"Meeting {m}"}
        meeting = Meeting(id=m + 1, title={"fa": TRICKY} if m == 0 else title, starts_at=starts)
        rsvps = Counter({Rsvp.YES: 5, Rsvp.NO: 2, Rsvp.MAYBE: 1, Rsvp.PENDING: 2})
        made.meetings.append(summary.MeetingFigures(meeting, rsvps, 10, m % 10, True, held))
    indicator = Indicator(
        name={"fa": TRICKY}, unit={"fa": "درخت", "en": "trees"}, baseline="0", target="100"
    )
    made.standings.append(Standing(indicator, [(UNTIL.date(), Decimal(40))]))
    return made


def sections(made: summary.Report, language: str) -> list[str]:
    return [
        rtl_safe(section, language) for section in report_messages._sections(made, language, False)
    ]


def test_a_small_report_is_one_message_with_every_section(language: str, no_charts) -> None:
    composed = compose_report(report(3, 2), language)
    assert composed.document is None and composed.photos == no_charts
    assert composed.messages == ["\n\n".join(sections(report(3, 2), language))]
    assert "&lt;b&gt;&amp;&quot;" in composed.messages[0] and TRICKY not in composed.messages[0]


def test_a_longer_report_is_cut_only_between_sections(language: str, no_charts) -> None:
    made = report(40, 30, english_names=True)
    composed = compose_report(made, language)
    assert composed.document is None
    assert 2 <= len(composed.messages) <= report_messages.CHAT_MESSAGES
    for message in composed.messages:
        assert fits(message)
        assert rtl_safe(message, language) == message  # the marks the bot adds are counted
    # Every section is whole in one message, in order, and nothing else is there.
    assert "\n\n".join(composed.messages) == "\n\n".join(sections(made, language))
    for section in sections(made, language):
        assert sum(section in message for message in composed.messages) == 1
    if language == "fa":  # English names in a Persian message start with RLM
        assert f"{RLM}• Group 1" in "".join(composed.messages)
    else:
        assert RLM not in "".join(composed.messages)


def test_a_section_longer_than_a_message_is_cut_at_its_lines(language: str) -> None:
    made = report(2, 120)
    long_section = sections(made, language)[4]
    assert not fits(long_section)
    messages = report_messages._messages(sections(made, language), language)
    assert all(fits(message) for message in messages)
    meeting_lines = [line for line in long_section.split("\n") if line.startswith("•")]
    shown = [line for message in messages for line in message.split("\n")]
    assert all(line in shown for line in meeting_lines)  # no line broken in two


def test_a_city_sized_report_is_a_summary_and_a_page(language: str, no_charts) -> None:
    made = report(20, 1040)
    composed = compose_report(made, language)
    assert composed.document is not None and composed.photos == no_charts
    assert len(composed.messages) == 1 and fits(composed.messages[0])
    chat = composed.messages[0]
    assert len(chat) < 2500  # a summary, not the 1,040 meetings
    more = "مورد دیگر در فایل" if language == "fa" else "more in the file"
    assert more in chat
    lowest = "کمترین میزان مشارکت" if language == "fa" else "Lowest participation"
    assert lowest in chat and "&lt;b&gt;&amp;&quot;" in chat  # the lowest group, escaped
    to_come = "جلسه‌های پیش رو:" if language == "fa" else "Still to come:"
    assert to_come in chat

    data, name = composed.document
    page = data.decode("utf-8")
    if language == "fa":
        assert name == "hamgam-report-1404-09-10-to-1405-09-10.html"
        assert '<html lang="fa" dir="rtl">' in page
        assert "۱۰ آذر ۱۴۰۵" in page
        assert ">۵۲<" in page  # rounds, in Persian digits
    else:
        assert name == "hamgam-report-2025-12-01-to-2026-12-01.html"
        assert '<html lang="en" dir="ltr">' in page
        assert "1 Dec 2026" in page and ">52<" in page
    assert page.count("data:image/png;base64,") == len(no_charts)
    assert "http" not in page and "@import" not in page and "<script" not in page
    assert TRICKY not in page and "&lt;b&gt;&amp;&quot;" in page
    for m in range(1, 1040):  # every meeting is in the page
        assert (
            f"جلسهٔ {localize_digits(str(m), 'fa')}<" if language == "fa" else f"Meeting {m}<"
        ) in page
    _balanced(page)
    text = re.sub(r"<style>.*?</style>|<[^>]+>|data:image/png;base64,[^\"]+", "", page, flags=re.S)
    latin = re.findall(r"[0-9]", text)
    assert (not latin) if language == "fa" else (not re.search(r"[۰-۹]", text)), latin[:5]


class _Checker(HTMLParser):
    VOID = frozenset({"meta", "img", "br"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, tag


def _balanced(page: str) -> None:
    """Well formed: every element closed in order, html the outermost."""
    assert page.startswith("<!DOCTYPE html>")
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.open == []


def test_charts_only_of_something(language: str) -> None:
    """A period with nothing in it draws nothing; announcements alone draw their one chart."""
    empty = summary.Report(UNTIL - timedelta(days=30), UNTIL)
    assert report_messages.report_charts(empty, language) == []
    empty.reach = summary.Reach(Counter({DeliveryStatus.SENT: 3}), 0)
    assert [name for _png, name in report_messages.report_charts(empty, language)] == ["reach.png"]
    composed = compose_report(empty, language)
    assert len(composed.messages) == 1 and composed.document is None
    assert [name for _png, name in composed.photos] == ["reach.png"]


def test_participation_is_a_line_a_group_or_the_average_and_the_lowest(language: str) -> None:
    few = report_messages._participation_series(report(3, 0).participation, language)
    names = ["کارگروه ۱", "کارگروه ۲"] if language == "fa" else ["Group 1", "Group 2"]
    assert [series.label for series in few] == [TRICKY, *names]  # plain text, as charts take it
    assert not any(series.summary for series in few)

    many = report_messages._participation_series(report(20, 0).participation, language)
    average, *lowest = many
    assert average.summary
    assert average.label == (
        "میانگین همهٔ ۲۰ کارگروه" if language == "fa" else "Average of all 20 working groups"
    )
    # The lowest, as the chat names them: 40 of 100 answered in groups 0, 7 and 14.
    if language == "fa":
        assert [series.label for series in lowest] == [
            f"{TRICKY} (۴۰٪)",
            "کارگروه ۷ (۴۰٪)",
            "کارگروه ۱۴ (۴۰٪)",
        ]
    else:
        assert [series.label for series in lowest] == [
            f"{TRICKY} (40%)",
            "Group 7 (40%)",
            "Group 14 (40%)",
        ]


def test_a_city_sized_report_is_not_written_out_for_the_chat_only_to_be_dropped(
    language: str, no_charts, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = []
    meeting_line = report_messages._meeting_line

    def counted(item: summary.MeetingFigures, language: str) -> str:
        written.append(item)
        return meeting_line(item, language)

    monkeypatch.setattr(report_messages, "_meeting_line", counted)
    assert compose_report(report(20, 1040), language).document is not None
    # Given up once past what three messages show (a meeting's line shows 60 characters or
    # more), and the summary's few: not all 1,040 meetings.
    assert len(written) < 3 * 4096 // 60 + 2 * report_messages.NOTABLE


def test_the_chat_is_ready_before_the_charts_are_drawn(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A background job sends the chat's messages on ahead while the charts are drawn."""
    made, order = report(20, 1040), []
    monkeypatch.setattr(
        report_messages,
        "report_charts",
        lambda report, language: order.append("charts") or [(b"\x89PNG", "reach.png")],
    )
    composed = compose_report(made, language, lambda messages: order.append(messages))
    assert order == [composed.messages, "charts"] and composed.document is not None
