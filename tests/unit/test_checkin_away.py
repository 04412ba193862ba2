"""When an away period ends: as the day the person is back begins, after today, within a year."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.checkins.service import AwayError, AwayProblem, away_ends
from bot.i18n.format import TEHRAN

# 23:00 on 1 Dec in UTC is already 2 Dec in Tehran.
NOW = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


def test_an_away_period_ends_as_the_day_of_return_begins_in_the_initiatives_zone() -> None:
    assert away_ends(date(2026, 12, 9), TEHRAN, NOW) == datetime(2026, 12, 9, tzinfo=TEHRAN)


@pytest.mark.parametrize(
    ("day", "problem"),
    [
        (date(2026, 12, 2), AwayProblem.NOT_AFTER_TODAY),  # today in Tehran
        (date(2026, 11, 30), AwayProblem.NOT_AFTER_TODAY),
        (date(2027, 12, 4), AwayProblem.TOO_FAR),
    ],
)
def test_a_day_not_after_today_or_beyond_a_year_is_refused(day: date, problem: AwayProblem):
    with pytest.raises(AwayError) as refused:
        away_ends(day, TEHRAN, NOW)
    assert refused.value.problem is problem
