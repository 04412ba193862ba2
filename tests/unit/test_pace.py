import base64
from itertools import pairwise

import pytest

from bot.delivery.content import Button, Content, Media, render
from bot.delivery.pace import Limits, Pace, backoff_s


def test_messages_are_spaced_evenly_under_the_global_limit() -> None:
    pace = Pace(Limits(per_second=10, headroom=1.0))
    moments = [pace.reserve(chat, 0.0) for chat in range(1, 21)]
    assert moments[0] == 0.0
    assert all(m is not None for m in moments)
    gaps = [b - a for a, b in pairwise(moments)]  # type: ignore[operator]
    assert all(abs(gap - 0.1) < 1e-9 for gap in gaps)
    in_first_second = [m for m in moments if m is not None and m < 0.999]
    assert len(in_first_second) == 10


def test_a_chat_waits_its_own_interval_without_holding_up_others() -> None:
    pace = Pace(Limits(per_second=100, chat_interval_s=1.05, group_interval_s=3.05))
    assert pace.reserve(7, 0.0) == 0.0
    assert pace.reserve(7, 0.5) is None  # the same person again too soon
    assert pace.reserve(8, 0.5) is not None  # someone else is not held up
    assert pace.chat_free_at(7) == 1.05
    group_moment = pace.reserve(-100, 0.0)
    assert group_moment is not None
    assert pace.chat_free_at(-100) == group_moment + 3.05  # group chats: twenty a minute
    assert pace.busy_chats(2.0) == {-100: group_moment + 3.05}


def test_a_429_pauses_everything() -> None:
    pace = Pace(Limits(per_second=100))
    pace.pause(5, now=10.0)
    assert pace.reserve(1, 11.0) == 15.0


def test_a_message_in_parts_holds_its_chat_and_takes_its_turn_part_by_part() -> None:
    pace = Pace(Limits(per_second=10, headroom=1.0, group_interval_s=3.0))
    group = -100
    assert pace.reserve(group, 0.0) == 0.0  # the first part
    pace.hold(group)
    assert pace.next_part(group, 1.0) is None  # the group's own interval runs
    assert pace.reserve(group, 5.0) is None  # held: no other message comes between parts
    assert pace.busy_chats(5.0) == {group: 8.0}
    assert pace.reserve(7, 3.0) == 3.0  # others are not held up
    assert pace.next_part(group, 3.0) == 3.1  # after the other chat's message, in turn
    pace.release(group)
    assert pace.busy_chats(3.5) == {7: 4.05, group: 6.1}
    assert pace.reserve(group, 6.1) == 6.1


def test_backoff_doubles_up_to_a_minute() -> None:
    assert [backoff_s(n) for n in (1, 2, 3, 4, 10)] == [1, 2, 4, 8, 60]


def test_rendering_falls_back_to_the_other_language() -> None:
    content = Content(
        text={"fa": "سلام"},
        buttons=[[Button(text={"fa": "بله", "en": "Yes"}, callback_data="y")]],
    )
    assert render(content, "en").text == "سلام"
    assert render(content, "en").buttons == [[("Yes", "y", None)]]
    both = Content(text={"fa": "سلام", "en": "Hello"})
    assert "سلام" in render(both, "both").text and "Hello" in render(both, "both").text
    assert Content.from_json(content.to_json()) == content


def test_an_album_is_stored_and_rendered_per_reader_and_keeps_telegrams_rules() -> None:
    charts = [
        Media("photo", data={"fa": base64.b64encode(b"fa-1").decode(), "en": "ZW4tMQ=="}),
        Media("photo", path="/tmp/chart-2.png"),
    ]
    album = Content(text={"fa": "گزارش", "en": "Report"}, album=charts)
    assert Content.from_json(album.to_json()) == album
    assert render(album, "en").attachments == [b"en-1", None]
    old_row = {"text": {"fa": "سلام"}, "media": None, "buttons": [], "pin": False}
    assert Content.from_json(old_row).album == []  # rows stored before albums load
    for wrong in (
        {"album": charts[:1]},
        {"album": charts * 6},
        {"album": [charts[1], Media("document", file_id="BQAC")]},
        {"album": charts, "buttons": [[Button(text={"fa": "بله"}, callback_data="y")]]},
    ):
        with pytest.raises(ValueError):
            Content(text={"fa": "گزارش"}, **wrong)  # type: ignore[arg-type]
