"""The emulated world: users, chats, stored messages, files, polls and button presses.

Each record renders itself in two ways: ``to_api()`` is the Bot API object the
bot receives (Telegram's field names, only fields that are set), ``view()`` is
what tests read through the control API (raw and plain text, edits, deletions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.markup import inline_buttons

BOT_FIRST_NAME = "Hamgam"
GROUP_TYPES = ("group", "supergroup")
MEMBER_STATUSES = ("creator", "administrator", "member", "left", "kicked")
PRESENT = ("creator", "administrator", "member")  # statuses of someone in the chat


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@dataclass
class User:
    """A Telegram user (or the bot itself)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        return _compact(
            {
                "id": self.id,
                "is_bot": self.is_bot,
                "first_name": self.first_name,
                "last_name": self.last_name,
                "username": self.username,
                "language_code": self.language_code,
            }
        )


def chat_member(user: User, status: str) -> dict[str, Any]:
    """A ChatMember object for ``status`` with the fields Telegram always sends."""
    member: dict[str, Any] = {"status": status, "user": user.to_api()}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_send_welcome_messages=False,
            can_pin_messages=True,
        )
    elif status == "kicked":
        member["until_date"] = 0
    return member


@dataclass(eq=False)
class Chat:
    """A private chat (id = the user's id) or a group/supergroup (negative id)."""

    id: int
    type: str
    title: str | None = None
    user: User | None = None  # the other party of a private chat
    started: bool = False  # private: the user has written to the bot
    blocked: bool = False  # private: the user blocked the bot
    bot_status: str = "member"  # groups: member/administrator/left/kicked
    members: dict[int, str] = field(default_factory=dict)  # groups: user id -> status
    migrated_to: int | None = None
    migrated_from: int | None = None
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    last_message_id: int = 0
    menu_button: dict[str, Any] | None = None

    @property
    def is_group(self) -> bool:
        return self.type in GROUP_TYPES

    def to_api(self) -> dict[str, Any]:
        if self.user is not None:
            return _compact(
                {
                    "id": self.id,
                    "type": self.type,
                    "first_name": self.user.first_name,
                    "last_name": self.user.last_name,
                    "username": self.user.username,
                }
            )
        return {"id": self.id, "type": self.type, "title": self.title}

    def view(self) -> dict[str, Any]:
        """The chat as the control API shows it, with the emulator's bookkeeping."""
        return {
            **self.to_api(),
            "started": self.started,
            "blocked": self.blocked,
            "bot_status": self.bot_status,
            "members": {str(uid): status for uid, status in self.members.items()},
            "migrated_to": self.migrated_to,
            "migrated_from": self.migrated_from,
        }


