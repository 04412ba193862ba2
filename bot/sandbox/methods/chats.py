"""Chat information and membership, chat actions, leaving, and files."""

from __future__ import annotations

from typing import Any

from bot.sandbox import events
from bot.sandbox.errors import bad_request
from bot.sandbox.methods.base import Call, MethodRegistry
from bot.sandbox.models import PRESENT, Chat, chat_member
from bot.sandbox.state import SandboxState, check_reachable

methods = MethodRegistry()

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def _visible_chat(state: SandboxState, call: Call) -> Chat:
    """A chat the bot may look at: any private chat, or a group it is still in."""
    chat = state.chat(call.params.get_str("chat_id"))
    if chat.is_group:
        check_reachable(chat)
    return chat


@methods.method("getChat")
async def get_chat(state: SandboxState, call: Call) -> dict[str, Any]:
    chat = _visible_chat(state, call)
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


@methods.method("getChatMember")
async def get_chat_member(state: SandboxState, call: Call) -> dict[str, Any]:
    chat = _visible_chat(state, call)
    user_id = call.params.require_int("user_id")
    if user_id == state.bot.id:
        return chat_member(state.bot, chat.bot_status if chat.is_group else "member")
    user = state.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    if not chat.is_group:
        return chat_member(user, "member" if user_id == chat.id else "left")
    return chat_member(user, chat.members.get(user_id, "left"))


@methods.method("getChatAdministrators")
async def get_chat_administrators(state: SandboxState, call: Call) -> list[dict[str, Any]]:
    chat = _visible_chat(state, call)
    if not chat.is_group:
        raise bad_request("there are no administrators in the private chat")
    admins = [
        chat_member(state.users[uid], status)
        for uid, status in chat.members.items()
        if status in ("creator", "administrator")
    ]
    if chat.bot_status == "administrator":
        admins.append(chat_member(state.bot, "administrator"))
    return admins


@methods.method("getChatMemberCount")
async def get_chat_member_count(state: SandboxState, call: Call) -> int:
    chat = _visible_chat(state, call)
    if not chat.is_group:
        return 2
    humans = sum(1 for status in chat.members.values() if status in PRESENT)
    return humans + (chat.bot_status in PRESENT)


@methods.method("leaveChat")
async def leave_chat(state: SandboxState, call: Call) -> bool:
    chat = _visible_chat(state, call)
    if not chat.is_group:
        raise bad_request("chat member status can't be changed in private chats")
    events.push_my_chat_member(state, chat, state.bot, chat.bot_status, "left")
    chat.bot_status = "left"
    return True


@methods.method("sendChatAction")
async def send_chat_action(state: SandboxState, call: Call) -> bool:
    state.writable_chat(call.params.get_str("chat_id"))
    if call.params.get_str("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


@methods.method("getFile")
async def get_file(state: SandboxState, call: Call) -> dict[str, Any]:
    stored = state.files.get(call.params.get_str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.file_api()
