from __future__ import annotations

import io
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from bot import charts
from bot.charts import Series, bar_chart, line_chart, share_chart
from bot.i18n import format as fmt

if TYPE_CHECKING:
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NOWRUZ_1405 = datetime(2026, 3, 20, 21, 0, tzinfo=UTC)  # 00:30 on 21 March in Tehran
ROUNDS = [NOWRUZ_1405 + timedelta(days=7 * week) for week in range(6)]
PERSIAN_SERIES = [
    Series("گروه الف", [(moment, 0.2 + 0.1 * week) for week, moment in enumerate(ROUNDS)]),
    Series("گروه‌های شمالی", [(moment, 0.5) for moment in ROUNDS]),
    Series(
        "Team Alpha گروه",
        [(moment, None if week == 2 else 0.9) for week, moment in enumerate(ROUNDS)],
    ),
]


@contextmanager
def no_warnings() -> Iterator[None]:
    """Turns any warning (matplotlib's «Glyph … missing from font(s)» above all) into a failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def assert_chart_png(data: bytes) -> None:
    assert data.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert image.size == (1200, 700)


def drawn_texts(figure: Figure) -> list[str]:
    figure.canvas.draw()
    return [text.get_text() for text in figure.findobj(lambda artist: hasattr(artist, "get_text"))]


def visible_tick_labels(axis: Axis) -> list[str]:
    """Locators also label a tick just outside the view; only the ones inside are drawn."""
    axis.figure.canvas.draw()
    low, high = sorted(axis.get_view_interval())
    return [
        label.get_text()
        for label, location in zip(axis.get_ticklabels(), axis.get_ticklocs(), strict=True)
        if low <= location <= high
    ]


@pytest.mark.parametrize("language", ["fa", "en"])
def test_line_chart_is_a_1200_by_700_png(language: str) -> None:
    assert_chart_png(line_chart(PERSIAN_SERIES, language, "مشارکت", percent=True))


@pytest.mark.parametrize("language", ["fa", "en"])
def test_bar_chart_is_a_1200_by_700_png(language: str) -> None:
    assert_chart_png(bar_chart(["بله", "خیر", "Maybe"], [3, 5, 0], language, "Question"))


def test_persian_text_renders_without_missing_glyphs() -> None:
    with no_warnings():
        assert_chart_png(
            line_chart(
                PERSIAN_SERIES, "fa", "مشارکت گروه‌ها در دوره‌ها", percent=True, y_label="مشارکت"
            )
        )
        assert_chart_png(line_chart(PERSIAN_SERIES, "fa", "شمار پاسخ‌ها", y_label="پاسخ"))
        assert_chart_png(
            bar_chart(
                ["خیلی خوب", "خوب", "نمی‌دانم / Not sure"], [42, 30, 3], "fa", "جلسه چطور بود؟"
            )
        )


def test_emoji_become_boxes_without_a_warning_per_glyph() -> None:
    with no_warnings():
        assert_chart_png(bar_chart(["👍", "👎 نه", "👨‍👩‍👧 family"], [2, 1, 1], "fa", "نظر 🎉"))
        assert_chart_png(line_chart([Series("🚀 گروه", [(ROUNDS[0], 1.0)])], "en", "✅ Done"))
    assert charts._text("👍 yes", "en") == "□ yes"


def test_x_ticks_are_jalali_with_persian_digits_in_fa_and_gregorian_in_en() -> None:
    assert charts._date_labels([NOWRUZ_1405], "fa", fmt.TEHRAN) == ["۱ فروردین ۱۴۰۵"]
    assert charts._date_labels([NOWRUZ_1405], "en", fmt.TEHRAN) == ["21 Mar 2026"]
    assert charts._date_labels([NOWRUZ_1405], "en", charts.ZoneInfo("UTC")) == ["20 Mar 2026"]

    def ticks(language: str) -> list[str]:
        figure = charts._line_figure(
            PERSIAN_SERIES, language, "t", percent=True, tz=fmt.TEHRAN, y_label=""
        )
        figure.canvas.draw()
        return [label.get_text() for label in figure.axes[0].get_xticklabels()]

    assert ticks("fa")[0] == "۱ فروردین ۱۴۰۵"
    assert ticks("fa")[-1] == fmt.day(ROUNDS[-1], "fa")
    assert ticks("en")[0] == "21 Mar 2026"


def test_percent_axis_uses_the_readers_digits() -> None:
    def y_ticks(language: str) -> list[str]:
        figure = charts._line_figure(
            PERSIAN_SERIES, language, "t", percent=True, tz=fmt.TEHRAN, y_label=""
        )
        return visible_tick_labels(figure.axes[0].yaxis)

    assert y_ticks("fa") == ["۰٪", "۲۰٪", "۴۰٪", "۶۰٪", "۸۰٪", "۱۰۰٪"]
    assert y_ticks("en") == ["0%", "20%", "40%", "60%", "80%", "100%"]


def test_count_axis_uses_persian_digits_and_separators() -> None:
    series = [Series("", [(moment, 2500.0 * week) for week, moment in enumerate(ROUNDS)])]
    figure = charts._line_figure(series, "fa", "t", percent=False, tz=fmt.TEHRAN, y_label="")
    labels = visible_tick_labels(figure.axes[0].yaxis)
    assert "۱۰٬۰۰۰" in labels
    assert "۰" in labels
    assert not figure.legends  # an unlabelled single series needs no legend


def bars(labels: list[str], counts: list[int], language: str) -> Figure:
    """bar_chart's figure, before it becomes a PNG."""
    return charts._bar_figure(labels, counts, charts._count_notes(counts, language), language, "t")


