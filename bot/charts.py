"""PNG charts for staff, in the reader's language.

matplotlib is imported inside the functions: it costs tens of megabytes and most processes never
draw. Each chart is its own Figure on an Agg canvas (no pyplot registry), so calls share no state.
matplotlib >= 3.11 shapes Persian itself (libraqm), so strings go in plain (shared/persian.md).
"""

from __future__ import annotations

import functools
import io
import math
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.i18n import format as fmt
from bot.i18n.format import TEHRAN

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_INCHES, HEIGHT_INCHES, DPI = 12, 7, 100  # 1200×700 px: readable on a phone, fixed for tests
MARGIN_INCHES = 0.3  # 30 px of white around the chart, its title included
LEGEND_SIZE = 10
TITLE_SIZE = 16
TITLE_BAND_INCHES = 0.5  # the title's line and the space under it
FONT = "DejaVu Sans"  # bundled with matplotlib, joined Persian glyphs
LABEL_LIMIT = 40
TITLE_LIMIT = 90
MIN_ROWS = 4  # a bar chart is laid out for at least this many bars
MAX_DATE_TICKS = 6  # dates like «۲۶ اردیبهشت ۱۴۰۵» stay apart beside a wide legend
# Okabe–Ito: told apart with the common colour-vision deficiencies. Yellow last, it is faint on
# white; past eight series the colours repeat dashed, and markers differ too.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")
LINE_STYLES = ("-", "--")
MARKERS = ("o", "s", "^", "D", "v", "P")
INK = "#222222"
MUTED = "#666666"
GRID = "#e8e8e8"
BAR = "#0072B2"
MISSING_GLYPH = "□"
PNG_LEVEL = 1  # zlib's fastest


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[datetime, float | None]]  # aware datetimes; None = no data that round
    summary: bool = False  # it sums up other series (an average): thick and dark, no markers


def average(series: Sequence[Series], label: str) -> Series:
    """The series' mean over time, for a chart of too many lines to tell apart (a city's
    working groups). Rounds are pooled in spans of the series' usual step (a week for weekly
    check-ins, though groups meet on different days), centred on the first round so a round a
    little late stays in its own span; each series counts once in a span however many rounds
    it had there, and the point sits at the span's mean moment."""
    points = [sorted(one.points, key=lambda point: point[0]) for one in series]
    moments = [moment for one in points for moment, _ in one]
    if not moments:
        return Series(label, [], summary=True)
    steps = [
        statistics.median_low(later - earlier for (earlier, _), (later, _) in pairwise(one))
        for one in points
        if len(one) > 1
    ]
    step = max(statistics.median_low(steps), timedelta(days=1)) if steps else timedelta(days=1)
    first = min(moments)
    spans: dict[int, tuple[list[datetime], dict[int, list[float]]]] = {}
    for index, one in enumerate(points):
        for moment, value in one:
            when, values = spans.setdefault(round((moment - first) / step), ([], {}))
            when.append(moment)
            if not math.isnan(value := _finite(value)):
                values.setdefault(index, []).append(value)
    return Series(
        label,
        [
            (
                first + sum((moment - first for moment in when), timedelta()) / len(when),
                statistics.fmean(statistics.fmean(each) for each in values.values())
                if values
                else None,
            )
            for _span, (when, values) in sorted(spans.items())
        ],
        summary=True,
    )


def line_chart(
    series: Sequence[Series],
    language: str,
    title: str,
    *,
    percent: bool = False,
    tz: ZoneInfo = TEHRAN,
    y_label: str = "",
) -> bytes:
    """Values over time, one line per series: participation per group over rounds, an indicator's
    trend. percent=True takes 0..1 and shows 0–100 %. Ticks sit on the rounds themselves and are
    dated in tz's calendar day (Jalali in fa), not matplotlib's Gregorian month starts."""
    return _png(_line_figure(series, language, title, percent=percent, tz=tz, y_label=y_label))


def bar_chart(labels: Sequence[str], counts: Sequence[int], language: str, title: str) -> bytes:
    """Horizontal bars for a survey question's answers, each with its count and share of the total
    (horizontal so long answers stay readable; mirrored in fa). A zero total shows 0 %."""
    if len(labels) != len(counts):
        raise ValueError(f"{len(labels)} labels but {len(counts)} counts")
    return _png(_bar_figure(labels, counts, _count_notes(counts, language), language, title))


def share_chart(
    labels: Sequence[str], shares: Sequence[float], notes: Sequence[str], language: str, title: str
) -> bytes:
    """Horizontal bars of shares (0..1, more past a target), each with its own note: a survey's
    response rate («12 of 40 (30 %)»), who is coming to each meeting, an indicator's progress.
    A share below zero shows as an empty bar."""
    if not len(labels) == len(shares) == len(notes):
        raise ValueError("one share and one note for each label")
    values = [max(share, 0.0) for share in shares]
    return _png(_bar_figure(labels, values, notes, language, title, whole=1.0))


