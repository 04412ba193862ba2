"""Every catalog entry, filled with Latin and Persian sample values and sent the way the bot sends
text, laid out by the Unicode bidi algorithm (python-bidi) as a Telegram client lays out each
line: every /command, @name, file extension and URL reads whole and stays between its words."""

from __future__ import annotations

import html
import re
import string
from pathlib import Path

import pytest
from aiogram.methods import SendMessage
from babel.messages.pofile import read_po
from bidi import get_base_level, get_display

from bot.delivery.content import Button, Content, Poll, render
from bot.i18n import format as fmt
from bot.telegram.rtl import right_to_left

LOCALES = Path(__file__).resolve().parents[2] / "locales"
MARKS = str.maketrans("", "", "\u200e\u200f")
# What must read left to right, whole: /start, @userinfobot, .xlsx, https://t.me/…
TOKEN = re.compile(
    r"(?<![\w/.:])/[a-z][a-z_]*"
    r"|(?<![\w@])@\w+"
    r"|(?<![\w.])\.(?:xlsx|csv|ics|zip)\b"
    r"|https?://[^\s<]*[\w/]"
)
PERSIAN_WORD = re.compile(r"[\u0621-\u064a\u067e-\u06d3\u200c]+")
LATIN_WORD = re.compile(r"[A-Za-z]+")
# Where the code puts a command line or an invite link, one like it.
SPECIAL = {
    "command": "<code>hamgam export deliveries --format csv</code>",
    "link": "https://t.me/hamgam_bot?start=g12",
}


def samples(language: str) -> list[str]:
    """One value per filling, given to every placeholder whatever it names: a Latin name (or
    one opening a line), a Persian one, an @name, a command, a number."""
    return ["Sara Ahmadi", "مریم احمدی", "@sara_k", "/start", fmt.number(1234, language)]


class _Values(dict[str, str]):
    def __init__(self, sample: str) -> None:
        super().__init__()
        self.sample = sample

    def __missing__(self, key: str) -> str:
        return SPECIAL.get(key, self.sample)


def _entries(language: str) -> list[tuple[str, str]]:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    entries = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        entries += [(ids[0], text) for text in texts if text]
    return entries


def _placeholders(text: str) -> bool:
    return any(field is not None for _, field, _, _ in string.Formatter().parse(text))


def outgoing(text: str, language: str) -> str:
    """The text as it leaves the bot: a handler's message, and the same from the outbox."""
    method = SendMessage(chat_id=1, text=text)
    right_to_left(method, language)
    assert render(Content(text={language: text}), language).text == method.text
    return method.text


def problems(text: str, value: str = "") -> list[str]:
    """Each token that a reader would see broken or out of place, with the line it is in; and
    the value filled in, when it is not shown whole (a Persian one, as right-to-left letters)."""
    found = []
    for line in text.split("\n"):
        marked = html.unescape(re.sub(r"<[^>]*>", "", line))
        if not marked.strip():
            continue
        plain, shown = marked.translate(MARKS), get_display(marked).translate(MARKS)
        rtl = get_base_level(marked) == 1
        if value and value in plain:
            whole = value[::-1] if PERSIAN_WORD.search(value) else value
            if whole not in shown:
                found.append(f"{value!r} broken in {shown!r}")
        for match in TOKEN.finditer(plain):
            token = match.group()
            if token not in shown:
                found.append(f"{token!r} broken in {shown!r}")
                continue
            before = plain[: match.start()].split(" ")[-2:]
            after = plain[match.end() :].split(" ")[:2]
            # A whole word on each side, one space away: the three read in the line's order.
            if len(before) == 2 and before[1] == "" and len(after) == 2 and after[0] == "":
                prev, next_ = before[0], after[1]
                if rtl and PERSIAN_WORD.fullmatch(prev) and PERSIAN_WORD.fullmatch(next_):
                    expected = f"{next_[::-1]} {token} {prev[::-1]}"
                elif not rtl and LATIN_WORD.fullmatch(prev) and LATIN_WORD.fullmatch(next_):
                    expected = f"{prev} {token} {next_}"
                else:
                    continue
                if expected not in shown:
                    found.append(f"{token!r} out of place in {shown!r}")
    return found


@pytest.mark.parametrize("language", ["fa", "en"])
def test_every_entry_keeps_commands_names_and_files_whole_and_in_place(language: str) -> None:
    entries = _entries(language)
    assert len(entries) > 500  # the whole catalog was read
    broken = []
    for msgid, text in entries:
        for sample in samples(language) if _placeholders(text) else [""]:
            filled = text.format_map(_Values(sample)) if sample else text
            shown = problems(outgoing(filled, language), sample)
            broken += [f"{msgid[:50]!r}: {problem}" for problem in shown]
    assert not broken, "\n".join(broken[:40]) + f"\n… {len(broken)} in all"


def test_the_check_sees_a_flipped_command() -> None:
    """The check itself: without marks, a command in a right-to-left line reads «start/»."""
    assert problems("برای شروع /start را بفرستید") == [
        "'/start' broken in 'دیتسرفب ار start/ عورش یارب'"
    ]


@pytest.mark.parametrize("language", ["fa", "en"])
def test_catalogs_carry_no_direction_marks(language: str) -> None:
    """Direction is the sender's job (`rtl_safe`): a mark typed into an entry doubles it or
    fights it."""
    controls = "[\u200e\u200f\u202a-\u202e\u2066-\u2069]"  # marks, embeddings, isolates
    marked = [msgid for msgid, text in _entries(language) if re.search(controls, text)]
    assert not marked


def test_the_outbox_directs_each_text_as_it_is_written() -> None:
    """A Persian text, label or poll standing in for a missing English one reads right to left
    for an English reader too; Latin labels are left as they are."""
    content = Content(
        text={"fa": "Hamgam می‌گوید /start"},
        buttons=[[Button({"fa": "Group 1 (۳ نفر)"}, "g"), Button({"fa": "English"}, "e")]],
        poll=Poll({"fa": "Sara یا مریم؟"}, [{"fa": "Sara"}, {"fa": "مریم"}]),
    )
    for language in ("fa", "en"):
        shown = render(content, language)
        assert shown.text == f"{fmt.RLM}Hamgam می‌گوید {fmt.LRM}/start"
        assert [label for label, _, _ in shown.buttons[0]] == [
            f"{fmt.RLM}Group 1{fmt.RLM} (۳ نفر)",
            "English",
        ]
        assert shown.poll_question == f"{fmt.RLM}Sara یا مریم؟"
        assert shown.poll_options == ["Sara", "مریم"]
