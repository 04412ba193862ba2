"""People and groups acting: what tests (and the terminal chat) make happen.

Each action changes the stored world the way Telegram would and queues the
updates the bot would receive; the control API then waits for those updates
to be handled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.sandbox import events
from bot.sandbox.errors import ControlError
from bot.sandbox.formatting import utf16_len
from bot.sandbox.models import (
    GROUP_TYPES,
    MEMBER_STATUSES,
    PRESENT,
    CallbackRecord,
    Chat,
    StoredFile,
    StoredMessage,
    User,
)
from bot.sandbox.state import SandboxState
from bot.sandbox.updates import PendingUpdate

COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?")
BOT_STATUSES = ("member", "administrator", "left", "kicked")


@dataclass
class Attachment:
    """A file a user sends: a document (with name and type) or a photo."""

    kind: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None


def _queued(*updates: PendingUpdate | None) -> list[PendingUpdate]:
    """The updates an action queued (filtered or undelivered ones are absent)."""
    return [u for u in updates if u is not None]


class Simulator:
    """Acts as Telegram's users and groups against one emulated bot."""

    def __init__(self, state: SandboxState):
        self.state = state

    def add_user(self, user_id: int, started: bool = False, **profile: Any) -> User:
        """A Telegram user; `started` seeds one who has written to the bot before."""
        user = self.state.ensure_user(user_id, **profile)
        if started:
            self.state.chats[user.id].started = True
        return user

    def _group(self, chat_id: int) -> Chat:
        chat = self.state.chats.get(chat_id)
        if chat is None or not chat.is_group:
            raise ControlError(404, f"no group chat {chat_id}; create it with POST /sandbox/chats")
        if chat.migrated_to is not None:
            raise ControlError(
                409, f"group {chat_id} was upgraded to supergroup {chat.migrated_to}"
            )
        return chat

    def _chat_for(self, user: User, chat_id: int | None) -> Chat:
        """The chat a user acts in: their private chat, or a live group they (now) belong to."""
        if chat_id is None or chat_id == user.id:
            return self.state.chats[user.id]
        chat = self._group(chat_id)
        if chat.members.get(user.id) not in PRESENT:
            chat.members[user.id] = "member"
        return chat

    def _open_private(self, chat: Chat, user: User) -> list[PendingUpdate]:
        """Writing to the bot starts the chat, and un-blocks it (Telegram's "Restart")."""
        if chat.is_group:
            return []
        chat.started = True
        if chat.blocked:
            chat.blocked = False
            return _queued(events.push_my_chat_member(self.state, chat, user, "kicked", "member"))
        return []

    def send_message(
        self,
        user_id: int,
        text: str | None,
        *,
        chat_id: int | None = None,
        attachment: Attachment | None = None,
        reply_to_message_id: int | None = None,
    ) -> tuple[StoredMessage, list[PendingUpdate]]:
        if not text and attachment is None:
            raise ControlError(400, "a message needs text, a document or a photo")
        user = self.state.ensure_user(user_id)
        chat = self._chat_for(user, chat_id)
        opened = self._open_private(chat, user)
        reply_to = self.state.message(chat, reply_to_message_id)
        if reply_to_message_id is not None and reply_to is None:
            raise ControlError(404, f"no message {reply_to_message_id} in chat {chat.id}")
        stored: StoredFile | None = None
        if attachment is not None:
            stored = self.state.store_file(
                attachment.kind, attachment.data, attachment.file_name, attachment.mime_type
            )
        message = self.state.new_message(
            chat,
            user,
            text=text,
            plain_text=text,
            entities=_command_entities(text) if attachment is None else [],
            is_caption=attachment is not None,
            file=stored,
            file_kind=attachment.kind if attachment else None,
            reply_to=reply_to,
        )
        return message, [*opened, *_queued(events.push_message(self.state, message))]

    def press(
        self, user_id: int, chat_id: int, message_id: int, data: str
    ) -> tuple[CallbackRecord, list[PendingUpdate]]:
        """A button press. Anything goes, so tests can forge presses: any data, on any
        message, even in another person's private chat."""
        user = self.state.ensure_user(user_id)
        chat = self.state.chats.get(chat_id)
        if chat is None:
            raise ControlError(404, f"no chat {chat_id}")
        if chat.is_group:
            chat = self._chat_for(user, chat_id)
        message = self.state.message(chat, message_id)
        if message is None:
            raise ControlError(404, f"no message {message_id} in chat {chat.id}")
        record = CallbackRecord(
            id=str(4_000_000_000_000 + self.state.new_id()), user=user, message=message, data=data
        )
        self.state.callbacks[record.id] = record
        if chat.is_group and chat.bot_status not in PRESENT:
            return record, []
        return record, _queued(events.push_callback_query(self.state, record))

    def create_chat(self, chat_type: str, title: str, chat_id: int | None = None) -> Chat:
        if chat_type not in GROUP_TYPES:
            raise ControlError(400, f"chat type must be one of {GROUP_TYPES}")
        if chat_id is None:
            number = self.state.new_id()
            chat_id = int(f"-100{number:010d}") if chat_type == "supergroup" else -number
        if chat_id >= 0 or chat_id in self.state.chats:
            raise ControlError(409, f"chat id {chat_id} is taken or not negative")
        chat = Chat(id=chat_id, type=chat_type, title=title, bot_status="left")
        self.state.chats[chat_id] = chat
        return chat

    def set_member(self, chat_id: int, user_id: int, status: str) -> list[PendingUpdate]:
        """A user joins, leaves, is promoted or banned; joins/leaves post service messages."""
        if status not in MEMBER_STATUSES:
            raise ControlError(400, f"status must be one of {MEMBER_STATUSES}")
        chat = self._group(chat_id)
        user = self.state.ensure_user(user_id)
        old = chat.members.get(user_id, "left")
        chat.members[user_id] = status
        queued = [events.push_chat_member(self.state, chat, user, old, status)]
        if old not in PRESENT and status in PRESENT:
            queued.append(self._service(chat, user, new_chat_members=[user.to_api()]))
        elif old in PRESENT and status not in PRESENT:
            queued.append(self._service(chat, user, left_chat_member=user.to_api()))
        return _queued(*queued)

    def set_bot_status(self, chat_id: int, by_user_id: int, status: str) -> list[PendingUpdate]:
        """Someone adds the bot to a group, promotes it, or removes it."""
        if status not in BOT_STATUSES:
            raise ControlError(400, f"bot status must be one of {BOT_STATUSES}")
        chat = self._group(chat_id)
        actor = self.state.ensure_user(by_user_id)
        if chat.members.get(actor.id) not in PRESENT:
            chat.members[actor.id] = "member"
        old = chat.bot_status
        if old == status:
            return []
        chat.bot_status = status
        queued = [events.push_my_chat_member(self.state, chat, actor, old, status)]
        if old in ("left", "kicked") and status in PRESENT:
            queued.append(self._service(chat, actor, new_chat_members=[self.state.bot.to_api()]))
        return _queued(*queued)

    def block(self, user_id: int, blocked: bool) -> list[PendingUpdate]:
        """A user blocks (or unblocks) the bot in their private chat."""
        user = self.state.ensure_user(user_id)
        chat = self.state.chats[user.id]
        if chat.blocked == blocked:
            return []
        chat.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        return _queued(events.push_my_chat_member(self.state, chat, user, old, new))

    def migrate(
        self, chat_id: int, by_user_id: int | None = None
    ) -> tuple[Chat, list[PendingUpdate]]:
        """A group becomes a supergroup with a new id; both chats get a service message."""
        old = self._group(chat_id)
        if old.type != "group":
            raise ControlError(400, f"chat {chat_id} is already a supergroup")
        present = [uid for uid, status in old.members.items() if status in PRESENT]
        actor_id = by_user_id if by_user_id is not None else (present[0] if present else None)
        if actor_id is None:
            raise ControlError(400, "the group has no members to upgrade it; pass by_user_id")
        actor = self.state.ensure_user(actor_id)
        new = Chat(
            id=int(f"-100{abs(old.id):010d}"),
            type="supergroup",
            title=old.title,
            bot_status=old.bot_status,
            members=dict(old.members),
            migrated_from=old.id,
        )
        self.state.chats[new.id] = new
        first = self._service(old, actor, migrate_to_chat_id=new.id)
        old.migrated_to = new.id
        second = self._service(new, actor, migrate_from_chat_id=old.id)
        return new, _queued(first, second)

    def answer_poll(self, user_id: int, poll_id: str, option_ids: list[int]) -> list[PendingUpdate]:
        message = self.state.polls.get(poll_id)
        if message is None or message.poll is None:
            raise ControlError(404, f"no poll {poll_id}")
        poll = message.poll
        if poll.is_closed:
            raise ControlError(409, f"poll {poll_id} is closed")
        if len(set(option_ids)) != len(option_ids) or not all(
            0 <= i < len(poll.options) for i in option_ids
        ):
            raise ControlError(
                400, f"option ids must be distinct and in 0..{len(poll.options) - 1}"
            )
        if len(option_ids) > 1 and not poll.allows_multiple_answers:
            raise ControlError(400, "this poll allows one answer only")
        user = self.state.ensure_user(user_id)
        poll.votes[user.id] = sorted(option_ids)
        return _queued(events.push_poll_vote(self.state, poll, user))

    def _service(self, chat: Chat, actor: User, **service: Any) -> PendingUpdate | None:
        message = self.state.new_message(chat, actor, service=service)
        return events.push_message(self.state, message)


def _command_entities(text: str | None) -> list[dict[str, Any]]:
    """The bot_command entity Telegram attaches when a text starts with /command."""
    match = COMMAND_RE.match(text or "")
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]
