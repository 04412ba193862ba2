from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n.normalize import normalize_text, parse_decimal, parse_int


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