def test_bar_annotations_give_count_and_share_in_the_readers_digits() -> None:
    fa = drawn_texts(bars(["بله", "خیر"], [3, 1], "fa"))
    assert fmt.RLM + "۳ (۷۵٪)" in fa
    assert fmt.RLM + "۱ (۲۵٪)" in fa
    en = drawn_texts(bars(["Yes", "No"], [3, 1], "en"))
    assert "3 (75%)" in en


def test_bar_chart_is_mirrored_in_persian() -> None:
    axes = bars(["بله", "خیر"], [3, 1], "fa").axes[0]
    assert axes.xaxis_inverted()
    assert axes.yaxis.get_ticks_position() == "right"
    assert not bars(["Yes"], [1], "en").axes[0].xaxis_inverted()


def test_zero_total_does_not_divide_by_zero() -> None:
    assert_chart_png(bar_chart(["بله", "خیر"], [0, 0], "fa", "t"))
    assert fmt.RLM + "۰ (۰٪)" in drawn_texts(bars(["بله"], [0], "fa"))


def test_bar_labels_and_counts_must_pair_up() -> None:
    with pytest.raises(ValueError):
        bar_chart(["a", "b"], [1], "en", "t")


@pytest.mark.parametrize(
    "series",
    [
        [],
        [Series("empty", [])],
        [Series("none", [(moment, None) for moment in ROUNDS])],
        [Series("inf", [(ROUNDS[0], float("inf")), (ROUNDS[1], float("nan"))])],
    ],
    ids=["no series", "no points", "all none", "not finite"],
)
@pytest.mark.parametrize("language", ["fa", "en"])
def test_no_data_still_gives_a_chart(series: list[Series], language: str) -> None:
    with no_warnings():
        assert_chart_png(line_chart(series, language, "بدون داده"))


def test_empty_bar_chart_still_gives_a_chart() -> None:
    with no_warnings():
        assert_chart_png(bar_chart([], [], "fa", "بدون پاسخ"))


@pytest.mark.parametrize("percent", [True, False])
def test_a_single_point(percent: bool) -> None:
    with no_warnings():
        assert_chart_png(
            line_chart([Series("تنها", [(ROUNDS[0], 0.4)])], "fa", "t", percent=percent)
        )


def test_many_series_with_huge_mixed_labels() -> None:
    series = [
        Series(
            f"گروه {index} Group {index} " + "بسیار طولانی " * 400,
            [(moment, (index + week) % 5 / 4) for week, moment in enumerate(ROUNDS)],
        )
        for index in range(12)
    ]
    with no_warnings():
        assert_chart_png(line_chart(series, "fa", "ت" * 5000, percent=True, y_label="y" * 5000))
        assert_chart_png(bar_chart(["x" * 5000, "پاسخ " * 1000], [1, 2], "en", "q" * 5000))


def test_labels_are_one_short_line_and_right_to_left_when_persian() -> None:
    long = charts._text("پاسخ " * 1000, "fa")
    assert len(long) <= charts.LABEL_LIMIT
    assert long.endswith("…")
    assert charts._text("two\nlines", "en") == "two lines"
    assert charts._text("Alpha گروه", "fa") == fmt.RLM + "Alpha گروه"  # Persian reading order
    assert charts._text("Team (north)", "fa") == "Team (north)"  # all Latin: no jumping bracket
    assert charts._text("Alpha گروه", "en") == "Alpha گروه"


def test_dollar_signs_are_not_mathtext() -> None:
    with no_warnings():
        assert_chart_png(bar_chart(["$5 and $10", "a_b^c"], [1, 1], "en", "$x$ cost $"))


def test_date_ticks_keep_one_per_day_and_never_crowd() -> None:
    morning = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
    assert charts._date_ticks([morning, morning + timedelta(hours=2)], fmt.TEHRAN) == [morning]

    bunched = [morning + timedelta(days=day) for day in range(3)] + [morning + timedelta(days=90)]
    ticks = charts._date_ticks(bunched, fmt.TEHRAN)
    assert ticks[0] == bunched[0]
    assert ticks[-1] == bunched[-1]
    assert len(ticks) == 2  # the bunched days would overlap on a 90-day axis

    daily = [morning + timedelta(days=day) for day in range(100)]
    ticks = charts._date_ticks(daily, fmt.TEHRAN)
    assert ticks[0] == daily[0]
    assert ticks[-1] == daily[-1]
    assert len(ticks) <= charts.MAX_DATE_TICKS + 1
    assert charts._date_ticks([], fmt.TEHRAN) == []


