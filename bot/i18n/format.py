"""The one formatter for numbers, dates and line direction in what a person reads.

Babel has no Persian calendar and prints Latin digits for fa (shared/persian.md), so dates in
Persian come from persiantools and digits are mapped after Babel has placed the separators.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.core import get_global
from babel.dates import format_date, format_datetime, get_timezone_location
from babel.numbers import format_decimal
from persiantools.jdatetime import JalaliDate, JalaliDateTime

from bot.i18n.normalize import ASCII_DIGITS, PERSIAN_DIGITS

TEHRAN = ZoneInfo("Asia/Tehran")
RLM, LRM = "\u200f", "\u200e"  # right-to-left and left-to-right marks
_TO_PERSIAN_DIGITS = str.maketrans(ASCII_DIGITS, PERSIAN_DIGITS)


def localize_digits(text: str, language: str) -> str:
    return text.translate(_TO_PERSIAN_DIGITS) if language == "fa" else text


@lru_cache(maxsize=4096)  # the same few numbers (3 of 8, 1 to 5…) in every message; Babel is slow
def number(value: int | float | Decimal, language: str) -> str:
    """1234567 → «۱٬۲۳۴٬۵۶۷» in fa, «1,234,567» in en."""
    if language == "fa":
        # Persian separators (٬ ٫) need the «arabext» numbering system explicitly.
        return localize_digits(format_decimal(value, locale="fa", numbering_system="arabext"), "fa")
    return format_decimal(value, locale="en")


def hours(minutes: int | float, language: str) -> str:
    """A span kept in minutes, read in hours as check-in reminders are given: 90 → «۱٫۵», «1.5»."""
    return number(Decimal(minutes) / 60, language)


def listing(items: Iterable[str], language: str, *, semicolons: bool = False) -> str:
    """Items one after another: «مریم، ندا» in fa, «Maryam, Neda» in en. Items with commas of
    their own («1,204 of 2,000 (60%)») go `semicolons` apart: «؛ » in fa, «; » in en."""
    if semicolons:
        return ("؛ " if language == "fa" else "; ").join(items)
    return ("، " if language == "fa" else ", ").join(items)


def percent(ratio: float, language: str) -> str:
    """0.425 → «۴۳٪» in fa, «43%» in en (whole percents read best on a phone)."""
    whole = number(int((Decimal(str(ratio)) * 100).quantize(Decimal(1), ROUND_HALF_UP)), language)
    return f"{whole}٪" if language == "fa" else f"{whole}%"


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=tz)


def day(value: date | datetime, language: str, tz: ZoneInfo = TEHRAN) -> str:
    """A calendar day: «۶ آذر ۱۴۰۵» in fa (Jalali), «27 Nov 2026» in en."""
    if isinstance(value, datetime):
        value = _local(value, tz).date()
    if language == "fa":
        jalali = JalaliDate(value)
        return localize_digits(
            f"{jalali.day} {jalali.strftime('%B', locale='fa')} {jalali.year}", "fa"
        )
    return format_date(value, "d MMM y", locale="en")


def file_day(value: date | datetime, language: str, tz: ZoneInfo = TEHRAN) -> str:
    """A day in a file's name, in the reader's calendar with ASCII digits (every system sorts
    and shows them): «1405-09-11» in fa, «2026-12-02» in en."""
    if isinstance(value, datetime):
        value = _local(value, tz).date()
    if language == "fa":
        jalali = JalaliDate(value)
        return f"{jalali.year:04}-{jalali.month:02}-{jalali.day:02}"
    return value.isoformat()


SEASONS = {
    "fa": ("بهار", "تابستان", "پاییز", "زمستان"),
    "en": ("Spring", "Summer", "Autumn", "Winter"),
}


def period(start: date, season: bool, language: str) -> str:
    """A Jalali month («آذر ۱۴۰۵», «Azar 1405») or season («پاییز ۱۴۰۵», «Autumn 1405»): the
    initiative reports by the Persian calendar in both languages."""
    jalali = JalaliDate(start)
    if season:
        name = SEASONS["fa" if language == "fa" else "en"][(jalali.month - 1) // 3]
    else:
        name = jalali.strftime("%B", locale="fa" if language == "fa" else "en")
    return localize_digits(f"{name} {jalali.year}", language)


def moment(value: datetime, language: str, tz: ZoneInfo = TEHRAN) -> str:
    """A date and time: «جمعه ۶ آذر ۱۴۰۵، ساعت ۱۴:۳۰» in fa, «Fri 27 Nov 2026, 14:30» in en."""
    local = _local(value, tz)
    if language == "fa":
        jalali = JalaliDateTime(local)
        weekday = jalali.strftime("%A", locale="fa")
        return localize_digits(f"{weekday} {day(local, 'fa', tz)}، ساعت {local:%H:%M}", "fa")
    return format_datetime(local, "EEE d MMM y, HH:mm", tzinfo=tz, locale="en")


@lru_cache(maxsize=256)
def time_zone(zone: str, language: str) -> str:
    """A time zone as its reader knows it, by country (and city where the country has several):
    «وقت ایران», «وقت آلمان (برلین)» in fa, «Iran Time», «Germany (Berlin) Time» in en. An IANA
    id such as Europe/Berlin is what staff type, not what a person reads; a zone of no country
    (UTC, Etc/GMT+3), which Babel calls «Unknown Region», keeps its id."""
    territories, aliases = get_global("zone_territories"), get_global("zone_aliases")
    if territories.get(aliases.get(zone, zone), "ZZ") == "ZZ":
        return zone
    return get_timezone_location(zone, locale=language)


def excerpt(text: str, limit: int) -> str:
    """The start of a plain text in at most `limit` characters, cut between words and ending
    in «…» when it was cut (a listing's one-line glimpse of a longer text)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:  # not in the middle of a word
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def both_calendars(value: date | datetime, tz: ZoneInfo = TEHRAN) -> str:
    """For plain text in English such as the command line's tables: the Jalali date written as
    staff type it, then the Gregorian one; «Sat 1405/09/07 18:00 (28 Nov 2026)», or for a day
    «Sat 1405/09/07 (28 Nov 2026)»."""
    moment = _local(value, tz) if isinstance(value, datetime) else None
    local_day = moment.date() if moment else value
    jalali = JalaliDate(local_day)
    at = f" {moment:%H:%M}" if moment else ""
    return (
        f"{format_date(local_day, 'EEE', locale='en')} {jalali.year:04}/{jalali.month:02}/"
        f"{jalali.day:02}{at} ({day(local_day, 'en')})"
    )


def _first_strong_direction(line: str) -> str | None:
    """'L' or 'R' for the first strongly directional character, skipping HTML tags."""
    for part in _TAG.split(line)[::2]:
        for char in part:
            kind = unicodedata.bidirectional(char)
            if kind == "L":
                return "L"
            if kind in ("R", "AL"):
                return "R"
    return None


_LATIN = re.compile("[A-Za-z]")
_TAG = re.compile(r"(<[^>]*>)")  # the texts are HTML: a «<» in a text is written «&lt;»
_MARKUP = re.compile(r"<[^>]*>|&#?\w+;")
# A «/», «@» or «.» that opens a Latin word (/start, @name, .xlsx), not one inside a word,
# a path or a URL: between Persian letters the bidi algorithm sends it to the Persian side.
_OPENER = re.compile(r"(?<![A-Za-z0-9_/@.:\u200e])(?=[/@.][A-Za-z])")
# A Latin name (with its number: «Group 1») just before a Persian number («Sara ۳ نفر»): the
# number would join the Latin run and read before the name.
_LATIN_BEFORE_NUMBER = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*(?: [0-9]+)*)(?=[ :(«–-]*[۰-۹])")
# The same in English: a Persian name before a number («گروه ۱: 3 of 5», «نارمک 5 of 6»).
_PERSIAN_BEFORE_NUMBER = re.compile(r"(?<=[\u0600-\u06ff])(?=[ :(«–-]*[0-9])")


def _marked(part: str, language: str) -> str:
    if language == "fa":
        return _LATIN_BEFORE_NUMBER.sub(rf"\1{RLM}", _OPENER.sub(LRM, part))
    return _PERSIAN_BEFORE_NUMBER.sub(LRM, part)


_CODE = re.compile(r"<(/?)(?:code|pre)\b", re.IGNORECASE)


def _line(line: str, language: str, in_code: bool) -> tuple[str, bool]:
    """The line directed, and whether a code block is still open at its end: what is inside
    one is copied with a tap, and gets no marks."""
    mark_inside = language == "fa" or _LATIN.search(_MARKUP.sub("", line)) is not None
    starts_in_code, parts = in_code, []
    for index, part in enumerate(_TAG.split(line)):
        if index % 2:
            if code := _CODE.match(part):
                in_code = not code.group(1)
        elif mark_inside and not in_code:
            part = _marked(part, language)
        parts.append(part)
    marked = "".join(parts)
    if starts_in_code or not mark_inside:
        # Inside code; or in English, a line all in Persian (a name, a text standing in for a
        # missing English one), which reads right as it is.
        return marked, in_code
    own, other = (RLM, "L") if language == "fa" else (LRM, "R")
    first = _first_strong_direction(marked)
    return (own + marked if first == other and not marked.startswith(own) else marked), in_code


def rtl_safe(text: str, language: str) -> str:
    """Each line laid out in its reader's direction, whatever Latin or Persian is in it (Telegram
    gives each line the direction of its first strong letter): in Persian, RLM starts a line
    that opens with a Latin word, an @name or a /command, and LRM keeps a /command, an @name or
    a .xlsx whole («‎/start», not «start/»); in English, LRM starts a line that opens with a
    Persian name. A number keeps to its side of a name in the other script. Marks already there
    are kept, so the text can pass twice."""
    if not text:
        return text
    lines, in_code = [], False
    for line in text.split("\n"):
        directed, in_code = _line(line, language, in_code)
        lines.append(directed)
    return "\n".join(lines)


def rtl_safe_label(text: str, language: str) -> str:
    """A button label or a chart's label, a line of its own: marked as `rtl_safe` marks a line
    only when it has letters of its reader's language. All in the other script («English» among
    Persian buttons, «فارسی» or a Persian name among English ones) it reads right as it is."""
    own = ("R", "AL") if language == "fa" else ("L",)
    if any(unicodedata.bidirectional(char) in own for char in text):
        return rtl_safe(text, language)
    return text
