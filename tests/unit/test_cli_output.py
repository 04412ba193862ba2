"""What the command line prints: columns that line up, dates in both calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from bot.cli import _width, echo_table
from bot.i18n.format import both_calendars, hours


def test_columns_line_up_under_persian_names_with_joiners() -> None:
    import click

    @click.command()
    def show() -> None:
        echo_table(["#", "group", "members"], [["1", "می‌خواهیم", "3"], ["12", "Green", "40"]])

    header, first, second = CliRunner().invoke(show).output.splitlines()
    starts = {
        _width(line[: line.index(cell)])
        for line, cell in ((header, "members"), (first, "3"), (second, "40"))
    }
    assert len(starts) == 1, starts  # the joiner (ZWNJ) takes no column
    assert not any(line.endswith(" ") for line in (header, first, second))


def test_times_show_the_jalali_day_in_the_zone_asked_for() -> None:
    late = datetime(2026, 3, 20, 21, 0, tzinfo=UTC)  # past midnight in Tehran: Nowruz
    assert both_calendars(late) == "Sat 1405/01/01 00:30 (21 Mar 2026)"
    assert both_calendars(late, ZoneInfo("Europe/Berlin")) == "Fri 1404/12/29 22:00 (20 Mar 2026)"
    assert both_calendars(date(2026, 3, 21)) == "Sat 1405/01/01 (21 Mar 2026)"


def test_reminder_hours_read_as_the_bot_shows_them() -> None:
    assert [hours(minutes, "en") for minutes in (240, 90, 1200, 100)] == ["4", "1.5", "20", "1.667"]
    assert hours(90, "fa") == "۱٫۵"