def test_rendering_is_deterministic() -> None:
    first = line_chart(PERSIAN_SERIES, "fa", "مشارکت", percent=True)
    second = line_chart(PERSIAN_SERIES, "fa", "مشارکت", percent=True)
    assert len(first) == len(second)
    assert first == second
    assert bar_chart(["بله"], [1], "fa", "t") == bar_chart(["بله"], [1], "fa", "t")


def test_importing_the_module_does_not_load_matplotlib() -> None:
    code = "import sys, bot.charts; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


MARGIN_PX = 24


def ink_box(data: bytes) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of everything drawn on the white image."""
    from PIL import ImageOps

    with Image.open(io.BytesIO(data)) as image:
        box = ImageOps.invert(image.convert("L")).getbbox()
    assert box is not None
    return box


@pytest.mark.parametrize("language", ["fa", "en"])
def test_titles_and_labels_keep_clear_of_the_image_edges(language: str, tmp_path) -> None:
    title = "مشارکت در پیگیری‌های دوره‌ای Participation"
    pictures = {
        "line": line_chart(PERSIAN_SERIES, language, title, percent=True),
        "bar": bar_chart(["بله", "خیر", "Maybe"], [3, 5, 1], language, title),
        "share": share_chart(
            ["پرسش‌نامهٔ محله", "Trees planted"], [0.3, 1.2], ["۱۲ از ۴۰", "120%"], language, title
        ),
    }
    for name, data in pictures.items():
        (tmp_path / f"{name}-{language}.png").write_bytes(data)  # to look at
        left, top, right, bottom = ink_box(data)
        assert top >= MARGIN_PX, (name, top)
        assert left >= MARGIN_PX and 1200 - right >= MARGIN_PX, (name, left, right)
        assert 700 - bottom >= MARGIN_PX, (name, bottom)


MONDAY = datetime(2026, 6, 1, 14, 30, tzinfo=UTC)


def weekly(
    values: list[float | None], start: datetime = MONDAY
) -> list[tuple[datetime, float | None]]:
    return [(start + timedelta(days=7 * week), value) for week, value in enumerate(values)]


def test_the_average_of_groups_meeting_together_is_the_mean_of_each_round() -> None:
    mean = charts.average(
        [Series("a", weekly([0.2, 0.4, 0.6])), Series("b", weekly([0.4, 0.8, 1.0]))], "all"
    )
    assert mean.label == "all" and mean.summary
    assert [moment for moment, _ in mean.points] == [moment for moment, _ in weekly([0, 0, 0])]
    assert [value for _, value in mean.points] == pytest.approx([0.3, 0.6, 0.8])


def test_the_average_pools_each_week_whatever_day_a_group_meets() -> None:
    tuesday_late = MONDAY + timedelta(days=1, hours=3)
    mean = charts.average(
        [Series("a", weekly([0.2, 0.4])), Series("b", weekly([0.6, 0.8], tuesday_late))], "all"
    )
    assert [value for _, value in mean.points] == pytest.approx([0.4, 0.6])
    assert mean.points[0][0] == MONDAY + (tuesday_late - MONDAY) / 2  # between the two rounds


def test_a_group_with_more_rounds_counts_once_and_no_answer_is_left_out() -> None:
    daily = [(MONDAY + timedelta(days=day), 1.0) for day in range(3)]  # 3 rounds in week one
    mean = charts.average(
        [
            Series("a", weekly([0.2, None, 0.4])),
            Series("b", weekly([0.4, None, 0.6])),
            Series("c", daily),
        ],
        "all",
    )
    values = [value for _, value in mean.points]
    # Spans of a week (two of the three groups are weekly), where c counts once.
    assert values[0] == pytest.approx((0.2 + 0.4 + 1.0) / 3)
    assert values[1] is None  # nobody was expected that round: a gap, not a zero
    assert values[2] == pytest.approx(0.5)
    assert charts.average([], "all").points == []


def test_the_average_is_drawn_dark_and_plain_and_the_groups_keep_the_first_colours() -> None:
    series = [
        charts.average(PERSIAN_SERIES, "میانگین"),
        *PERSIAN_SERIES[:2],
    ]
    figure = charts._line_figure(series, "fa", "t", percent=True, tz=fmt.TEHRAN, y_label="")
    average, first, second = figure.axes[0].get_lines()
    assert average.get_color() == charts.INK and average.get_marker() in ("None", None, "")
    assert average.get_linewidth() > first.get_linewidth()
    assert (first.get_color(), second.get_color()) == charts.COLOURS[:2]
    assert [text.get_text() for text in figure.legends[0].get_texts()] == [
        "میانگین",
        "گروه الف",
        "گروه‌های شمالی",
    ]
    with no_warnings():
        assert_chart_png(charts._png(figure))
