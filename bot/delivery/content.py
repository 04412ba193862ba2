"""What a row sends, stored per language and rendered for its recipient at send time."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bot.i18n import DEFAULT_LANGUAGE
from bot.i18n.format import rtl_safe, rtl_safe_label

MediaKind = Literal["photo", "document"]

ALBUM_SIZES = range(2, 11)  # Telegram's sendMediaGroup takes 2 to 10 files


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
    # Files sent together as one album (sendMediaGroup), the text as the first one's caption:
    # one send instead of one a file, each paced a second apart in the chat.
    album: list[Media] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    pin: bool = False
    poll: Poll | None = None
    stops_poll: int | None = None  # this row closes the poll in this message (stopPoll)

    def __post_init__(self) -> None:
        if not self.album:
            return
        if len(self.album) not in ALBUM_SIZES:
            raise ValueError(f"an album has 2 to 10 files, not {len(self.album)}")
        if len({media.kind for media in self.album}) > 1:
            raise ValueError("an album has photos only or documents only (Telegram's rule)")
        if self.media or self.poll or self.buttons:
            # Telegram's albums take no keyboard, and one row is one send.
            raise ValueError("an album goes alone: no other file, poll or buttons")

    @property
    def files(self) -> list[Media]:
        """The files this row sends, in order."""
        return self.album or ([self.media] if self.media else [])

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Content:
        media, poll = data.get("media"), data.get("poll")
        return cls(
            text=dict(data.get("text") or {}),
            media=Media(**media) if media else None,
            album=[Media(**item) for item in data.get("album") or []],
            buttons=[[Button(**button) for button in row] for row in data.get("buttons") or []],
            pin=bool(data.get("pin")),
            poll=Poll(**poll) if poll else None,
            stops_poll=data.get("stops_poll"),
        )


def written_in(texts: dict[str, str], language: str) -> str:
    """The language `pick` takes the text in: this one, or the other one when it is missing."""
    for candidate in (language, DEFAULT_LANGUAGE, *texts):
        if texts.get(candidate):
            return candidate
    return language


def in_albums(files: list[Media]) -> list[Content]:
    """Files of one kind as few rows as Telegram allows: albums of up to ten (one send each,
    not one a second), a file left over alone."""
    step = ALBUM_SIZES[-1]
    return [
        Content(text={}, album=part) if len(part) > 1 else Content(text={}, media=part[0])
        for part in (files[start : start + step] for start in range(0, len(files), step))
    ]


def pick(texts: dict[str, str], language: str) -> str:
    """The text in this language, or in the other one when it is missing."""
    return texts.get(written_in(texts, language)) or ""


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: list[list[tuple[str, str | None, str | None]]]  # label, callback data, url
    poll_question: str = ""
    poll_options: list[str] = field(default_factory=list)
    poll_multiple: bool = False
    # Per file of the content (Content.files): Media.data in the reader's language, or None.
    attachments: list[bytes | None] = field(default_factory=list)


POLL_QUESTION_MAX, POLL_OPTION_MAX = 300, 100  # Telegram's limits


def _both(texts: dict[str, str], limit: int) -> str:
    """Persian and English in one line for a mixed group chat, within Telegram's limit."""
    joined = " / ".join(dict.fromkeys(t for t in (texts.get("fa"), texts.get("en")) if t))
    return joined if len(joined) <= limit else pick(texts, DEFAULT_LANGUAGE)[:limit]


def _label(texts: dict[str, str], language: str, limit: int | None = None) -> str:
    """A button's label or a poll's question or option, directed as it is written (a Persian
    label standing in for a missing English one reads right to left), within Telegram's limit."""
    return rtl_safe_label(pick(texts, language), written_in(texts, language))[:limit]


def render(content: Content, language: str) -> Rendered:
    """`language` is "fa", "en" or "both" (one after the other, for a mixed group chat). The
    text, the button labels and a poll's words come directed for their reader (`rtl_safe`), in
    both languages each half for its own."""
    both = language == "both"
    if both:
        halves = [(content.text.get(lang), lang) for lang in ("fa", "en")]
        text = "\n\n— — —\n\n".join(rtl_safe(half, lang) for half, lang in halves if half)
        language = DEFAULT_LANGUAGE
    else:
        # Directed as what it is written in: a Persian text standing in for a missing English
        # one still reads right to left.
        text = rtl_safe(pick(content.text, language), written_in(content.text, language))
    buttons = [
        [(_label(button.text, language), button.callback_data, button.url) for button in row]
        for row in content.buttons
    ]
    if content.poll is None:
        attachments = [
            base64.b64decode(pick(media.data, language)) if media.data else None
            for media in content.files
        ]
        return Rendered(text, buttons, attachments=attachments)
    poll = content.poll
    if both:
        question = _both(poll.question, POLL_QUESTION_MAX)
        options = [_both(option, POLL_OPTION_MAX) for option in poll.options]
    else:
        question = _label(poll.question, language, POLL_QUESTION_MAX)
        options = [_label(option, language, POLL_OPTION_MAX) for option in poll.options]
    return Rendered(text, buttons, question, options, poll.multiple)
