"""Indicator periods follow the Iranian week and the Jalali months and seasons."""

from datetime import date

import pytest
from persiantools.jdatetime import JalaliDate

from bot.i18n import format as fmt
from bot.indicators.models import Frequency
from bot.indicators.service import period_start, previous_period


def jalali(year: int, month: int, day: int) -> date:
    return JalaliDate(year, month, day).to_gregorian()


@pytest.mark.parametrize(
    ("frequency", "day", "start"),
    [
        (Frequency.WEEKLY, date(2026, 11, 27), date(2026, 11, 21)),  # Friday → the Saturday before
        (Frequency.WEEKLY, date(2026, 11, 21), date(2026, 11, 21)),  # a Saturday is its own
        (Frequency.MONTHLY, jalali(1405, 9, 15), jalali(1405, 9, 1)),
        (Frequency.MONTHLY, jalali(1405, 1, 1), jalali(1405, 1, 1)),  # Nowruz
        (Frequency.QUARTERLY, jalali(1405, 9, 15), jalali(1405, 7, 1)),  # autumn
        (Frequency.QUARTERLY, jalali(1405, 12, 29), jalali(1405, 10, 1)),  # winter
    ],
)
def test_period_start(frequency: Frequency, day: date, start: date) -> None:
    assert period_start(frequency, day) == start


def test_the_period_before_crosses_the_persian_new_year() -> None:
    assert previous_period(Frequency.MONTHLY, jalali(1405, 1, 1)) == jalali(1404, 12, 1)
    assert previous_period(Frequency.QUARTERLY, jalali(1405, 1, 1)) == jalali(1404, 10, 1)


def test_periods_read_in_the_persian_calendar_in_both_languages() -> None:
    assert fmt.period(jalali(1405, 9, 1), False, "fa") == "آذر ۱۴۰۵"
    assert fmt.period(jalali(1405, 9, 1), False, "en") == "Azar 1405"
    assert fmt.period(jalali(1405, 7, 1), True, "fa") == "پاییز ۱۴۰۵"
    assert fmt.period(jalali(1405, 10, 1), True, "en") == "Winter 1405"


def test_the_digest_goes_on_saturday_mornings_or_the_first_of_each_jalali_month() -> None:
    from datetime import datetime, time

    from bot.i18n.format import TEHRAN
    from bot.reports.digest import next_moment
    from bot.reports.models import DigestFrequency

    thursday = datetime.combine(jalali(1405, 9, 12), time(12), TEHRAN)
    assert next_moment(DigestFrequency.WEEKLY, thursday) == datetime.combine(
        jalali(1405, 9, 14), time(9), TEHRAN
    )
    late_esfand = datetime.combine(jalali(1405, 12, 20), time(12), TEHRAN)
    assert next_moment(DigestFrequency.MONTHLY, late_esfand) == datetime.combine(
        jalali(1406, 1, 1), time(9), TEHRAN
    )