def _line_figure(
    series: Sequence[Series],
    language: str,
    title: str,
    *,
    percent: bool,
    tz: ZoneInfo,
    y_label: str,
) -> Figure:
    from matplotlib.dates import date2num
    from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

    figure, axes = _figure(language, title)
    values = [value for s in series for _, v in s.points if not math.isnan(value := _finite(v))]
    if not values:
        _no_data(axes)
        return figure

    handles, labels = [], []
    index = 0  # of the series drawn in colour
    for one in series:
        points = sorted(one.points, key=lambda point: point[0])
        style = (
            {"color": INK, "linewidth": 3.5, "zorder": 3}  # over the lines it sums up
            if one.summary
            else {
                "color": COLOURS[index % len(COLOURS)],
                "linestyle": LINE_STYLES[index // len(COLOURS) % len(LINE_STYLES)],
                "marker": MARKERS[index % len(MARKERS)],
                "markersize": 5,
                "linewidth": 2,
            }
        )
        index += not one.summary
        (line,) = axes.plot(
            date2num([moment for moment, _ in points]),
            [_finite(value) for _, value in points],
            **style,
        )
        if one.label.strip():
            handles.append(line)
            labels.append(_text(one.label, language))

    ticks = _date_ticks([moment for s in series for moment, _ in s.points], tz)
    positions = date2num(ticks)
    axes.set_xticks(positions, _date_labels(ticks, language, tz))
    if len(positions) == 1:  # one round: give it room instead of a zero-width axis
        axes.set_xlim(positions[0] - 1, positions[0] + 1)
    else:
        axes.margins(x=0.03)

    low, high = min(values), max(values)
    if percent:
        low, high = min(low, 0.0), max(high, 1.0)
        pad = (high - low) * 0.03
        axes.set_ylim(low - pad, high + pad)
        axes.yaxis.set_major_locator(MultipleLocator(0.2))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.percent(v, language)))
    else:
        if low >= 0:
            axes.set_ylim(bottom=0)
        axes.yaxis.set_major_locator(MaxNLocator(nbins=6))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _number(v, language)))
    if y_label:
        axes.set_ylabel(_text(y_label, language), fontfamily=FONT, color=MUTED, parse_math=False)
    axes.grid(axis="y", color=GRID, linewidth=0.8)

    if handles:
        legend = figure.legend(
            handles,
            labels,
            loc="outside right center",
            frameon=False,
            markerfirst=language != "fa",  # swatch on the reading side; labels right-aligned in fa
            prop={"family": FONT, "size": LEGEND_SIZE},
            borderaxespad=MARGIN_INCHES * 72 / LEGEND_SIZE,  # the margin, in font sizes
        )
        for text in legend.get_texts():
            text.set_parse_math(False)
    return figure


def _count_notes(counts: Sequence[int], language: str) -> list[str]:
    """«3 (75 %)»: each count with its share of the total."""
    total = sum(counts)
    return [
        f"{fmt.number(count, language)} ({fmt.percent(count / total if total else 0, language)})"
        for count in counts
    ]


def _bar_figure(
    labels: Sequence[str],
    values: Sequence[float],
    notes: Sequence[str],
    language: str,
    title: str,
    whole: float | None = None,
) -> Figure:
    """whole: each bar drawn over a faint one of this length, so a share reads as a share."""
    figure, axes = _figure(language, title)
    if not labels:
        _no_data(axes)
        return figure

    rows = range(len(labels))
    size = max(6.0, min(12.0, 360 / len(labels)))  # a long answer list still fits 700 px
    if whole is not None:
        axes.barh(rows, [whole] * len(labels), height=0.6, color=GRID)
    axes.barh(rows, values, height=0.6, color=BAR)
    axes.set_yticks(rows, [_text(label, language) for label in labels], parse_math=False)
    axes.tick_params(axis="y", labelsize=size, labelcolor=INK)
    # First answer on top; a short list keeps bars of a list's height, not the plot's.
    axes.set_ylim(max(len(labels), MIN_ROWS) - 0.5, -0.5)
    axes.set_xlim(0, max(max(values), 1) * 1.3)  # room for the notes
    axes.xaxis.set_visible(False)

    rtl = language == "fa"
    if rtl:  # mirror: answers on the right, bars grow leftwards
        axes.invert_xaxis()
        axes.yaxis.tick_right()
    for spine in ("top", "bottom", "left" if rtl else "right"):
        axes.spines[spine].set_visible(False)
    for row, value, note in zip(rows, values, notes, strict=True):
        axes.annotate(
            fmt.RLM + note if rtl else note,  # RLM: the count reads first, on the right
            xy=(max(value, whole or 0.0), row),  # past the faint whole, not over it
            xytext=(-6 if rtl else 6, 0),
            textcoords="offset points",
            ha="right" if rtl else "left",
            va="center",
            fontsize=size,
            fontfamily=FONT,
            color=INK,
        )
    return figure


