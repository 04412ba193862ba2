from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n.normalize import MomentError, normalize_text, parse_decimal, parse_int, parse_moment


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("۱۲۳", 123),
        ("١٢٣", 123),
        ("123", 123),
        (" ۱۲۳۴۵۶۷۸۹ ", 123456789),
        ("۱٬۲۳۴", 1234),
        ("1,234", 1234),
        ("\u200f۴۲\u200e", 42),
        ("-۵", -5),
        ("۱۲a", None),
        ("", None),
        ("۱۲٫۵", None),
        ("²", None),
        ("۹" * 5000, None),
    ],
)
def test_parse_int_reads_every_digit_set(typed: str, expected: int | None) -> None:
    assert parse_int(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("۱۲٫۵", Decimal("12.5")),
        ("۱۲٬۳۴۵٫۵", Decimal("12345.5")),
        ("٣.٥", Decimal("3.5")),
        (".5", Decimal("0.5")),
        ("1.2.3", None),
        ("abc", None),
    ],
)
def test_parse_decimal_reads_persian_separators(typed: str, expected: Decimal | None) -> None:
    assert parse_decimal(typed) == expected


def test_normalize_text_unifies_arabic_letters_and_strips_marks() -> None:
    assert normalize_text("\u200fعلي كريمي ٣\u202b") == "علی کریمی ۳"
    assert normalize_text("کتاب‌ها") == "کتاب‌ها"  # ZWNJ is part of the spelling
    assert normalize_text("👨‍👩‍👧") == "👨‍👩‍👧"  # ZWJ keeps the family together
    assert normalize_text("سلامـــ\r\n") == "سلام"


@given(st.text())
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_int_round_trips_persian_digits(value: int) -> None:
    persian = str(value).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert parse_int(persian) == value


TEHRAN = ZoneInfo("Asia/Tehran")


@pytest.mark.parametrize(
    "typed",
    [
        "۱۴۰۵/۰۹/۱۰ ۱۸:۳۰",
        "1405/9/10 18:30",
        "١٤٠٥-٠٩-١٠ ساعت ١٨:٣٠",
        "2026-12-01 18:30",
        "2026/12/01, 18:30",
        "\u200f۱۴۰۵/۰۹/۱۰  ۱۸:۳۰\u200e",
    ],
)
def test_moments_are_read_in_either_calendar_and_any_digits(typed: str) -> None:
    assert parse_moment(typed, TEHRAN) == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["۱۴۰۵/۱۲/۳۱ ۱۰:۰۰", "2026-02-30 10:00", "1405/09/10 25:00"])
def test_impossible_dates_are_named_so(typed: str) -> None:
    with pytest.raises(MomentError) as error:
        parse_moment(typed, TEHRAN)
    assert error.value.impossible


@pytest.mark.parametrize("typed", ["فردا ساعت ده", "1405/09/10", "۱۸:۳۰", "abc", "۹" * 5000])
def test_unreadable_moments_are_refused(typed: str) -> None:
    with pytest.raises(MomentError) as error:
        parse_moment(typed, TEHRAN)
    assert not error.value.impossible


def test_bilingual_texts_and_lines() -> None:
    from bot.i18n.normalize import is_skip, read_bilingual, read_bilingual_lines

    assert read_bilingual("خانوار / households", 30) == {"fa": "خانوار", "en": "households"}
    assert read_bilingual("خانوار", 30) == {"fa": "خانوار"}
    assert read_bilingual(" / households", 30) is None
    assert read_bilingual("ن" * 31, 30) is None
    lines = "مسجد محله / The mosque\n\nمدرسه"
    assert read_bilingual_lines(lines, 60, 2, 8) == [
        {"fa": "مسجد محله", "en": "The mosque"},
        {"fa": "مدرسه"},
    ]
    assert read_bilingual_lines("فقط یکی", 60, 2, 8) is None
    assert is_skip(" - ") and is_skip("—") and not is_skip("نه")


def test_a_dash_for_the_english_half_leaves_it_out_as_in_every_bilingual_step() -> None:
    from bot.i18n.normalize import read_bilingual, read_bilingual_lines

    assert read_bilingual("خانوار / -", 30) == {"fa": "خانوار"}
    assert read_bilingual("خانوار / —", 30) == {"fa": "خانوار"}
    assert read_bilingual("- / households", 30) is None  # Persian comes first here
    assert read_bilingual_lines("شمال / -\nجنوب / South", 60, 2, 8) == [
        {"fa": "شمال"},
        {"fa": "جنوب", "en": "South"},
    ]
