"""What a row sends, stored per language and rendered for its recipient at send time."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bot.i18n import DEFAULT_LANGUAGE
from bot.i18n.format import rtl_safe

MediaKind = Literal["photo", "document"]


@dataclass(frozen=True)
class Media:
    kind: MediaKind
    file_id: str | None = None  # a file Telegram already has
    path: str | None = None  # a local file, uploaded once and then sent by its file_id
    file_name: str | None = None
    # Small files made for the reader (a calendar file): language → base64 of the bytes.
    data: dict[str, str] | None = None


@dataclass(frozen=True)
class Button:
    text: dict[str, str]
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Poll:
    """A native Telegram poll, never anonymous, so that each vote reaches us (poll_answer)."""

    question: dict[str, str]  # language → plain text
    options: list[dict[str, str]]
    multiple: bool = False


@dataclass(frozen=True)
class Content:
    text: dict[str, str]  # language → HTML, already escaped
    media: Media | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    pin: bool = False
    poll: Poll | None = None
    stops_poll: int | None = None  # this row closes the poll in this message (stopPoll)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Content:
        media, poll = data.get("media"), data.get("poll")
        return cls(
            text=dict(data.get("text") or {}),
            media=Media(**media) if media else None,
            buttons=[[Button(**button) for button in row] for row in data.get("buttons") or []],
            pin=bool(data.get("pin")),
            poll=Poll(**poll) if poll else None,
            stops_poll=data.get("stops_poll"),
        )


def pick(texts: dict[str, str], language: str) -> str:
    """The text in this language, or in the other one when it is missing."""
    if texts.get(language):
        return texts[language]
    for other in (DEFAULT_LANGUAGE, *texts):
        if texts.get(other):
            return texts[other]
    return ""


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: list[list[tuple[str, str | None, str | None]]]  # label, callback data, url
    poll_question: str = ""
    poll_options: list[str] = field(default_factory=list)
    poll_multiple: bool = False
    attachment: bytes | None = None  # Media.data in the reader's language


POLL_QUESTION_MAX, POLL_OPTION_MAX = 300, 100  # Telegram's limits


def _both(texts: dict[str, str], limit: int) -> str:
    """Persian and English in one line for a mixed group chat, within Telegram's limit."""
    joined = " / ".join(dict.fromkeys(t for t in (texts.get("fa"), texts.get("en")) if t))
    return joined if len(joined) <= limit else pick(texts, DEFAULT_LANGUAGE)[:limit]


def render(content: Content, language: str) -> Rendered:
    """`language` is "fa", "en" or "both" (one after the other, for a mixed group chat). The
    text comes directed for its reader: right-to-left marks in Persian only, so in both
    languages in the Persian half only."""
    both = language == "both"
    if both:
        halves = [(content.text.get(lang), lang) for lang in ("fa", "en")]
        text = "\n\n— — —\n\n".join(rtl_safe(half, lang) for half, lang in halves if half)
        language = DEFAULT_LANGUAGE
    else:
        text = rtl_safe(pick(content.text, language), language)
    buttons = [
        [(pick(button.text, language), button.callback_data, button.url) for button in row]
        for row in content.buttons
    ]
    if content.poll is None:
        attachment = None
        if content.media is not None and content.media.data:
            attachment = base64.b64decode(pick(content.media.data, language))
        return Rendered(text, buttons, attachment=attachment)
    poll = content.poll
    if both:
        question = _both(poll.question, POLL_QUESTION_MAX)
        options = [_both(option, POLL_OPTION_MAX) for option in poll.options]
    else:
        question = pick(poll.question, language)[:POLL_QUESTION_MAX]
        options = [pick(option, language)[:POLL_OPTION_MAX] for option in poll.options]
    return Rendered(text, buttons, question, options, poll.multiple)
