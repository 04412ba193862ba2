"""The Bot API surface, spoken to by a real aiogram Bot and by raw HTTP requests."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.sandbox import Emulator, SandboxClient

BotFactory = Callable[..., Bot]

MARYAM = 1001


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=label.lower())] for label in labels
        ]
    )


@pytest.fixture
async def maryam(client: SandboxClient) -> int:
    """A resident who has started the bot, so it may write to her."""
    await client.add_user(MARYAM, "Maryam", username="maryam", language_code="fa")
    await client.send_message(MARYAM, "/start", wait=False)
    return MARYAM


async def test_get_me_describes_the_bot(bot: Bot, bot_id: int) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.first_name, me.username) == (
        bot_id,
        True,
        "Hamgam",
        "hamgam_sandbox_bot",
    )


async def test_raw_requests_in_every_encoding(
    api_url: str, bot_id: int, http: aiohttp.ClientSession, maryam: int
) -> None:
    async with http.get(f"{api_url}/getme") as response:
        assert (response.status, (await response.json())["result"]["id"]) == (200, bot_id)
    async with http.get(f"{api_url}/sendMessage?chat_id={maryam}&text=query") as response:
        assert (await response.json())["result"]["text"] == "query"
    body = {"chat_id": maryam, "text": "json", "reply_markup": {"remove_keyboard": True}}
    async with http.post(f"{api_url}/SENDMESSAGE", json=body) as response:
        assert (await response.json())["result"]["text"] == "json"
    form = {"chat_id": str(maryam), "text": "<i>form</i>", "parse_mode": "HTML"}
    async with http.post(f"{api_url}/sendmessage", data=form) as response:
        assert (await response.json())["result"]["text"] == "form"
    upload = aiohttp.FormData()
    upload.add_field("chat_id", str(maryam))
    upload.add_field("document", b"raw", filename="raw.txt", content_type="text/plain")
    async with http.post(f"{api_url}/sendDocument", data=upload) as response:
        assert (await response.json())["result"]["document"]["mime_type"] == "text/plain"


async def test_unknown_token_is_unauthorized(
    emulator: Emulator, http: aiohttp.ClientSession, make_bot: BotFactory
) -> None:
    async with http.get(f"{emulator.base_url}/bot999:wrong/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    with pytest.raises(TelegramUnauthorizedError):
        await make_bot(token="999:wrong").get_me()


async def test_unknown_method_is_not_found(api_url: str, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{api_url}/sendTelepathy") as response:
        assert response.status == 404
        assert (await response.json())["description"] == "Not Found: method not found"


async def test_send_message_with_inline_keyboard_is_stored_as_seen(
    bot: Bot, bot_id: int, client: SandboxClient, maryam: int
) -> None:
    sent = await bot.send_message(
        maryam, "<b>سلام</b> &amp; welcome", reply_markup=keyboard("Yes", "No")
    )
    assert sent.text == "سلام & welcome"
    assert sent.from_user is not None and sent.from_user.id == bot_id
    assert sent.chat.type == "private" and sent.chat.first_name == "Maryam"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    [stored] = await client.messages(maryam, sender="bot")
    assert stored["text"] == "<b>سلام</b> &amp; welcome"
    assert stored["plain_text"] == "سلام & welcome"
    assert stored["parse_mode"] == "HTML"
    assert stored["reply_markup"]["inline_keyboard"][1][0] == {"text": "No", "callback_data": "no"}
    assert [m["by_bot"] for m in await client.messages(maryam)] == [False, True]
    [entry] = await client.sent()
    assert (entry["method"], entry["chat_id"]) == ("sendMessage", maryam)


async def test_message_ids_grow_per_chat_and_reply_keyboards_are_kept(
    bot: Bot, client: SandboxClient, maryam: int
) -> None:
    first = await bot.send_message(maryam, "one")
    second = await bot.send_message(
        maryam,
        "two",
        reply_markup=ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="فارسی")]]),
        reply_to_message_id=first.message_id,
    )
    assert second.message_id == first.message_id + 1
    assert second.reply_to_message is not None
    stored = (await client.messages(maryam))[-1]
    assert stored["reply_markup"]["keyboard"] == [[{"text": "فارسی"}]]
    assert stored["reply_to_message_id"] == first.message_id


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("price < 100", "can't parse entities: Unsupported start tag"),
        ("<b>bold", "can't parse entities: Can't find end tag corresponding to start tag b"),
        ("<b>x</i>", "can't parse entities: Unmatched end tag"),
        ("<marquee>x</marquee>", 'Unsupported start tag "marquee"'),
        ("<b> </b>", "message text is empty"),
        ("x" * 4097, "message is too long"),
    ],
)
async def test_bad_text_is_refused(bot: Bot, maryam: int, text: str, description: str) -> None:
    with pytest.raises(TelegramBadRequest, match=description):
        await bot.send_message(maryam, text)


async def test_callback_data_longer_than_64_bytes_is_refused(bot: Bot, maryam: int) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="ی" * 33)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(maryam, "pick", reply_markup=markup)


async def test_who_the_bot_cannot_reach(bot: Bot, client: SandboxClient, maryam: int) -> None:
    await client.add_user(2002, "Reza")
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(2002, "hello")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(777, "hello")
    await client.block(maryam, wait=False)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(maryam, "hello")
    group = await client.create_chat("Park cleanup")
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the group chat"):
        await bot.send_message(group["id"], "hello")
    await client.set_bot_status(group["id"], maryam, "member", wait=False)
    await bot.send_message(group["id"], "hello group")
    await client.set_bot_status(group["id"], maryam, "kicked", wait=False)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the group chat"):
        await bot.send_message(group["id"], "hello")


async def test_migrated_group_answers_with_the_new_chat_id(
    bot: Bot, client: SandboxClient, maryam: int
) -> None:
    group = await client.create_chat("Steering committee")
    await client.set_bot_status(group["id"], maryam, "administrator", wait=False)
    migrated = await client.migrate_chat(group["id"], wait=False)
    new_id = migrated["id"]
    assert migrated["type"] == "supergroup" and str(new_id).startswith("-100")
    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(group["id"], "agenda")
    assert caught.value.migrate_to_chat_id == new_id
    sent = await bot.send_message(new_id, "agenda")
    assert sent.chat.type == "supergroup"


async def test_edit_message_text_and_markup(bot: Bot, client: SandboxClient, maryam: int) -> None:
    sent = await bot.send_message(maryam, "Question 1", reply_markup=keyboard("A", "B"))
    edited = await bot.edit_message_text(
        text="Question 1 — <i>answered</i>",
        chat_id=maryam,
        message_id=sent.message_id,
        reply_markup=keyboard("Undo"),
    )
    assert not isinstance(edited, bool) and edited.text == "Question 1 — answered"
    assert edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="Question 1 — <i>answered</i>",
            chat_id=maryam,
            message_id=sent.message_id,
            reply_markup=keyboard("Undo"),
        )
    await bot.edit_message_reply_markup(chat_id=maryam, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=maryam, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=maryam, message_id=999)
    stored = (await client.messages(maryam))[-1]
    assert (stored["plain_text"], stored["edited"], stored["reply_markup"]) == (
        "Question 1 — answered",
        2,
        None,
    )
    assert [a["method"] for a in await client.actions()][-4:] == [
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageReplyMarkup",
        "editMessageText",
    ]


async def test_delete_and_pin(bot: Bot, client: SandboxClient, maryam: int) -> None:
    keep = await bot.send_message(maryam, "keep")
    gone = await bot.send_message(maryam, "gone")
    assert await bot.pin_chat_message(maryam, keep.message_id)
    assert await bot.delete_message(maryam, gone.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(maryam, gone.message_id)
    by_id = {m["message_id"]: m for m in await client.messages(maryam)}
    assert by_id[keep.message_id]["pinned"] and by_id[gone.message_id]["deleted"]
    assert await bot.unpin_chat_message(maryam)
    assert not (await client.messages(maryam))[keep.message_id - 1]["pinned"]


async def test_answer_callback_query_only_once(
    bot: Bot, client: SandboxClient, maryam: int
) -> None:
    sent = await bot.send_message(maryam, "Ready?", reply_markup=keyboard("Go"))
    press = await client.callback(maryam, maryam, sent.message_id, "go", wait=False)
    [update] = await bot.get_updates(offset=-1)
    query = update.callback_query
    assert query is not None and query.data == "go" and query.id == press["callback_query_id"]
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="Saved ✓", show_alert=True)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)
    answer = (await client.actions())[-2]
    assert answer["method"] == "answerCallbackQuery" and answer["chat_id"] == maryam
    assert answer["params"]["text"] == "Saved ✓"


async def test_send_document_upload_get_file_and_download(
    bot: Bot, client: SandboxClient, maryam: int
) -> None:
    content = "indicator,value\nآموزش,۱۲\n".encode()
    sent = await bot.send_document(
        maryam,
        BufferedInputFile(content, filename="report.csv"),
        caption="<b>Monthly</b> report",
    )
    assert sent.document is not None and sent.caption == "Monthly report"
    assert (sent.document.file_name, sent.document.mime_type, sent.document.file_size) == (
        "report.csv",
        "text/csv",
        len(content),
    )
    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == content
    assert await client.file_content(sent.document.file_id) == content
    again = await bot.send_document(maryam, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(maryam, "no-such-file")


async def test_send_photo_and_user_files(bot: Bot, client: SandboxClient, maryam: int) -> None:
    png = b"\x89PNG\r\n\x1a\nchart"
    sent = await bot.send_photo(maryam, BufferedInputFile(png, filename="chart.png"))
    assert sent.photo is not None
    assert await client.file_content(sent.photo[-1].file_id) == png
    result = await client.send_message(
        maryam, "receipt", document=("receipt.pdf", b"%PDF-1.4", "application/pdf"), wait=False
    )
    document = result["message"]["document"]
    assert (document["file_name"], document["file_size"]) == ("receipt.pdf", 8)
    file = await bot.get_file(document["file_id"])
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"%PDF-1.4"


async def test_polls_send_answer_stop(bot: Bot, client: SandboxClient, maryam: int) -> None:
    sent = await bot.send_poll(
        maryam,
        "Which day suits the meeting?",
        [InputPollOption(text="Saturday"), InputPollOption(text="Sunday")],
        is_anonymous=False,
    )
    assert sent.poll is not None and not sent.poll.is_anonymous
    await client.answer_poll(maryam, sent.poll.id, [1], wait=False)
    [update] = await bot.get_updates(offset=-1)
    assert update.poll_answer is not None and update.poll_answer.option_ids == [1]
    stopped = await bot.stop_poll(maryam, sent.message_id)
    assert stopped.is_closed and [o.voter_count for o in stopped.options] == [0, 1]
    with pytest.raises(TelegramBadRequest, match="poll must have at least 2 option"):
        await bot.send_poll(maryam, "Only one?", [InputPollOption(text="yes")])


async def test_anonymous_poll_votes_arrive_as_poll_updates(
    bot: Bot, client: SandboxClient, maryam: int
) -> None:
    sent = await bot.send_poll(maryam, "Rate the park", ["Good", "Bad"])
    assert sent.poll is not None and sent.poll.is_anonymous
    await client.answer_poll(maryam, sent.poll.id, [0], wait=False)
    [update] = await bot.get_updates(offset=-1)
    assert update.poll is not None and update.poll.options[0].voter_count == 1


async def test_commands_are_stored_per_scope_and_language(
    bot: Bot, client: SandboxClient, maryam: int
) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="شروع")], language_code="fa")
    await bot.set_my_commands(
        [BotCommand(command="report", description="Reports")],
        scope=BotCommandScopeChat(chat_id=maryam),
    )
    assert [c.command for c in await bot.get_my_commands(language_code="fa")] == ["start"]
    assert await bot.get_my_commands() == []
    stored = await client.commands()
    assert {(s["scope"]["type"], s["language_code"]) for s in stored} == {
        ("default", "fa"),
        ("chat", ""),
    }
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_chat_information(bot: Bot, bot_id: int, client: SandboxClient, maryam: int) -> None:
    group = await client.create_chat("Working group", type="supergroup")
    await client.set_member(group["id"], maryam, "creator")
    await client.set_bot_status(group["id"], maryam, "administrator", wait=False)
    info = await bot.get_chat(group["id"])
    assert (info.type, info.title) == ("supergroup", "Working group")
    member = await bot.get_chat_member(group["id"], maryam)
    assert member.status == "creator"
    admins = await bot.get_chat_administrators(group["id"])
    assert {a.user.id for a in admins} == {maryam, bot_id}
    assert await bot.send_chat_action(maryam, "typing")
    assert await bot.leave_chat(group["id"])
    with pytest.raises(TelegramForbiddenError):
        await bot.get_chat(group["id"])
