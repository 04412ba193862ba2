"""Pure rules of the emulator: Telegram's HTML dialect and the sliding-window limits."""

from __future__ import annotations

import pytest

from bot.sandbox.errors import ApiError
from bot.sandbox.formatting import HtmlError, parse_html, render
from bot.sandbox.limits import Limits, RateMeter


def test_entities_are_measured_in_utf16_units() -> None:
    rendered = parse_html("😀 <b>سلام</b> <a href='https://t.me/x?a=1&amp;b=2'>link</a>")
    assert rendered.plain == "😀 سلام link"
    assert rendered.entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 8, "length": 4, "url": "https://t.me/x?a=1&b=2"},
    ]


def test_pre_with_language_and_nested_formatting() -> None:
    rendered = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        "<b>bold <i>both</i></b><tg-spoiler>s</tg-spoiler>"
        '<blockquote expandable>q</blockquote><span class="tg-spoiler">t</span>'
    )
    types = [(e["type"], e["offset"], e["length"], e.get("language")) for e in rendered.entities]
    assert types == [
        ("pre", 0, 5, "python"),
        ("bold", 5, 9, None),
        ("italic", 10, 4, None),
        ("spoiler", 14, 1, None),
        ("expandable_blockquote", 15, 1, None),
        ("spoiler", 16, 1, None),
    ]


def test_entities_and_bare_ampersands_decode_like_telegram() -> None:
    assert parse_html("R&D &lt;3 &#1587;&#x644;&quot; &nbsp;").plain == 'R&D <3 سل" &nbsp;'


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("ی<b>x", "Can't find end tag corresponding to start tag b"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<a href>x</a>", 'Expected equal sign in declaration of an attribute of the tag "a"'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
def test_malformed_html_is_rejected(source: str, error: str) -> None:
    with pytest.raises(HtmlError, match=error):
        parse_html(source)


def test_render_trims_like_telegram_and_wraps_errors() -> None:
    rendered = render("\n  <b>hi</b> there \n", "HTML", None)
    assert (rendered.plain, rendered.entities) == (
        "hi there",
        [{"type": "bold", "offset": 0, "length": 2}],
    )
    with pytest.raises(ApiError, match="Bad Request: can't parse entities: Unsupported"):
        render("<x>", "html", None)
    assert render("<b>", None, None).plain == "<b>"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def send(meter: RateMeter, chat_id: int, is_group: bool = False) -> tuple[str, ...]:
    verdict = meter.check(chat_id, is_group)
    meter.record(chat_id)
    return verdict.violated


def test_private_chat_window_allows_rate_plus_burst() -> None:
    clock = FakeClock()
    meter = RateMeter(Limits(), clock)
    assert [send(meter, 1) for _ in range(3)] == [(), (), ("chat",)]
    clock.now += 1.01
    assert send(meter, 1) == ()
    assert meter.violations == {"global": 0, "chat": 1, "group": 0}


def test_group_window_is_a_minute_and_retry_after_counts_down() -> None:
    clock = FakeClock()
    meter = RateMeter(Limits(group_per_min=2), clock)
    send(meter, -5, is_group=True)
    clock.now += 20
    send(meter, -5, is_group=True)
    clock.now += 10
    verdict = meter.check(-5, True)
    assert verdict.violated == ("group",) and verdict.retry_after == 30


def test_global_window_spans_chats() -> None:
    meter = RateMeter(Limits(global_per_s=2), FakeClock())
    assert [send(meter, chat) for chat in (1, 2, 3)] == [(), (), ("global",)]


def test_limits_update_checks_fields() -> None:
    limits = Limits().updated({"global_per_s": "0.5", "enforce": 1})
    assert (limits.global_per_s, limits.enforce) == (0.5, True)
    with pytest.raises(ValueError, match="unknown limit fields"):
        Limits().updated({"per_hour": 1})
