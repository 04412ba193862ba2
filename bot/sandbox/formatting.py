"""Message text as Telegram sees it: parse_mode=HTML parsing and entity offsets.

Telegram turns ``<b>hi</b> &amp; you`` into the plain text a person reads plus
entities measured in UTF-16 code units, and rejects malformed markup with
"can't parse entities". The emulator does the same, so a bot that builds bad
HTML fails here exactly as it would in production (bare ``&`` is accepted, as
Telegram accepts it).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import bad_request

SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
SUPPORTED_TAGS = frozenset({*SIMPLE_ENTITY_TYPES, "a", "tg-emoji", "pre", "code", "blockquote"})
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
NAME_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + ".-")


class HtmlError(ValueError):
    """Malformed HTML; the message is Telegram's wording after "can't parse entities: "."""


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the plain text
    start: int  # index in the plain text (code points), for <a> without href


@dataclass
class Rendered:
    """Text after parsing: what the reader sees, and its formatting entities."""

    plain: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def render(text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None) -> Rendered:
    """Parse ``text`` per ``parse_mode`` (or explicit entities) and trim it like Telegram."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            rendered = parse_html(text)
        except HtmlError as e:
            raise bad_request(f"can't parse entities: {e}") from None
    elif not mode:
        rendered = Rendered(text, list(entities or []))
    elif mode in ("markdown", "markdownv2"):
        rendered = Rendered(text)  # not parsed: the bot under test uses HTML

    else:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    return _trim(rendered)


def parse_html(source: str) -> Rendered:
    """Telegram's HTML dialect: the supported tags, four named entities, numeric ones."""
    out: list[str] = []
    offset = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "&" and (decoded := _decode_entity(source, i)) is not None:
            char, i = decoded
            out.append(char)
            offset += utf16_len(char)
            continue
        if ch != "<":
            out.append(ch)
            offset += utf16_len(ch)
            i += 1
            continue
        if source.startswith("/", i + 1):
            i = _close_tag(source, i, stack, entities, offset, out)
        else:
            name, argument, i = _open_tag(source, i)
            stack.append(_OpenTag(name, argument, offset, len(out)))
    if stack:
        raise HtmlError(f"Can't find end tag corresponding to start tag {stack[-1].name}")
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return Rendered("".join(out), entities)


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&name;``/``&#N;``/``&#xH;`` at ``pos``; None means "keep the & as is"."""
    end = pos + 1
    if source.startswith("#", end):
        end += 1
        is_hex = source.startswith("x", end)
        end += is_hex
        digits_start = end
        allowed = string.hexdigits if is_hex else string.digits
        while end < len(source) and source[end] in allowed:
            end += 1
        digits = source[digits_start:end]
        code = int(digits, 16 if is_hex else 10) if digits else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
        if 0xD800 <= code <= 0xDFFF:
            raise HtmlError("Text contains invalid Unicode characters after decoding HTML entities")
        char = chr(code)
    else:
        while end < len(source) and source[end] in string.ascii_letters:
            end += 1
        named = NAMED_ENTITIES.get(source[pos + 1 : end])
        if named is None:
            return None
        char = named
    if source.startswith(";", end):
        end += 1
    return char, end


def _skip_spaces(source: str, i: int) -> int:
    while i < len(source) and source[i].isspace():
        i += 1
    return i


def _open_tag(source: str, begin: int) -> tuple[str, str, int]:
    """Parse a start tag at ``begin``; return its name, argument and the index after '>'."""
    n = len(source)
    i = begin + 1
    while i < n and not source[i].isspace() and source[i] != ">":
        i += 1
    at = _byte_offset(source, begin)
    if i >= n:
        raise HtmlError(f"Unclosed start tag at byte offset {at}")
    name = source[begin + 1 : i].lower()
    if name not in SUPPORTED_TAGS:
        raise HtmlError(f'Unsupported start tag "{name}" at byte offset {at}')
    argument = ""
    while True:
        i = _skip_spaces(source, i)
        if i >= n:
            raise HtmlError(f'Unclosed start tag "{name}" at byte offset {at}')
        if source[i] == ">":
            break
        attr_start = i
        while i < n and not source[i].isspace() and source[i] not in "=>":
            i += 1
        attribute = source[attr_start:i].lower()
        i = _skip_spaces(source, i)
        if not source.startswith("=", i):
            if name == "blockquote" and attribute == "expandable":
                argument = "expandable"
                continue
            raise HtmlError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{name}" at byte offset {at}'
            )
        i = _skip_spaces(source, i + 1)
        if i >= n:
            raise HtmlError(f'Unclosed start tag "{name}" at byte offset {at}')
        value, i = _attribute_value(source, i)
        argument = _tag_argument(name, attribute, value) or argument
    if name == "span" and argument != "spoiler":
        raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
    return name, argument, i + 1


