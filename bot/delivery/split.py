"""Telegram's length limits, met by splitting: one splitter for the outbox and for direct
replies, so that no message the bot composes from people's text is ever refused as too long.

Telegram measures a text after parsing its HTML: a tag shows nothing and an escape such as
``&lt;`` shows one character. It counts characters; counting UTF-16 code units, as entity
offsets do, is never less, so a part measured that way always fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TEXT_LIMIT = 4096  # a message's text
CAPTION_LIMIT = 1024  # a photo's or a document's caption
MORE = "…"  # ends a text that had to be shortened (an edit cannot be split)

# A tag, an escape Telegram decodes (the four named ones and numeric ones), or one character.
_TOKENS = re.compile(
    r"<[^>]*>|&(?:#[xX][0-9a-fA-F]{1,6};?|#[0-9]{1,7};?|(?:lt|gt|amp|quot)(?![A-Za-z]);?)|.",
    re.DOTALL,
)
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][\w-]*)")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class _Token:
    raw: str
    weight: int  # what it shows, in UTF-16 code units; 0 for a tag
    tag: str = ""  # the tag's name
    closes: bool = False


def _tokens(html: str) -> list[_Token]:
    tokens = []
    for match in _TOKENS.finditer(html):
        raw = match.group()
        if raw.startswith("<") and (name := _TAG_NAME.match(raw)):
            tokens.append(_Token(raw, 0, name.group(1).lower(), raw.startswith("</")))
        elif raw.startswith("&") and len(raw) > 1:
            tokens.append(_Token(raw, 2 if _astral(raw) else 1))
        else:
            tokens.append(_Token(raw, utf16_len(raw)))
    return tokens


def _astral(escape: str) -> bool:
    """A numeric escape of a character outside the Basic Multilingual Plane (two units)."""
    digits = escape.strip("&#;")
    if not digits or digits[0] in "lgaq":  # &lt; &gt; &amp; &quot;
        return False
    code = int(digits[1:], 16) if digits[0] in "xX" else int(digits)
    return code > 0xFFFF


def fits(html: str, limit: int = TEXT_LIMIT) -> bool:
    # The HTML is never shorter than what it shows: most texts need no parsing.
    return utf16_len(html) <= limit or sum(t.weight for t in _tokens(html)) <= limit


def split_html(html: str, limit: int = TEXT_LIMIT, first_limit: int | None = None) -> list[str]:
    """Parts of `html` that each fit (the first within `first_limit`, e.g. a caption), cut at
    the last line break that fits, else the last space, else anywhere (a monster word); tags
    open at a cut are closed at the end of the part and opened again at the start of the next.
    A part that would show nothing but spaces is left out."""
    first = limit if first_limit is None else first_limit
    if fits(html, first):
        return [html]
    tokens = _tokens(html)
    parts: list[str] = []
    open_tags: list[_Token] = []
    start = 0
    while start < len(tokens):
        cut = _cut(tokens, start, first if not parts else limit)
        reopened = "".join(tag.raw for tag in open_tags)
        body = tokens[start:cut]
        for token in body:
            if token.tag and not token.closes:
                open_tags.append(token)
            elif token.tag:
                for index in range(len(open_tags) - 1, -1, -1):
                    if open_tags[index].tag == token.tag:
                        del open_tags[index]
                        break
        closed = "".join(f"</{tag.tag}>" for tag in reversed(open_tags))
        if any(token.weight and not token.raw.isspace() for token in body):
            parts.append(reopened + "".join(token.raw for token in body) + closed)
        start = cut
    return parts


def _cut(tokens: list[_Token], start: int, budget: int) -> int:
    """Where the part that begins at `start` ends (exclusive)."""
    end, used = start, 0
    while end < len(tokens) and used + tokens[end].weight <= budget:
        used += tokens[end].weight
        end += 1
    if end == len(tokens):
        return end
    breaks = range(end, start, -1)
    cut = next((i for i in breaks if tokens[i - 1].raw == "\n"), 0) or next(
        (i for i in breaks if tokens[i - 1].raw.isspace()), max(end, start + 1)
    )
    while cut < len(tokens) and tokens[cut].closes:  # a closing tag stays with its text
        cut += 1
    while cut > start + 1 and tokens[cut - 1].tag and not tokens[cut - 1].closes:
        cut -= 1  # an opening tag goes with the text it opens
    return cut


def shorten_html(html: str, limit: int = TEXT_LIMIT) -> str:
    """The first part of `html` that fits, marked as cut short, for where one message must do."""
    if fits(html, limit):
        return html
    return split_html(html, limit - utf16_len(MORE))[0] + MORE
