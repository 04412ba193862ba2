from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

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
    assert marked[0].startswith(fmt.RLM + fmt.LRM + "/help")  # RLM alone gives «help/»
    assert not marked[1].startswith(fmt.RLM)
    assert marked[2].startswith(fmt.RLM)
    assert not marked[3].startswith(fmt.RLM)
    assert fmt.rtl_safe(fmt.rtl_safe(text, "fa"), "fa") == fmt.rtl_safe(text, "fa")


def test_rtl_safe_keeps_commands_names_and_extensions_whole_inside_persian_lines() -> None:
    text = "با /start یا @userinfobot، فایل (.xlsx) را از <b>/export</b> بگیرید"
    assert fmt.rtl_safe(text, "fa") == (
        f"با {fmt.LRM}/start یا {fmt.LRM}@userinfobot، فایل ({fmt.LRM}.xlsx) را از"
        f" <b>{fmt.LRM}/export</b> بگیرید"
    )
    # Inside a word, a path, a URL or an HTML tag, nothing is added.
    untouched = 'گزارش report.xlsx و Asia/Tehran و https://t.me/x و sara@example.org <a href="/x">'
    assert fmt.rtl_safe(untouched, "fa") == untouched
    # Nor in code, which a tap copies: a line opening with it is still directed.
    code = "<code>/start Sara ۳</code> را بفرستید\n<pre>@a\n/b</pre>"
    assert (
        fmt.rtl_safe(code, "fa")
        == f"{fmt.RLM}<code>/start Sara ۳</code> را بفرستید\n{fmt.RLM}<pre>@a\n/b</pre>"
    )


def test_rtl_safe_keeps_a_persian_number_after_a_latin_name() -> None:
    assert fmt.rtl_safe("گروه Sara ۳ نفر", "fa") == f"گروه Sara{fmt.RLM} ۳ نفر"
    assert fmt.rtl_safe("کارگروه 0: ۲۲ از ۲۸", "fa") == "کارگروه 0: ۲۲ از ۲۸"  # no Latin name


def test_rtl_safe_starts_english_lines_that_open_in_persian_left_to_right() -> None:
    text = "• گروه ۱: 3 of 5\n/help lists the commands"
    assert (
        fmt.rtl_safe(text, "en") == f"{fmt.LRM}• گروه ۱{fmt.LRM}: 3 of 5\n/help lists the commands"
    )
    assert fmt.RLM not in fmt.rtl_safe("Sara and مریم: 2", "en")
    persian = "<b>باغچه</b> در سال 1405 &amp; ۱۴۰۵ کاشته شد"  # a Persian text standing in
    assert fmt.rtl_safe(persian, "en") == persian


def test_labels_are_marked_only_with_letters_of_their_readers_language() -> None:
    assert fmt.rtl_safe_label("English", "fa") == "English"
    assert fmt.rtl_safe_label("فارسی", "en") == "فارسی"
    assert fmt.rtl_safe_label("Group 1 (۳ نفر)", "fa") == f"{fmt.RLM}Group 1{fmt.RLM} (۳ نفر)"


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


def test_time_zones_read_by_name_in_each_language() -> None:
    assert fmt.time_zone("Asia/Tehran", "fa") == "وقت ایران"
    assert fmt.time_zone("Europe/Berlin", "en") == "Germany (Berlin) Time"
    assert fmt.time_zone("Iran", "en") == "Iran Time"  # an old alias of Asia/Tehran
    assert fmt.time_zone("UTC", "fa") == "UTC"  # Babel's «Unknown Region» is no name


def test_listing_sets_figures_apart_with_each_languages_semicolon() -> None:
    assert fmt.listing(["1,204 of 2,000", "3 of 4"], "en", semicolons=True) == (
        "1,204 of 2,000; 3 of 4"
    )
    assert fmt.listing(["۳ از ۴", "۱ از ۲"], "fa", semicolons=True) == "۳ از ۴؛ ۱ از ۲"


@given(
    st.lists(
        st.sampled_from(
            [
                "/start",
                "@sara",
                ".xlsx",
                "Sara",
                "Group 1",
                "مریم",
                "۳",
                "3",
                " ",
                "\n",
                ":",
                "(",
                "<b>",
                "</b>",
                "<code>",
                "</code>",
                "&amp;",
                "\u200e",
                "\u200f",
                "https://t.me/x",
            ]
        )
    ).map("".join),
    st.sampled_from(["fa", "en"]),
)
def test_rtl_safe_only_adds_marks_and_adds_them_once(text: str, language: str) -> None:
    marked = fmt.rtl_safe(text, language)
    assert fmt.rtl_safe(marked, language) == marked
    unmarked = str.maketrans("", "", fmt.LRM + fmt.RLM)
    assert marked.translate(unmarked) == text.translate(unmarked)