def _attribute_value(source: str, i: int) -> tuple[str, int]:
    n = len(source)
    quote = source[i]
    if quote not in "'\"":
        start = i
        while i < n and source[i] in NAME_TOKEN_CHARS:
            i += 1
        if i < n and not source[i].isspace() and source[i] != ">":
            raise HtmlError(
                f"Unexpected end of name token at byte offset {_byte_offset(source, i)}"
            )
        return source[start:i].lower(), i
    i += 1
    chars: list[str] = []
    while i < n and source[i] != quote:
        if source[i] == "&" and (decoded := _decode_entity(source, i)) is not None:
            char, i = decoded
            chars.append(char)
            continue
        chars.append(source[i])
        i += 1
    return "".join(chars), min(i + 1, n)


def _tag_argument(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return value
    if tag == "code" and attribute == "class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if tag == "span" and attribute == "class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if tag == "tg-emoji" and attribute == "emoji-id":
        return value
    return None


def _close_tag(
    source: str,
    begin: int,
    stack: list[_OpenTag],
    entities: list[dict[str, Any]],
    offset: int,
    out: list[str],
) -> int:
    """Parse an end tag at ``begin``, emitting the entity it closes; return the next index."""
    at = _byte_offset(source, begin)
    if not stack:
        raise HtmlError(f"Unexpected end tag at byte offset {at}")
    n = len(source)
    i = begin + 2
    while i < n and not source[i].isspace() and source[i] != ">":
        i += 1
    end_name = source[begin + 2 : i].lower()
    i = _skip_spaces(source, i)
    if i >= n or source[i] != ">":
        raise HtmlError(f"Unclosed end tag at byte offset {at}")
    top = stack.pop()
    if end_name and end_name != top.name:
        raise HtmlError(
            f'Unmatched end tag at byte offset {at}, expected "</{top.name}>", '
            f'found "</{end_name}>"'
        )
    if offset > top.offset:
        entity = _entity(top, offset - top.offset, "".join(out[top.start :]), entities)
        if entity is not None:
            entities.append(entity)
    return i + 1


def _entity(
    tag: _OpenTag, length: int, inner_text: str, entities: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The entity a closed tag produces (None when it merges into the previous one)."""
    base: dict[str, Any] = {"offset": tag.offset, "length": length}
    last = entities[-1] if entities else None
    same_span = last is not None and (last["offset"], last["length"]) == (tag.offset, length)
    if tag.name in SIMPLE_ENTITY_TYPES:
        return {"type": SIMPLE_ENTITY_TYPES[tag.name], **base}
    if tag.name == "tg-emoji":
        if not tag.argument.isdigit() or int(tag.argument) == 0:
            raise HtmlError("Invalid custom emoji identifier specified")
        return {"type": "custom_emoji", **base, "custom_emoji_id": tag.argument}
    if tag.name == "a":
        return {"type": "text_link", **base, "url": tag.argument or inner_text}
    if tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.argument == "expandable" else "blockquote"
        return {"type": kind, **base}
    if tag.name == "pre":
        if last is not None and same_span and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
            return None
        return {"type": "pre", **base}
    # <code>, possibly the inner part of <pre><code class="language-x">
    if last is not None and same_span and last["type"] == "pre" and tag.argument:
        last["language"] = tag.argument
        return None
    entity = {"type": "code", **base}
    if tag.argument:
        entity["language"] = tag.argument  # dropped at the end unless merged into <pre>
    return entity


def _trim(rendered: Rendered) -> Rendered:
    """Strip surrounding whitespace as Telegram does, keeping entities aligned."""
    text = rendered.plain
    stripped = text.strip()
    if stripped == text:
        return rendered
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    entities: list[dict[str, Any]] = []
    for entity in rendered.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return Rendered(stripped, entities)
