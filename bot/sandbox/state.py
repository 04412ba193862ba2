"""Everything the emulator remembers, and the rules of who can reach whom.

Bot API methods and control endpoints share this one object; the event loop
runs one handler step at a time, so no locks are needed.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import mimetypes
import os
import re
import time
from dataclasses import replace
from typing import Any

from bot.sandbox.errors import ApiError, bad_request, forbidden
from bot.sandbox.faults import FaultBook
from bot.sandbox.journal import ActionLog, Stats
from bot.sandbox.limits import Limits, RateMeter
from bot.sandbox.models import (
    BOT_FIRST_NAME,
    CallbackRecord,
    Chat,
    StoredFile,
    StoredMessage,
    User,
)
from bot.sandbox.params import Upload
from bot.sandbox.updates import UpdateQueue
from bot.sandbox.webhook import WebhookConfig

FILE_FOLDERS = {"document": "documents", "photo": "photos"}
EXTENSION_RE = re.compile(r"\.[A-Za-z0-9]{1,8}")


def bot_id_from_token(token: str) -> int:
    head, sep, _ = token.partition(":")
    if not sep or not head.isdigit():
        raise ValueError("a bot token looks like '<bot id>:<secret>'")
    return int(head)


class SandboxState:
    """The emulated Telegram as seen by one bot."""

    def __init__(self, token: str, bot_username: str, limits: Limits):
        self.token = token
        self.bot = User(
            id=bot_id_from_token(token),
            first_name=BOT_FIRST_NAME,
            username=bot_username,
            is_bot=True,
        )
        self.initial_limits = limits
        self.stopping = asyncio.Event()  # set when the server shuts down: ends long waits
        self.actions = ActionLog()
        self.updates = UpdateQueue(lambda: self.actions.last_seq)
        self._ids = itertools.count(1)
        self._forget_world()

    def _forget_world(self) -> None:
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.polls: dict[str, StoredMessage] = {}  # poll id -> the message carrying it
        self.callbacks: dict[str, CallbackRecord] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}  # (name|description|…, language)
        self.default_menu_button: dict[str, Any] = {"type": "commands"}
        self.webhook: WebhookConfig | None = None
        self.webhook_targets: list[str] = []  # round-robin override of the webhook URL
        self.stats = Stats()
        self.faults = FaultBook()
        self.meter = RateMeter(replace(self.initial_limits))

    def reset(self) -> None:
        """Forget users, chats, messages, files, settings, faults and logs; keep the bot."""
        self.updates.clear()
        self.actions.clear()
        self._forget_world()
        self.updates.notify()

    def new_id(self) -> int:
        return next(self._ids)

    # users and chats

    def ensure_user(self, user_id: int, **profile: Any) -> User:
        """The user with this id (created on first sight), updated with given profile fields."""
        user = self.users.get(user_id)
        if user is None:
            user = User(id=user_id, first_name=profile.get("first_name") or f"User {user_id}")
            self.users[user_id] = user
            self.chats[user_id] = Chat(id=user_id, type="private", user=user)
        for key in ("first_name", "last_name", "username", "language_code"):
            if profile.get(key) is not None:
                setattr(user, key, profile[key])
        return user

    def chat(self, chat_id: Any) -> Chat:
        """A known chat, or Telegram's "chat not found"."""
        try:
            chat = self.chats.get(int(chat_id))
        except (TypeError, ValueError):
            chat = None  # @usernames of channels are not emulated
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def writable_chat(self, chat_id: Any) -> Chat:
        """A chat the bot may send to now, or the error Telegram gives for it."""
        chat = self.chat(chat_id)
        check_reachable(chat)
        return chat

    def new_message(self, chat: Chat, sender: User, **fields: Any) -> StoredMessage:
        chat.last_message_id += 1
        message = StoredMessage(
            message_id=chat.last_message_id,
            chat=chat,
            sender=sender,
            date=int(time.time()),
            **fields,
        )
        chat.messages[message.message_id] = message
        return message

    def message(self, chat: Chat, message_id: int | None) -> StoredMessage | None:
        message = chat.messages.get(message_id) if message_id is not None else None
        return None if message is None or message.deleted else message

    # files

    def store_file(
        self, kind: str, data: bytes | None, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        """Keep a file so getFile and /file/bot<token>/<path> can serve it back."""
        number = self.new_id()
        unique = hashlib.sha1(f"{kind}:{number}".encode()).hexdigest()[:16]
        extension = os.path.splitext(file_name or "")[1]
        suffix = extension if EXTENSION_RE.fullmatch(extension) else ""
        stored = StoredFile(
            file_id=f"{kind[:3].upper()}{number}x{unique}",
            file_unique_id=unique,
            file_path=f"{FILE_FOLDERS[kind]}/file_{number}{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == path), None)

    def resolve_file(self, value: Upload | str | None, kind: str, field: str) -> StoredFile:
        """A file parameter of a send: a new upload, a known file_id, or an HTTP URL."""
        if isinstance(value, Upload):
            return self.store_file(kind, value.data, value.filename, _mime_type(value))
        if not value:
            raise bad_request(f"there is no {field} in the request")
        if value in self.files:
            return self.files[value]
        self.check_file(value)
        name = value.rsplit("/", 1)[-1] or None
        return self.store_file(kind, None, name, None)

    def check_file(self, value: str) -> None:
        """Telegram's answer to a file_id it does not know; any HTTP URL is taken."""
        if value not in self.files and not value.startswith(("http://", "https://")):
            raise bad_request("wrong file identifier/HTTP URL specified")


def _mime_type(upload: Upload) -> str:
    """The upload's type, guessed from its name when the client sent none (as aiogram does)."""
    if upload.content_type and upload.content_type != "application/octet-stream":
        return upload.content_type
    guessed, _ = mimetypes.guess_type(upload.filename)
    return guessed or "application/octet-stream"


def check_reachable(chat: Chat) -> None:
    """Raise what Telegram answers when the bot cannot post in ``chat``."""
    if chat.type == "private":
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        if not chat.started:
            raise forbidden("bot can't initiate conversation with a user")
        return
    if chat.migrated_to is not None:
        raise ApiError(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": chat.migrated_to},
        )
    kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
    if chat.bot_status == "kicked":
        raise forbidden(f"bot was kicked from the {kind}")
    if chat.bot_status == "left":
        raise forbidden(f"bot is not a member of the {kind}")
