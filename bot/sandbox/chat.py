"""A terminal chat with the bot through the emulator: type as a person, press buttons by number.

Self-contained like the rest of bot/sandbox: it speaks only the emulator's control API.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox.client import SandboxClient, SandboxError

ReadLine = Callable[[], Awaitable[str | None]]
Write = Callable[[str], None]

HELP = (
    "Type a message and press Enter. '#2' presses button 2 of the latest keyboard; '/quit' leaves."
)


async def _read_stdin() -> str | None:
    try:
        return await asyncio.to_thread(input, "> ")
    except EOFError:
        return None


class Transcript:
    """Prints what the bot sends, and what it edits, once each, numbering the buttons."""

    def __init__(self, client: SandboxClient, chat_id: int, write: Write) -> None:
        self.client = client
        self.chat_id = chat_id
        self.write = write
        self.seen: dict[int, tuple[int, bool]] = {}
        self.buttons: list[tuple[int, str, str]] = []  # message id, label, callback data

    async def refresh(self) -> None:
        messages = await self.client.messages(self.chat_id, sender="bot")
        albums: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            if message.get("media_group_id"):
                albums.setdefault(message["media_group_id"], []).append(message)
        for message in messages:
            version = (message["edited"], message["deleted"])
            if self.seen.get(message["message_id"]) == version:
                continue
            edited = message["message_id"] in self.seen
            self.seen[message["message_id"]] = version
            album = albums.get(message.get("media_group_id") or "", [message])
            if not message["deleted"] and (edited or album[0] is message):
                self._show(message, edited, album)

    def _show(self, message: dict[str, Any], edited: bool, album: list[dict[str, Any]]) -> None:
        """An album is shown once, as its first message (which has the caption) and a line
        naming all its files."""
        text = message.get("plain_text") or ""
        files = [_file_name(each) for each in album if _file_name(each)]
        if len(files) > 1 and not edited:
            text += f"\n[album of {len(files)}: {', '.join(files)}]"
        elif files:
            text += f"\n[{_file_name(message)}]"
        self.write(("✎ " if edited else "🤖 ") + text.replace("\n", "\n   "))
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [button for row in rows for button in row if "callback_data" in button]
        if buttons:
            self.buttons = [
                (message["message_id"], button["text"], button["callback_data"])
                for button in buttons
            ]
            self.write("   " + "  ".join(f"[{n}] {b['text']}" for n, b in enumerate(buttons, 1)))


def _file_name(message: dict[str, Any]) -> str:
    if message.get("document"):
        return f"document: {message['document'].get('file_name')}"
    return "photo" if message.get("photo") else ""


async def chat(
    base_url: str,
    user_id: int,
    first_name: str,
    language_code: str,
    read_line: ReadLine = _read_stdin,
    write: Write = print,
) -> None:
    async with SandboxClient(base_url) as client:
        try:
            await client.add_user(id=user_id, first_name=first_name, language_code=language_code)
        except Exception as error:  # connection refused and the like, said plainly
            write(f"Cannot reach the sandbox at {base_url} ({error}). Is `make run` running?")
            return
        transcript = Transcript(client, user_id, write)
        await transcript.refresh()
        write(f"You are {first_name} (id {user_id}). {HELP}")
        watcher = asyncio.create_task(_watch(transcript))
        try:
            while (line := await read_line()) is not None and line.strip() != "/quit":
                await _act(client, transcript, user_id, line.strip())
                await transcript.refresh()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


async def _act(client: SandboxClient, transcript: Transcript, user_id: int, line: str) -> None:
    if not line:
        return
    if line.startswith("#") and line[1:].isdigit():
        number = int(line[1:])
        if not 1 <= number <= len(transcript.buttons):
            transcript.write(f"There is no button {number}.")
            return
        message_id, _label, data = transcript.buttons[number - 1]
        result = await client.callback(user_id, user_id, message_id, data)
        answer = result.get("answer") or {}
        if answer.get("text"):
            transcript.write(f"💬 {answer['text']}")
        return
    try:
        await client.send_message(user_id, line)
    except SandboxError as error:
        transcript.write(f"(the sandbox refused: {error})")


async def _watch(transcript: Transcript) -> None:
    """Messages that arrive on their own (announcements, reminders) appear as they come."""
    while True:
        await asyncio.sleep(1)
        with contextlib.suppress(Exception):
            await transcript.refresh()
