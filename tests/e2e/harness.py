"""Running the real bot against the emulator, and people to act as."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import Select, select

from bot.config import Settings, load_settings
from bot.people.models import Person as PersonRow
from bot.people.models import PersonRole
from bot.sandbox import SandboxClient
from bot.telegram.app import Hamgam, build, run_polling, start_webhook
from tests.conftest import TOKEN


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_settings(database_url: str, api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "telegram_api_url": api_url,
        "database_url": database_url,
        "webhook_url": None,
        "staff_ids": [],
    }
    return load_settings(**(values | overrides))


class BotProcess:
    """The bot as `hamgam run` runs it, inside the test's event loop, startable and stoppable
    like a process (a restart keeps only what the database holds)."""

    def __init__(self, settings: Settings, client: SandboxClient) -> None:
        self.settings = settings
        self.client = client
        self.app: Hamgam | None = None
        self._polling: asyncio.Task[None] | None = None
        self._webhook: web.AppRunner | None = None
        self.failures: list[BaseException] = []

    @property
    def webhook(self) -> bool:
        return self.settings.webhook_url is not None

    async def start(self) -> None:
        self.app = build(self.settings)
        if self.webhook:
            self._webhook = await start_webhook(self.app)
            return
        self._polling = asyncio.create_task(run_polling(self.app))
        ready = asyncio.create_task(self.app.ready.wait())
        await asyncio.wait({ready, self._polling}, timeout=10, return_when="FIRST_COMPLETED")
        if self._polling.done():
            ready.cancel()
            self._polling.result()  # raises what stopped it
        if not ready.done():
            raise TimeoutError("the bot did not start polling")

    async def stop(self) -> None:
        app = self.app
        if app is None:
            return
        if self._polling is not None:
            assert app.polling is not None
            app.polling.stop()  # as SIGTERM does: the updates being handled finish first
            await self._polling
            self._polling = None
        if self._webhook is not None:
            await app.dispatcher.emit_shutdown(**app.dispatcher.workflow_data, bot=app.bot)
            await self._webhook.cleanup()
            self._webhook = None
        self.failures.extend(app.failures)
        await app.close()
        self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


def plain(message: dict[str, Any]) -> str:
    return str(message.get("plain_text") or message.get("text") or message.get("caption") or "")


async def inbox_has(someone: Person, text: str) -> bool:
    """Whether any message the person has received says `text`."""
    return any(text in plain(message) for message in await someone.inbox())


def granted(person: PersonRow) -> Select[tuple[str]]:
    """The roles granted to a person (not those their groups give), as stored."""
    return select(PersonRole.role).where(PersonRole.person_id == person.id)


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


@dataclass
class Reply:
    """What the bot did in answer to one update."""

    actions: list[dict[str, Any]]
    answer: dict[str, Any] | None = None
    chat_id: int | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Messages sent or edited in the chat the update came from, as the person now sees them
        (each of an album's). The outbox may be sending to others at the same moment; those
        are in `actions`, not here."""
        return [
            message
            for action in self.actions
            if action["ok"] and action.get("message") and action["method"] != "deleteMessage"
            for message in action.get("album") or [action["message"]]
            if self.chat_id is None or message.get("chat_id") == self.chat_id
        ]

    @property
    def texts(self) -> list[str]:
        return [plain(message) for message in self.messages]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


@dataclass
class Person:
    """Someone using Telegram: types into a chat, presses buttons, reads replies."""

    client: SandboxClient
    user_id: int
    first_name: str
    language_code: str | None = "fa"
    username: str | None = None
    history: list[Reply] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        return self.user_id

    async def join_telegram(self) -> Person:
        await self.client.add_user(
            id=self.user_id,
            first_name=self.first_name,
            language_code=self.language_code,
            username=self.username,
        )
        return self

    async def send(self, text: str, chat_id: int | None = None) -> Reply:
        result = await self.client.send_message(
            user_id=self.user_id, text=text, chat_id=chat_id or self.chat_id
        )
        reply = Reply(result["actions"], chat_id=chat_id or self.chat_id)
        self.history.append(reply)
        return reply

    async def press(self, label: str, chat_id: int | None = None) -> Reply:
        result = await self.client.press(self.user_id, chat_id or self.chat_id, label)
        reply = Reply(result["actions"], result.get("answer"), chat_id or self.chat_id)
        self.history.append(reply)
        return reply

    async def tap(self, data: str, message_id: int, chat_id: int | None = None) -> Reply:
        """Send raw callback data, as a forged or replayed button press would."""
        result = await self.client.callback(
            user_id=self.user_id,
            chat_id=chat_id or self.chat_id,
            message_id=message_id,
            data=data,
        )
        reply = Reply(result["actions"], result.get("answer"), chat_id or self.chat_id)
        self.history.append(reply)
        return reply

    async def vote(self, question: str, *options: str) -> Reply:
        """Choose options, by their text, in the newest poll with this question in their chat."""
        for message in reversed(await self.inbox()):
            poll = message.get("poll") or {}
            if poll.get("question") == question:
                texts = [option["text"] for option in poll["options"]]
                chosen = [texts.index(option) for option in options]
                result = await self.client.answer_poll(self.user_id, poll["id"], chosen)
                reply = Reply(result["actions"])
                self.history.append(reply)
                return reply
        raise LookupError(question)

    async def inbox(self) -> list[dict[str, Any]]:
        return await self.client.messages(self.chat_id, sender="bot")

    async def last(self) -> dict[str, Any]:
        return (await self.inbox())[-1]

    async def button_data(self, label: str) -> tuple[str, int]:
        """The callback data behind a button the person can see, and its message id."""
        for message in reversed(await self.inbox()):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return button["callback_data"], message["message_id"]
        raise LookupError(label)
