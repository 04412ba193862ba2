from datetime import UTC, datetime

from bot.i18n import format as fmt
from bot.i18n import language_from_code


def test_numbers_use_persian_digits_and_separators() -> None:
    assert fmt.number(1234567, "fa") == "۱٬۲۳۴٬۵۶۷"
    assert fmt.number(12.5, "fa") == "۱۲٫۵"
    assert fmt.number(1234567, "en") == "1,234,567"


def test_percent_rounds_half_up_with_the_persian_sign() -> None:
    assert fmt.percent(0.425, "fa") == "۴۳٪"
    assert fmt.percent(0.425, "en") == "43%"


def test_dates_are_jalali_in_tehran_for_persian() -> None:
    moment = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)  # 14:30 in Tehran
    assert fmt.day(moment, "fa") == "۶ آذر ۱۴۰۵"
    assert fmt.day(moment, "en") == "27 Nov 2026"
    assert fmt.moment(moment, "fa") == "جمعه ۶ آذر ۱۴۰۵، ساعت ۱۴:۳۰"
    assert fmt.moment(moment, "en") == "Fri 27 Nov 2026, 14:30"


def test_day_boundary_follows_tehran_not_utc() -> None:
    late_utc = datetime(2026, 3, 20, 21, 0, tzinfo=UTC)  # already Nowruz 1405 in Tehran
    assert fmt.day(late_utc, "fa") == "۱ فروردین ۱۴۰۵"


def test_rtl_safe_marks_only_left_to_right_lines_in_persian() -> None:
    text = "/help را بزنید\nسلام\n<b>Hamgam</b> اینجاست\n۱۲ نفر"
    marked = fmt.rtl_safe(text, "fa").split("\n")
    assert marked[0].startswith(fmt.RLM)
    assert not marked[1].startswith(fmt.RLM)
    assert marked[2].startswith(fmt.RLM)
    assert not marked[3].startswith(fmt.RLM)
    assert fmt.rtl_safe(fmt.rtl_safe(text, "fa"), "fa") == fmt.rtl_safe(text, "fa")
    assert fmt.rtl_safe(text, "en") == text


def test_language_code_decides_until_a_choice() -> None:
    assert language_from_code("en") == "en"
    assert language_from_code("en-GB") == "en"
    assert language_from_code("fa") == "fa"
    assert language_from_code("de") == "fa"
    assert language_from_code(None) == "fa"


def test_an_excerpt_is_cut_between_words_and_says_it_was_cut() -> None:
    assert fmt.excerpt("باغچه کاشته شد", 40) == "باغچه کاشته شد"
    assert fmt.excerpt("باغچهٔ محله کاشته شد", 14) == "باغچهٔ محله…"
    assert fmt.excerpt("one two three", 8) == "one two…"  # «two» ends at the cut
    assert fmt.excerpt("abcdefghijkl", 6) == "abcde…"  # one long word: cut inside it
    assert fmt.excerpt("a  b\nc", 10) == "a b c"
    assert all(len(fmt.excerpt("word " * 20, n)) <= n for n in range(2, 40))


def test_time_zones_are_named_as_readers_know_them() -> None:
    assert fmt.zone("Asia/Tehran", "fa") == "وقت ایران"
    assert fmt.zone("Asia/Tehran", "en") == "Iran Time"
    assert fmt.zone("Europe/Berlin", "fa") == "وقت آلمان (برلین)"
    assert fmt.zone("Europe/Berlin", "en") == "Germany (Berlin) Time"
    assert fmt.zone("UTC", "fa") == "UTC"
