"""Async client for the emulator's control API, for tests and the terminal chat.

Methods mirror the ``/sandbox/`` endpoints and return their JSON as plain
dicts (shapes in the emulator's docs). A refused request raises
:class:`SandboxError` with the server's explanation.
"""

from __future__ import annotations

import base64
from types import TracebackType
from typing import Any

import aiohttp

JSON = dict[str, Any]


class SandboxError(RuntimeError):
    """The control API refused a request (status and the server's message)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"sandbox answered {status}: {message}")
        self.status = status
        self.message = message


class SandboxClient:
    """Acts as Telegram users and groups against a running emulator."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession | None = None):
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/sandbox/{path}"
        async with self.session.request(method, url, **kwargs) as response:
            if response.content_type != "application/json":
                if response.status >= 400:
                    raise SandboxError(response.status, await response.text())
                return await response.read()
            body = await response.json()
            if response.status >= 400:
                raise SandboxError(response.status, body.get("error", str(body)))
            return body

    async def _post(self, path: str, body: JSON) -> JSON:
        result: JSON = await self._request("POST", path, json=_compact(body))
        return result

    async def _get(self, path: str, **params: Any) -> JSON:
        result: JSON = await self._request("GET", path, params=params)
        return result

    async def _get_list(self, path: str, **params: Any) -> list[JSON]:
        result: list[JSON] = await self._request("GET", path, params=params)
        return result

    # acting as people and groups

    async def add_user(
        self,
        id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        started: bool = False,
    ) -> JSON:
        """A Telegram user; ``started`` seeds one who has already written to the bot."""
        return await self._post(
            "users",
            {
                "id": id,
                "first_name": first_name,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
                "started": started,
            },
        )

    async def send_message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        document: tuple[str, bytes, str] | None = None,
        photo: bytes | None = None,
        reply_to_message_id: int | None = None,
        wait: bool = True,
        wait_timeout: float = 10.0,
    ) -> JSON:
        """A user writes (``document`` is ``(file_name, content, mime_type)``).

        Returns ``{"message", "update_id", "update_ids", "delivered", "actions"}``.
        """
        body: JSON = {
            "user_id": user_id,
            "text": text,
            "chat_id": chat_id,
            "reply_to_message_id": reply_to_message_id,
            "wait": wait,
            "timeout": wait_timeout,
        }
        if document is not None:
            file_name, content, mime_type = document
            body["document"] = {
                "file_name": file_name,
                "mime_type": mime_type,
                "content_base64": base64.b64encode(content).decode(),
            }
        if photo is not None:
            body["photo"] = {"content_base64": base64.b64encode(photo).decode()}
        return await self._post("message", body)

    async def callback(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        wait: bool = True,
        wait_timeout: float = 10.0,
    ) -> JSON:
        """Press a button with any ``data`` (forged presses included).

        Returns ``{"callback_query_id", "answer", "update_id", "update_ids", "delivered",
        "actions"}``; ``answer`` is ``{"text", "show_alert", "url"}`` or None.
        """
        return await self._post(
            "callback",
            {
                "user_id": user_id,
                "chat_id": chat_id,
                "message_id": message_id,
                "data": data,
                "wait": wait,
                "timeout": wait_timeout,
            },
        )

    async def press(
        self,
        user_id: int,
        chat_id: int,
        label: str,
        message_id: int | None = None,
        *,
        wait: bool = True,
        wait_timeout: float = 10.0,
    ) -> JSON:
        """Press the inline button labelled ``label`` on the newest bot message showing it."""
        candidates = [
            m
            for m in reversed(await self.messages(chat_id, sender="bot"))
            if not m["deleted"] and (message_id is None or m["message_id"] == message_id)
        ]
        seen: list[str] = []
        for message in candidates:
            for button in _inline_buttons(message):
                if button["text"] == label or button["text"].strip() == label.strip():
                    if "callback_data" not in button:
                        raise LookupError(
                            f"button {label!r} in message {message['message_id']} has no "
                            f"callback_data: {button}"
                        )
                    return await self.callback(
                        user_id,
                        chat_id,
                        message["message_id"],
                        button["callback_data"],
                        wait=wait,
                        wait_timeout=wait_timeout,
                    )
                seen.append(button["text"])
        where = f"message {message_id}" if message_id is not None else "bot messages"
        raise LookupError(
            f"no inline button {label!r} in {where} of chat {chat_id}; available: {seen}"
        )

    async def create_chat(self, title: str, type: str = "group", id: int | None = None) -> JSON:
        return await self._post("chats", {"title": title, "type": type, "id": id})

    async def set_member(
        self, chat_id: int, user_id: int, status: str = "member", *, wait: bool = True
    ) -> JSON:
        return await self._post(
            f"chats/{chat_id}/members", {"user_id": user_id, "status": status, "wait": wait}
        )

    async def set_bot_status(
        self,
        chat_id: int,
        by_user_id: int,
        status: str = "member",
        *,
        wait: bool = True,
        wait_timeout: float = 10.0,
    ) -> JSON:
        """Add the bot to a group (member/administrator) or remove it (left/kicked)."""
        return await self._post(
            f"chats/{chat_id}/bot",
            {"by_user_id": by_user_id, "status": status, "wait": wait, "timeout": wait_timeout},
        )

    async def block(
        self, user_id: int, blocked: bool = True, *, wait: bool = True, wait_timeout: float = 10.0
    ) -> JSON:
        return await self._post(
            f"users/{user_id}/block", {"blocked": blocked, "wait": wait, "timeout": wait_timeout}
        )

    async def migrate_chat(
        self, chat_id: int, by_user_id: int | None = None, *, wait: bool = True
    ) -> JSON:
        """Upgrade a group to a supergroup; the result is the new chat (plus event fields)."""
        return await self._post(
            f"chats/{chat_id}/migrate", {"by_user_id": by_user_id, "wait": wait}
        )

    async def answer_poll(
        self,
        user_id: int,
        poll_id: str,
        option_ids: list[int],
        *,
        wait: bool = True,
        wait_timeout: float = 10.0,
    ) -> JSON:
        return await self._post(
            "poll_answer",
            {
                "user_id": user_id,
                "poll_id": poll_id,
                "option_ids": option_ids,
                "wait": wait,
                "timeout": wait_timeout,
            },
        )

    async def redeliver(
        self, update_id: int, *, wait: bool = True, wait_timeout: float = 10.0
    ) -> JSON:
        """Deliver an update the bot already had once more, with the same update_id (as
        Telegram does after a slow or failed webhook answer, or an unconfirmed poll).

        Returns ``{"update_id", "update_ids", "delivered", "actions"}``.
        """
        return await self._post(
            "redeliver", {"update_id": update_id, "wait": wait, "timeout": wait_timeout}
        )

    # reading what happened

    async def messages(self, chat_id: int, sender: str = "all") -> list[JSON]:
        """Messages of a chat in order; ``sender`` is "all", "bot" or "user"."""
        return await self._get_list(f"chats/{chat_id}/messages", **{"from": sender})

    async def chat(self, chat_id: int) -> JSON:
        return await self._get(f"chats/{chat_id}")

    async def file_content(self, file_id: str) -> bytes:
        """The bytes of a file the bot (or a user) sent."""
        content: bytes = await self._request("GET", f"files/{file_id}")
        return content

    async def actions(self, since: int = 0) -> list[JSON]:
        return await self._get_list("actions", since=since)

    async def sent(self) -> list[JSON]:
        return await self._get_list("sent")

    async def stats(self) -> JSON:
        return await self._get("stats")

    async def webhook_info(self) -> JSON:
        """getWebhookInfo as the bot sees it, plus ``targets`` (round-robin URLs)."""
        return await self._get("webhook")

    async def commands(self) -> list[JSON]:
        return await self._get_list("commands")

    # configuring the emulator

    async def add_fault(
        self,
        kind: str,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        times: int | None = None,
        retry_after: int | None = None,
        status: int | None = None,
        delay: float | None = None,
    ) -> JSON:
        """Inject a fault: kind is "429", "5xx", "slow", "403", "timeout" or "redirect"."""
        return await self._post(
            "faults",
            {
                "kind": kind,
                "method": method,
                "chat_id": chat_id,
                "times": times,
                "retry_after": retry_after,
                "status": status,
                "delay": delay,
            },
        )

    async def clear_faults(self) -> None:
        await self._request("DELETE", "faults")

    async def limits(self) -> JSON:
        return await self._get("limits")

    async def set_limits(self, **limits: float | bool) -> JSON:
        """Change any of global_per_s, chat_per_s, chat_burst, group_per_min, enforce."""
        return await self._post("limits", limits)

    async def set_webhook_targets(self, urls: list[str]) -> JSON:
        """Deliver webhook updates round-robin to ``urls`` (empty: back to setWebhook's url)."""
        return await self._post("webhook_targets", {"urls": urls})

    async def reset(self) -> None:
        await self._request("POST", "reset")


def _compact(body: JSON) -> JSON:
    return {key: value for key, value in body.items() if value is not None}


def _inline_buttons(message: JSON) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard") or [] for button in row]
