"""The one input normaliser: every handler that reads typed text passes it through here.

Written by hand because the Persian NLP toolkits (hazm, parsivar) split numbers such as
«۱۲٫۵» and weigh hundreds of MB, and persiantools misses Arabic-Indic digits
(see shared/persian.md).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from persiantools.jdatetime import JalaliDate

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
ASCII_DIGITS = "0123456789"

# Direction marks and embeddings that a phone keyboard or a paste may carry invisibly.
# ZWNJ (U+200C) and ZWJ (U+200D) are kept: one is Persian spelling, the other joins emoji.
_INVISIBLE = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u0640"

_TEXT_TABLE = str.maketrans(
    {
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
        **{arabic: persian for arabic, persian in zip(ARABIC_DIGITS, PERSIAN_DIGITS, strict=True)},
        **dict.fromkeys(_INVISIBLE),
        "\r": None,
    }
)
_TO_ASCII_DIGITS = str.maketrans(
    {
        **dict(zip(PERSIAN_DIGITS, ASCII_DIGITS, strict=True)),
        **dict(zip(ARABIC_DIGITS, ASCII_DIGITS, strict=True)),
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Nothing a person types as a number is longer than this; Python refuses int() past 4300 digits.
_LONGEST_NUMBER = 40
_INTEGER = re.compile(rf"[+-]?[0-9]{{1,{_LONGEST_NUMBER}}}", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def normalize_text(text: str) -> str:
    """Canonical form of typed text: Persian ی/ک and digits, no invisible marks, trimmed."""
    text = unicodedata.normalize("NFC", text).translate(_TEXT_TABLE)
    return _CONTROL.sub("", text).strip()


def to_ascii_digits(text: str) -> str:
    return text.translate(_TO_ASCII_DIGITS)


def _numeric(text: str) -> str:
    text = to_ascii_digits(normalize_text(text))
    # Thousands separators (Persian ٬, Latin comma, Arabic comma) and spaces go; ٫ is the point.
    return re.sub(r"[٬,،\s]", "", text).replace("٫", ".")


def parse_int(text: str) -> int | None:
    """An integer typed with any digits, or None when the text is not one."""
    candidate = _numeric(text)
    return int(candidate) if _INTEGER.fullmatch(candidate) else None


def parse_decimal(text: str) -> Decimal | None:
    """A decimal number typed with any digits and separators, or None."""
    candidate = _numeric(text)
    if len(candidate) > _LONGEST_NUMBER or not _DECIMAL.fullmatch(candidate):
        return None
    try:
        return Decimal(candidate)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes these
        return None


class MomentError(ValueError):
    """A typed date and time that cannot be read (`impossible` says it names no real day)."""

    def __init__(self, impossible: bool) -> None:
        super().__init__("impossible date" if impossible else "unreadable date and time")
        self.impossible = impossible


_MOMENT = re.compile(
    r"(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})"
    r"(?:\s*(?:ساعت|at|،|,|T)\s*|\s+)(\d{1,2})\s*[:.]\s*(\d{2})",
    re.ASCII | re.IGNORECASE,
)
_DAY = re.compile(r"(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})", re.ASCII)
_TIME = re.compile(r"(\d{1,2})\s*[:.]\s*(\d{2})", re.ASCII)
JALALI_YEARS_BELOW = 1700  # 1405 is Jalali, 2026 Gregorian: the year itself says which


def _typed(text: str) -> str:
    return to_ascii_digits(normalize_text(text)).replace("٫", ".").strip()


def _gregorian(year: int, month: int, day: int) -> date:
    try:
        if year < JALALI_YEARS_BELOW:
            return JalaliDate(year, month, day).to_gregorian()
        return date(year, month, day)
    except ValueError:
        raise MomentError(impossible=True) from None


def parse_day(text: str) -> date:
    """«۱۴۰۵/۰۱/۰۱» (Jalali) or «2026-03-21» (Gregorian), in any digits."""
    match = _DAY.fullmatch(_typed(text))
    if not match:
        raise MomentError(impossible=False)
    return _gregorian(*(int(part) for part in match.groups()))


def parse_time(text: str) -> time:
    """«۱۸:۳۰», «18:30» or «18.30» as a time of day."""
    match = _TIME.fullmatch(_typed(text))
    if not match:
        raise MomentError(impossible=False)
    hour, minute = (int(part) for part in match.groups())
    if hour > 23 or minute > 59:
        raise MomentError(impossible=True)
    return time(hour, minute)


def parse_moment(text: str, tz: ZoneInfo) -> datetime:
    """«۱۴۰۵/۰۹/۱۰ ۱۸:۳۰» (Jalali) or «2026-12-01 18:30» (Gregorian), in any digits, read as
    local time in `tz`; returns an aware UTC datetime or raises MomentError."""
    match = _MOMENT.fullmatch(_typed(text))
    if not match:
        raise MomentError(impossible=False)
    year, month, day, hour, minute = (int(part) for part in match.groups())
    if hour > 23 or minute > 59:
        raise MomentError(impossible=True)
    return datetime.combine(_gregorian(year, month, day), time(hour, minute), tz).astimezone(UTC)


SKIP_MARKS = ("-", "—", "–")


def is_skip(typed: str) -> bool:
    """«-» typed where a text in one language may be left out."""
    return normalize_text(typed) in SKIP_MARKS


def read_bilingual(typed: str, limit: int) -> dict[str, str] | None:
    """«فارسی / English» (or only the Persian, or «فارسی / -») as texts per language; None when
    empty or a part is longer than `limit`."""
    parts = [part.strip() for part in normalize_text(typed).split("/", 1)]
    if not parts[0] or is_skip(parts[0]) or any(len(part) > limit for part in parts):
        return None
    english = parts[1] if len(parts) == 2 and not is_skip(parts[1]) else ""
    return {"fa": parts[0], **({"en": english} if english else {})}


def read_bilingual_lines(
    typed: str, limit: int, fewest: int, most: int
) -> list[dict[str, str]] | None:
    """One «فارسی / English» per line (choices, poll options); blank lines are passed over.
    None when a line is too long or there are too few or too many."""
    items = []
    for line in normalize_text(typed).splitlines():
        if not line.split("/", 1)[0].strip():
            continue
        item = read_bilingual(line, limit)
        if item is None:
            return None
        items.append(item)
    return items if fewest <= len(items) <= most else None