@dataclass(eq=False)
class StoredFile:
    """A file that passed through the emulator, kept so getFile/download can serve it."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes | None  # None for files sent by URL
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def size(self) -> int | None:
        return None if self.data is None else len(self.data)

    def file_api(self) -> dict[str, Any]:
        return _compact(
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": self.size,
                "file_path": self.file_path,
            }
        )

    def document_api(self) -> dict[str, Any]:
        return _compact(
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_name": self.file_name,
                "mime_type": self.mime_type,
                "file_size": self.size,
            }
        )

    def photo_api(self) -> list[dict[str, Any]]:
        """One PhotoSize; dimensions are not decoded (0×0)."""
        return [
            _compact(
                {
                    "file_id": self.file_id,
                    "file_unique_id": self.file_unique_id,
                    "width": 0,
                    "height": 0,
                    "file_size": self.size,
                }
            )
        ]


@dataclass(eq=False)
class Poll:
    """A poll sent by the bot and the votes users cast in it."""

    id: str
    question: str
    options: list[str]
    is_anonymous: bool = True
    type: str = "regular"
    allows_multiple_answers: bool = False
    correct_option_id: int | None = None
    open_period: int | None = None
    close_date: int | None = None
    is_closed: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)  # user id -> option ids

    def to_api(self) -> dict[str, Any]:
        counts = [0] * len(self.options)
        for option_ids in self.votes.values():
            for option_id in option_ids:
                counts[option_id] += 1
        return _compact(
            {
                "id": self.id,
                "question": self.question,
                "options": [
                    {"persistent_id": str(i), "text": text, "voter_count": counts[i]}
                    for i, text in enumerate(self.options)
                ],
                "total_voter_count": sum(1 for ids in self.votes.values() if ids),
                "is_closed": self.is_closed,
                "is_anonymous": self.is_anonymous,
                "type": self.type,
                "allows_multiple_answers": self.allows_multiple_answers,
                "allows_revoting": self.type != "quiz",
                "members_only": False,
                "correct_option_id": self.correct_option_id,
                "open_period": self.open_period,
                "close_date": self.close_date,
            }
        )


@dataclass(eq=False)
class StoredMessage:
    """A message in a chat, from the bot or a user, with its edit history summary."""

    message_id: int
    chat: Chat = field(repr=False)
    sender: User
    date: int
    text: str | None = None  # raw text or caption, as sent (markup included)
    plain_text: str | None = None  # what a reader sees
    entities: list[dict[str, Any]] = field(default_factory=list)
    parse_mode: str | None = None
    is_caption: bool = False
    reply_markup: dict[str, Any] | None = None
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False
    pinned: bool = False
    file: StoredFile | None = None
    file_kind: str | None = None  # "document" or "photo"
    media_group_id: str | None = None  # the album this message is part of (sendMediaGroup)
    poll: Poll | None = None
    reply_to: StoredMessage | None = field(default=None, repr=False)
    service: dict[str, Any] = field(default_factory=dict)  # new_chat_members, migrate_*…

    def to_api(self, with_reply: bool = True) -> dict[str, Any]:
        """The Message object Telegram would return or deliver."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.to_api(),
            "chat": self.chat.to_api(),
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if with_reply and self.reply_to is not None and not self.reply_to.deleted:
            message["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.plain_text is not None:
            message["caption" if self.is_caption else "text"] = self.plain_text
            if self.entities:
                message["caption_entities" if self.is_caption else "entities"] = self.entities
        if self.file is not None:
            if self.file_kind == "photo":
                message["photo"] = self.file.photo_api()
            else:
                message["document"] = self.file.document_api()
        if self.media_group_id is not None:
            message["media_group_id"] = self.media_group_id
        if self.poll is not None:
            message["poll"] = self.poll.to_api()
        if self.reply_markup is not None and inline_buttons(self.reply_markup):
            message["reply_markup"] = {"inline_keyboard": self.reply_markup["inline_keyboard"]}
        message.update(self.service)
        return message

    def view(self) -> dict[str, Any]:
        """The message as tests read it through the control API."""
        return {
            "message_id": self.message_id,
            "chat_id": self.chat.id,
            "from": self.sender.to_api(),
            "by_bot": self.sender.is_bot,
            "date": self.date,
            "text": self.text,
            "plain_text": self.plain_text,
            "parse_mode": self.parse_mode,
            "entities": self.entities,
            "reply_markup": self.reply_markup,
            "edited": self.edit_count,
            "deleted": self.deleted,
            "pinned": self.pinned,
            "document": self.file.document_api()
            if self.file and self.file_kind == "document"
            else None,
            "photo": self.file.photo_api() if self.file and self.file_kind == "photo" else None,
            "media_group_id": self.media_group_id,
            "poll": self.poll.to_api() if self.poll else None,
            "reply_to_message_id": self.reply_to.message_id if self.reply_to else None,
            "service": self.service or None,
        }


@dataclass(eq=False)
class CallbackRecord:
    """A button press and what the bot answered to it."""

    id: str
    user: User
    message: StoredMessage
    data: str
    answer: dict[str, Any] | None = None
    answered: bool = False

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.user.to_api(),
            "message": self.message.to_api(),
            "chat_instance": str(abs(self.message.chat.id) * 7919 % 10**12),
            "data": self.data,
        }
