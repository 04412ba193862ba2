"""Updates Telegram would send the bot when something happens in its chats.

Each helper queues one update (or none, when the bot is not in the chat or
allowed_updates filters it) and returns the queued update so callers can wait
for it to be handled.
"""

from __future__ import annotations

import time

from bot.sandbox.models import (
    PRESENT,
    CallbackRecord,
    Chat,
    Poll,
    StoredMessage,
    User,
    chat_member,
)
from bot.sandbox.state import SandboxState
from bot.sandbox.updates import PendingUpdate


def push_message(state: SandboxState, message: StoredMessage) -> PendingUpdate | None:
    """A new message, delivered only where the bot is present (no privacy mode)."""
    chat = message.chat
    if chat.is_group and chat.bot_status not in PRESENT:
        return None
    return state.updates.push("message", message.to_api())


def push_my_chat_member(
    state: SandboxState, chat: Chat, actor: User, old: str, new: str
) -> PendingUpdate | None:
    """The bot's own membership changed (added, removed, blocked, unblocked)."""
    return state.updates.push(
        "my_chat_member",
        {
            "chat": chat.to_api(),
            "from": actor.to_api(),
            "date": int(time.time()),
            "old_chat_member": chat_member(state.bot, old),
            "new_chat_member": chat_member(state.bot, new),
        },
    )


def push_chat_member(
    state: SandboxState, chat: Chat, user: User, old: str, new: str
) -> PendingUpdate | None:
    """Someone else's membership changed; Telegram tells administrator bots only."""
    if chat.bot_status != "administrator":
        return None
    return state.updates.push(
        "chat_member",
        {
            "chat": chat.to_api(),
            "from": user.to_api(),
            "date": int(time.time()),
            "old_chat_member": chat_member(user, old),
            "new_chat_member": chat_member(user, new),
        },
    )


def push_callback_query(state: SandboxState, record: CallbackRecord) -> PendingUpdate | None:
    return state.updates.push("callback_query", record.to_api())


def push_poll_vote(state: SandboxState, poll: Poll, user: User) -> PendingUpdate | None:
    """poll_answer for a public poll; the poll's new state for an anonymous one."""
    if poll.is_anonymous:
        return state.updates.push("poll", poll.to_api())
    option_ids = poll.votes.get(user.id, [])
    return state.updates.push(
        "poll_answer",
        {
            "poll_id": poll.id,
            "user": user.to_api(),
            "option_ids": option_ids,
            "option_persistent_ids": [str(i) for i in option_ids],
        },
    )
