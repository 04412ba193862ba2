"""Sending, editing, deleting and pinning messages; answering button presses."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bot.sandbox.errors import bad_request
from bot.sandbox.formatting import Rendered
from bot.sandbox.markup import inline_buttons
from bot.sandbox.methods.base import (
    Call,
    MethodRegistry,
    caption,
    commit_send,
    count_send,
    inline_markup,
    measured_caption,
    message_text,
    replied_message,
)
from bot.sandbox.models import StoredMessage
from bot.sandbox.params import ATTACH_PREFIX, Params, Upload
from bot.sandbox.state import SandboxState

methods = MethodRegistry()

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CALLBACK_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


@methods.method("sendMessage")
async def send_message(state: SandboxState, call: Call) -> dict[str, Any]:
    chat = state.writable_chat(call.params.get_str("chat_id"))
    rendered = message_text(call.params)
    return commit_send(
        state,
        call,
        chat,
        text=call.params.get_str("text"),
        plain_text=rendered.plain,
        entities=rendered.entities,
        parse_mode=call.params.get_str("parse_mode"),
    ).to_api()


async def _send_media(state: SandboxState, call: Call, kind: str) -> dict[str, Any]:
    chat = state.writable_chat(call.params.get_str("chat_id"))
    stored = state.resolve_file(call.params.get_file(kind), kind, kind)
    rendered = caption(call.params)
    return commit_send(
        state,
        call,
        chat,
        file=stored,
        file_kind=kind,
        is_caption=True,
        text=call.params.get_str("caption") if rendered else None,
        plain_text=rendered.plain if rendered else None,
        entities=rendered.entities if rendered else [],
        parse_mode=call.params.get_str("parse_mode") if rendered else None,
    ).to_api()


@methods.method("sendPhoto")
async def send_photo(state: SandboxState, call: Call) -> dict[str, Any]:
    return await _send_media(state, call, "photo")


@methods.method("sendDocument")
async def send_document(state: SandboxState, call: Call) -> dict[str, Any]:
    return await _send_media(state, call, "document")


ALBUM_MAX = 10
# Which kinds may share an album: photos with videos, documents and audio files each alone.
ALBUM_FAMILY = {"photo": "visual", "video": "visual", "document": "document", "audio": "audio"}
EMULATED_KINDS = ("photo", "document")


@dataclass
class _AlbumItem:
    kind: str
    file: Upload | str
    caption: Rendered | None
    raw_caption: str | None
    parse_mode: str | None


@methods.method("sendMediaGroup")
async def send_media_group(state: SandboxState, call: Call) -> list[dict[str, Any]]:
    """An album: messages sharing a media_group_id, in one call that counts as one send (see
    limits.py). As Telegram does, it reads no reply_markup, and a single file goes out as an
    ordinary message."""
    items = _album_items(call.params)
    chat = state.writable_chat(call.params.get_str("chat_id"))
    reply_to = replied_message(state, chat, call.params)
    for item in items:  # unknown file ids fail before anything is stored or counted
        if isinstance(item.file, str):
            state.check_file(item.file)
    count_send(state, chat)
    group_id = str(10**17 + state.new_id()) if len(items) > 1 else None
    call.album = [
        state.new_message(
            chat,
            state.bot,
            file=state.resolve_file(item.file, item.kind, item.kind),
            file_kind=item.kind,
            is_caption=True,
            text=item.raw_caption if item.caption else None,
            plain_text=item.caption.plain if item.caption else None,
            entities=item.caption.entities if item.caption else [],
            parse_mode=item.parse_mode if item.caption else None,
            media_group_id=group_id,
            reply_to=reply_to,
        )
        for item in items
    ]
    call.message = call.album[0]
    return [message.to_api() for message in call.album]


def _album_items(params: Params) -> list[_AlbumItem]:
    """``media``, read and checked as Telegram's server does, in its words."""
    if not params.has("media"):
        raise bad_request('parameter "media" is required')
    media = params.get_json("media")
    if not isinstance(media, list):
        raise bad_request("expected an Array of InputMedia")
    if not media:
        raise bad_request("there are no messages to send")
    if len(media) > ALBUM_MAX:
        raise bad_request("too many messages to send as an album")
    items = [_album_item(params, item) for item in media]
    families = [ALBUM_FAMILY[item.kind] for item in items]
    if len(set(families)) > 1:  # named after the first file that must go alone
        alone = next((f for f in families if f in ("document", "audio")), None)
        if alone is not None:
            raise bad_request(f"{alone} can't be mixed with other media types")
    for item in items:
        if item.kind not in EMULATED_KINDS:
            raise bad_request(f'InputMedia of type "{item.kind}" is not emulated')
    return items


def _album_item(params: Params, item: Any) -> _AlbumItem:
    if not isinstance(item, dict):
        raise bad_request("can't parse InputMedia: expected an Object")
    kind = item.get("type")
    if kind == "animation":
        raise bad_request(
            "can't parse InputMedia: type \"animation\" can't be used in sendMediaGroup"
        )
    if kind not in ALBUM_FAMILY:
        raise bad_request(f'can\'t parse InputMedia: type "{kind}" is unsupported')
    reference = item.get("media")
    file: Upload | str | None = reference if isinstance(reference, str) else None
    if file and file.startswith(ATTACH_PREFIX):
        file = params.files.get(file.removeprefix(ATTACH_PREFIX))
    if not file:
        raise bad_request("can't parse InputMedia: media not found")
    raw = item.get("caption")
    parse_mode = item.get("parse_mode")
    rendered = measured_caption(raw or "", parse_mode, item.get("caption_entities"))
    return _AlbumItem(kind, file, rendered, raw, parse_mode)