def _date_ticks(
    moments: Sequence[datetime], tz: ZoneInfo, limit: int = MAX_DATE_TICKS
) -> list[datetime]:
    """At most one tick per local day, spaced at least 1/limit of the span apart so labels never
    overlap, even when rounds bunch up; the first and the last round always get one."""
    firsts: dict[date, datetime] = {}
    for moment in sorted(moments):
        firsts.setdefault(moment.astimezone(tz).date(), moment)
    days = list(firsts.values())
    if len(days) <= 1:
        return days
    gap: timedelta = (days[-1] - days[0]) / limit
    chosen = [days[0]]
    for moment in days[1:]:
        if moment - chosen[-1] >= gap:
            chosen.append(moment)
    if chosen[-1] != days[-1]:
        if days[-1] - chosen[-1] < gap:
            chosen[-1] = days[-1]
        else:
            chosen.append(days[-1])
    return chosen


def _date_labels(dates: Sequence[datetime], language: str, tz: ZoneInfo = TEHRAN) -> list[str]:
    """The reader's calendar, not matplotlib's: Jalali with Persian digits in fa."""
    return [fmt.day(moment, language, tz) for moment in dates]


def _finite(value: float | None) -> float:
    """None (no data that round) and inf become NaN, which matplotlib leaves as a gap."""
    return value if value is not None and math.isfinite(value) else math.nan


def _number(value: float, language: str) -> str:
    """Axis ticks: float noise like 1e-17 would otherwise print as «-۰»."""
    return fmt.number(0 if abs(value) < 1e-9 else value, language)


def _text(text: str, language: str, limit: int = LABEL_LIMIT) -> str:
    """One line, cut with an ellipsis. Characters DejaVu lacks (emoji) become a box up front: they
    would render as one anyway, but with a warning per glyph per draw. Directed as a label
    (`rtl_safe_label`)."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    covered = _covered()
    flat = "".join(
        char if ord(char) in covered or unicodedata.category(char) == "Cf" else MISSING_GLYPH
        for char in flat
    )
    return fmt.rtl_safe_label(flat, language)


@functools.cache
def _covered() -> frozenset[int]:
    from matplotlib.font_manager import FontProperties, findfont, get_font

    path = findfont(FontProperties(family=FONT), fallback_to_default=False)
    return frozenset(get_font(path).get_charmap())


def _figure(language: str, title: str) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    # White around everything (the layout's own 3-point pad set the title against the image's
    # edge): the title, one line, hangs from the top margin and the plot fits in below it.
    side, margin = MARGIN_INCHES / WIDTH_INCHES, MARGIN_INCHES / HEIGHT_INCHES
    band = TITLE_BAND_INCHES / HEIGHT_INCHES
    figure.get_layout_engine().set(rect=(side, margin, 1 - 2 * side, 1 - 2 * margin - band))
    FigureCanvasAgg(figure)
    rtl = language == "fa"
    figure.suptitle(
        _text(title, language, TITLE_LIMIT),
        x=1 - side if rtl else side,
        y=1 - margin,
        va="top",
        in_layout=False,  # placed by hand, above the rect the layout fills
        ha="right" if rtl else "left",
        fontsize=TITLE_SIZE,
        fontfamily=FONT,
        color=INK,
        parse_math=False,
    )
    axes = figure.add_subplot()
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    for spine in axes.spines.values():
        spine.set_color("#bbbbbb")
    axes.tick_params(colors=MUTED, labelcolor=MUTED, labelsize=10, labelfontfamily=FONT, length=0)
    return figure, axes


def _no_data(axes: Axes) -> None:
    """A blank plot with a dash: readable in either language without a translated message."""
    axes.set_axis_off()
    axes.text(0.5, 0.5, "—", ha="center", va="center", fontsize=48, color=GRID, fontfamily=FONT)


def _png(figure: Figure) -> bytes:
    """One draw, then zlib at level 1. print_png, not savefig: savefig first lays a constrained
    figure out in a draw of its own and then draws it again, where print_png lays it out within
    its one draw. Level 1 takes half the time of the default 6, for some 12 % more bytes over a
    report's charts."""
    buffer = io.BytesIO()
    # No «Software» version stamp: the bytes depend on the chart alone. No figure.clear() after:
    # it rebuilt the axes (some 15 ms a chart) to free what the next cyclic collection
    # frees anyway (after 40 charts in a row, the process held 4 MB more without it).
    figure.canvas.print_png(
        buffer, metadata={"Software": None}, pil_kwargs={"compress_level": PNG_LEVEL}
    )
    return buffer.getvalue()
