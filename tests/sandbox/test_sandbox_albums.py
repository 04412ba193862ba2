"""sendMediaGroup as Telegram answers it: an album is messages sharing a media_group_id, sent
in one call that counts as one send."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import (
    BufferedInputFile,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
)

from bot.sandbox import SandboxClient
from bot.sandbox.chat import Transcript

MARYAM = 1001
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def maryam(client: SandboxClient) -> int:
    await client.send_message(MARYAM, "/start", wait=False)
    return MARYAM


def chart(n: int) -> InputMediaPhoto:
    return InputMediaPhoto(media=BufferedInputFile(PNG + bytes([n]), filename=f"chart{n}.png"))


async def test_an_album_of_uploads_arrives_as_one_group_with_the_first_caption(
    bot: Bot, client: SandboxClient, maryam: int
) -> None:
    media = [chart(n) for n in range(3)]
    media[0] = media[0].model_copy(update={"caption": "<b>گزارش</b> ماه"})
    sent = await bot.send_media_group(maryam, media)

    assert [m.caption for m in sent] == ["گزارش ماه", None, None]
    assert len({m.media_group_id for m in sent}) == 1 and sent[0].media_group_id
    assert [m.message_id for m in sent] == [2, 3, 4]  # after Maryam's /start
    for n, message in enumerate(sent):
        assert message.photo is not None
        assert await client.file_content(message.photo[-1].file_id) == PNG + bytes([n])
    inbox = await client.messages(maryam, sender="bot")
    assert [m["media_group_id"] for m in inbox] == [sent[0].media_group_id] * 3
    (action,) = await client.sent()
    assert action["method"] == "sendMediaGroup" and action["message"]["message_id"] == 2
    assert [m["message_id"] for m in action["album"]] == [2, 3, 4]
    stats = await client.stats()
    assert stats["sent"] == 1 and stats["calls"]["sendMediaGroup"] == 1


async def test_an_album_by_file_id_and_by_attach_in_a_raw_request(
    bot: Bot, client: SandboxClient, maryam: int, api_url: str, http: aiohttp.ClientSession
) -> None:
    first = await bot.send_document(maryam, BufferedInputFile(b"a,b\n", filename="a.csv"))
    assert first.document is not None
    form = aiohttp.FormData()
    form.add_field("chat_id", str(maryam))
    media = [
        {"type": "document", "media": first.document.file_id, "caption": "both files"},
        {"type": "document", "media": "attach://second"},
    ]
    form.add_field("media", json.dumps(media))
    form.add_field("second", b"c,d\n", filename="b.csv", content_type="text/csv")
    async with http.post(f"{api_url}/sendMediaGroup", data=form) as response:
        body = await response.json()
    assert body["ok"], body
    again, second = body["result"]
    assert again["document"]["file_id"] == first.document.file_id
    assert again["caption"] == "both files"
    assert second["document"]["file_name"] == "b.csv"
    assert await client.file_content(second["document"]["file_id"]) == b"c,d\n"
    assert again["media_group_id"] == second["media_group_id"]


async def test_a_single_file_goes_out_as_an_ordinary_message(bot: Bot, maryam: int) -> None:
    (sent,) = await bot.send_media_group(maryam, [chart(1)])
    assert sent.photo is not None and sent.media_group_id is None


async def test_albums_telegram_refuses_are_refused_in_its_words_and_send_nothing(
    bot: Bot, client: SandboxClient, maryam: int, api_url: str, http: aiohttp.ClientSession
) -> None:
    document = InputMediaDocument(media=BufferedInputFile(b"a\n", filename="a.csv"))
    refused = [
        ([chart(n) for n in range(11)], "too many messages to send as an album"),
        ([chart(1), document], "document can't be mixed with other media types"),
        (
            [InputMediaAudio(media="https://example.org/a.mp3"), document],
            "audio can't be mixed with other media types",
        ),
        ([chart(1), InputMediaPhoto(media="no-such-file")], "wrong file identifier"),
        (
            [chart(1), chart(2).model_copy(update={"caption": "ی" * 1025})],
            "message caption is too long",
        ),
        ([chart(1), InputMediaVideo(media="https://example.org/v.mp4")], "not emulated"),
    ]
    for media, error in refused:
        with pytest.raises(TelegramBadRequest, match=error):
            await bot.send_media_group(maryam, media)
    for media, error in (
        ("[]", "there are no messages to send"),
        ('{"type": "photo"}', "expected an Array of InputMedia"),
        ('[{"type": "photo", "media": "attach://missing"}]', "media not found"),
        ('[{"type": "animation", "media": "x"}]', "can't be used in sendMediaGroup"),
        ('[{"type": "sticker", "media": "x"}]', 'type "sticker" is unsupported'),
    ):
        url = f"{api_url}/sendMediaGroup"
        async with http.post(url, json={"chat_id": maryam, "media": media}) as response:
            body = await response.json()
        assert response.status == 400 and error in body["description"], body
    assert await client.messages(maryam, sender="bot") == []
    assert (await client.stats())["sent"] == 0


async def test_an_album_is_one_send_for_the_limits_and_a_429_sends_none_of_it(
    bot: Bot, client: SandboxClient, maryam: int
) -> None:
    await client.set_limits(enforce=True, chat_burst=0)
    await bot.send_media_group(maryam, [chart(n) for n in range(10)])
    assert (await client.stats())["violations"]["chat"] == 0
    with pytest.raises(TelegramRetryAfter):
        await bot.send_media_group(maryam, [chart(1), chart(2)])
    assert len(await client.messages(maryam, sender="bot")) == 10


async def test_the_terminal_chat_shows_an_album_once_with_its_files(
    bot: Bot, client: SandboxClient, maryam: int
) -> None:
    media = [chart(n) for n in range(3)]
    media[0] = media[0].model_copy(update={"caption": "گزارش ماه"})
    await bot.send_media_group(maryam, media)
    await bot.send_photo(maryam, BufferedInputFile(PNG, filename="one.png"), caption="تنها")
    printed: list[str] = []
    await Transcript(client, maryam, printed.append).refresh()
    assert printed == [
        "🤖 گزارش ماه\n   [album of 3: photo, photo, photo]",
        "🤖 تنها\n   [photo]",
    ]
