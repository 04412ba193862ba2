"""Sending, editing, deleting and pinning messages; answering button presses."""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.errors import bad_request
from bot.sandbox.formatting import Rendered
from bot.sandbox.markup import inline_buttons
from bot.sandbox.methods.base import (
    Call,
    MethodRegistry,
    caption,
    commit_send,
    inline_markup,
    message_text,
)
from bot.sandbox.models import StoredMessage
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