def _bot_message(state: SandboxState, call: Call, missing: str) -> StoredMessage:
    """The message an edit/delete/pin targets, or Telegram's "... not found"."""
    if call.params.has("inline_message_id"):
        raise bad_request("inline messages are not emulated")
    chat = state.writable_chat(call.params.get_str("chat_id"))
    message = state.message(chat, call.params.require_int("message_id"))
    if message is None:
        raise bad_request(missing)
    call.message = message
    return message


def _current_inline(message: StoredMessage) -> dict[str, Any] | None:
    return message.reply_markup if inline_buttons(message.reply_markup) else None


def _apply_edit(
    message: StoredMessage,
    rendered: Rendered | None,
    raw: str | None,
    parse_mode: str | None,
    markup: dict[str, Any] | None,
) -> dict[str, Any]:
    """Apply an edit unless nothing changes (Telegram's "message is not modified")."""
    if not message.sender.is_bot:
        raise bad_request("message can't be edited")
    new_markup = markup if inline_buttons(markup) else None
    same_text = rendered is None or (
        (rendered.plain, rendered.entities) == (message.plain_text, message.entities)
    )
    if same_text and new_markup == _current_inline(message):
        raise bad_request(NOT_MODIFIED)
    if rendered is not None:
        message.text, message.plain_text = raw, rendered.plain
        message.entities, message.parse_mode = rendered.entities, parse_mode
    if new_markup is not None or _current_inline(message) is not None:
        message.reply_markup = new_markup
    message.edit_count += 1
    message.edit_date = int(time.time())
    return message.to_api()


@methods.method("editMessageText")
async def edit_message_text(state: SandboxState, call: Call) -> dict[str, Any]:
    message = _bot_message(state, call, "message to edit not found")
    if message.is_caption or message.plain_text is None:
        raise bad_request("there is no text in the message to edit")
    rendered = message_text(call.params)
    markup = inline_markup(call.params)
    return _apply_edit(
        message, rendered, call.params.get_str("text"), call.params.get_str("parse_mode"), markup
    )


@methods.method("editMessageCaption")
async def edit_message_caption(state: SandboxState, call: Call) -> dict[str, Any]:
    message = _bot_message(state, call, "message to edit not found")
    if not message.is_caption:
        raise bad_request("there is no caption in the message to edit")
    rendered = caption(call.params) or Rendered("")
    markup = inline_markup(call.params)
    return _apply_edit(
        message,
        rendered,
        call.params.get_str("caption"),
        call.params.get_str("parse_mode"),
        markup,
    )


@methods.method("editMessageReplyMarkup")
async def edit_message_reply_markup(state: SandboxState, call: Call) -> dict[str, Any]:
    message = _bot_message(state, call, "message to edit not found")
    return _apply_edit(message, None, None, None, inline_markup(call.params))


@methods.method("deleteMessage")
async def delete_message(state: SandboxState, call: Call) -> bool:
    message = _bot_message(state, call, "message to delete not found")
    chat = message.chat
    if chat.is_group and not message.sender.is_bot and chat.bot_status != "administrator":
        raise bad_request("message can't be deleted")
    message.deleted = True
    return True


@methods.method("pinChatMessage")
async def pin_chat_message(state: SandboxState, call: Call) -> bool:
    message = _bot_message(state, call, "message to pin not found")
    if message.chat.is_group and message.chat.bot_status != "administrator":
        raise bad_request("not enough rights to manage pinned messages in the chat")
    message.pinned = True
    return True


@methods.method("unpinChatMessage")
async def unpin_chat_message(state: SandboxState, call: Call) -> bool:
    chat = state.writable_chat(call.params.get_str("chat_id"))
    pinned = [m for m in chat.messages.values() if m.pinned and not m.deleted]
    message_id = call.params.get_int("message_id")
    if message_id is not None:
        pinned = [m for m in pinned if m.message_id == message_id]
    if pinned:
        pinned[-1].pinned = False
        call.message = pinned[-1]
    return True


@methods.method("unpinAllChatMessages")
async def unpin_all_chat_messages(state: SandboxState, call: Call) -> bool:
    chat = state.writable_chat(call.params.get_str("chat_id"))
    for message in chat.messages.values():
        message.pinned = False
    return True


@methods.method("answerCallbackQuery")
async def answer_callback_query(state: SandboxState, call: Call) -> bool:
    record = state.callbacks.get(call.params.get_str("callback_query_id") or "")
    if record is None or record.answered:
        raise bad_request(CALLBACK_TOO_OLD)
    text = call.params.get_str("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answered = True
    record.answer = {
        "text": text,
        "show_alert": call.params.get_bool("show_alert"),
        "url": call.params.get_str("url"),
    }
    call.chat_id = record.message.chat.id
    return True
