"""Splitting a message's HTML into parts Telegram accepts, checked with the emulator's own
parser (the one that refuses what Telegram refuses)."""

from __future__ import annotations

from bot.delivery.split import CAPTION_LIMIT, MORE, TEXT_LIMIT, shorten_html, split_html
from bot.sandbox.formatting import parse_html, render, utf16_len


def shown(html: str) -> str:
    """What a person reads (Telegram trims the spaces around a message)."""
    return render(html, "HTML", None).plain


def words(texts: list[str]) -> list[str]:
    return " ".join(texts).split()


def assert_parts_fit(parts: list[str], limit: int = TEXT_LIMIT) -> None:
    for part in parts:
        plain = shown(part)  # raises on unbalanced tags
        assert plain.strip(), "an empty part"
        assert utf16_len(plain) <= limit


def test_a_text_that_fits_is_left_alone() -> None:
    text = "<b>سلام</b> &amp; hello\n" * 10
    assert split_html(text) == [text]


def test_escapes_count_as_one_character_and_tags_as_none() -> None:
    text = "<b>" + "&lt;" * TEXT_LIMIT + "</b>"  # 16,391 characters of HTML, 4,096 shown
    assert split_html(text) == [text]
    assert len(split_html(text + "x")) == 2


def test_a_long_summary_is_cut_at_line_breaks_with_its_tags_balanced() -> None:
    lines = [f"• <b>عضو {n}</b>: <i>{'پاسخ بلند ' * 30}</i>" for n in range(100)]
    text = "📋 <b>جمع‌بندی</b>\n" + "\n".join(lines)
    parts = split_html(text)
    assert len(parts) > 2
    assert_parts_fit(parts)
    assert all(shown(part).startswith(("•", "📋")) for part in parts)  # whole lines only
    assert words([shown(part) for part in parts]) == words([shown(text)])


def test_a_cut_inside_formatting_closes_it_and_opens_it_again() -> None:
    text = '<blockquote expandable><a href="https://x.org/?a=1&amp;b=2">' + "word " * 2000
    text += "</a></blockquote>"
    parts = split_html(text)
    assert len(parts) == 3
    assert_parts_fit(parts)
    for part in parts:
        entities = {entity["type"] for entity in parse_html(part).entities}
        assert entities == {"expandable_blockquote", "text_link"}
    assert words([shown(part) for part in parts]) == words([shown(text)])


def test_a_monster_word_is_cut_anywhere_and_emoji_count_as_two() -> None:
    text = "😀" * 5000  # 10,000 UTF-16 code units
    parts = split_html(text)
    assert [utf16_len(part) for part in parts] == [4096, 4096, 1808]
    assert "".join(parts) == text


def test_a_caption_is_a_short_first_part() -> None:
    text = "\n".join(f"<b>{n}</b> " + "متن " * 40 for n in range(40))
    parts = split_html(text, TEXT_LIMIT, first_limit=CAPTION_LIMIT)
    assert utf16_len(shown(parts[0])) <= CAPTION_LIMIT
    assert_parts_fit(parts)
    assert words([shown(part) for part in parts]) == words([shown(text)])


def test_an_edit_that_cannot_be_split_is_shortened_and_says_so() -> None:
    text = "<b>" + "خط\n" * 3000 + "</b>"
    short = shorten_html(text)
    assert short.endswith(MORE)
    assert utf16_len(shown(short)) <= TEXT_LIMIT
    assert shorten_html("<b>کوتاه</b>") == "<b>کوتاه</b>"
