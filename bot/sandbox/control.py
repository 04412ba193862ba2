"""The control API under ``/sandbox/``: act as users and groups, read what the bot did.

Endpoints that make something happen wait (``wait``, default true) until the
bot has handled the resulting updates, then return the bot actions recorded
between delivery and handling; that is what makes end-to-end tests
deterministic without sleeps.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.sandbox.bot_api import json_response
from bot.sandbox.errors import ControlError
from bot.sandbox.simulator import Attachment, Simulator
from bot.sandbox.state import SandboxState
from bot.sandbox.updates import PendingUpdate
from bot.sandbox.webhook import webhook_info

DEFAULT_WAIT_TIMEOUT = 10.0
SENDERS = ("all", "bot", "user")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def control_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refusals become ``{"error": ...}`` with a meaningful status."""
    try:
        return await handler(request)
    except ControlError as e:
        return json_response({"error": e.message}, e.status)
    except (ValueError, TypeError, KeyError) as e:
        return json_response({"error": f"bad request: {e}"}, 400)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except json.JSONDecodeError as e:
        raise ControlError(400, f"body must be JSON: {e}") from None
    if not isinstance(body, dict):
        raise ControlError(400, "body must be a JSON object")
    return body


def _int_param(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise ControlError(400, f"{name} must be an integer") from None


def _decode(data: str, what: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ControlError(400, f"{what}.content_base64 is not valid base64") from None


def _attachment(body: dict[str, Any]) -> Attachment | None:
    if document := body.get("document"):
        return Attachment(
            kind="document",
            data=_decode(document.get("content_base64", ""), "document"),
            file_name=document.get("file_name") or "file",
            mime_type=document.get("mime_type") or "application/octet-stream",
        )
    if photo := body.get("photo"):
        return Attachment(kind="photo", data=_decode(photo.get("content_base64", ""), "photo"))
    return None


class ControlApi:
    """HTTP face of the simulator and of the emulator's journals."""

    def __init__(self, state: SandboxState, simulator: Simulator):
        self.state = state
        self.sim = simulator

    def app(self) -> web.Application:
        """A sub-application to mount at ``/sandbox``."""
        app = web.Application(middlewares=[control_errors])
        r = app.router
        r.add_post("/users", self.add_user)
        r.add_get("/users", self.list_users)
        r.add_post("/users/{user_id}/block", self.block)
        r.add_post("/message", self.message)
        r.add_post("/callback", self.callback)
        r.add_post("/poll_answer", self.poll_answer)
        r.add_post("/redeliver", self.redeliver)
        r.add_post("/chats", self.create_chat)
        r.add_get("/chats", self.list_chats)
        r.add_get("/chats/{chat_id}", self.get_chat)
        r.add_post("/chats/{chat_id}/members", self.set_member)
        r.add_post("/chats/{chat_id}/bot", self.set_bot_status)
        r.add_post("/chats/{chat_id}/migrate", self.migrate)
        r.add_get("/chats/{chat_id}/messages", self.messages)
        r.add_get("/files/{file_id}", self.file_content)
        r.add_get("/actions", self.actions)
        r.add_get("/sent", self.sent)
        r.add_get("/faults", self.list_faults)
        r.add_post("/faults", self.add_fault)
        r.add_delete("/faults", self.clear_faults)
        r.add_get("/limits", self.get_limits)
        r.add_post("/limits", self.set_limits)
        r.add_get("/stats", self.stats)
        r.add_post("/reset", self.reset)
        r.add_get("/commands", self.commands)
        r.add_get("/webhook", self.webhook)
        r.add_post("/webhook_targets", self.webhook_targets)
        return app

    async def _settle(self, updates: list[PendingUpdate], body: dict[str, Any]) -> dict[str, Any]:
        """Wait until the bot handled ``updates`` and collect what it did meanwhile."""
        summary: dict[str, Any] = {
            "update_id": updates[-1].update_id if updates else None,
            "update_ids": [u.update_id for u in updates],
            "delivered": bool(updates),
            "actions": [],
        }
        if not updates or not body.get("wait", True):
            return summary
        timeout = float(body.get("timeout", DEFAULT_WAIT_TIMEOUT))
        for update in updates:
            try:
                await asyncio.wait_for(update.handled.wait(), timeout)
            except TimeoutError:
                raise ControlError(504, self._not_handled(update, timeout)) from None
        start = min(u.delivered_seq or 0 for u in updates)
        end = max(u.handled_seq or 0 for u in updates)
        summary["actions"] = self.state.actions.between(start, end)
        return summary

    def _not_handled(self, update: PendingUpdate, timeout: float) -> str:
        webhook = self.state.webhook
        how = (
            f"the webhook {webhook.url} (last error: {webhook.last_error_message})"
            if webhook
            else "getUpdates"
        )
        state = "was delivered but not confirmed" if update.delivered_seq else "was not fetched"
        return (
            f"update {update.update_id} ({update.kind}) {state} within {timeout:g} s; "
            f"is the bot running and receiving updates through {how}?"
        )

    # acting

    async def add_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        profile = {k: body.get(k) for k in ("first_name", "last_name", "username", "language_code")}
        user = self.sim.add_user(int(body["id"]), started=bool(body.get("started")), **profile)
        return json_response(user.to_api())

    async def list_users(self, request: web.Request) -> web.Response:
        return json_response([user.to_api() for user in self.state.users.values()])

    async def block(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user_id = _int_param(request, "user_id")
        updates = self.sim.block(user_id, bool(body.get("blocked", True)))
        result = await self._settle(updates, body)
        return json_response({**self.state.chats[user_id].view(), **result})

    async def message(self, request: web.Request) -> web.Response:
        body = await _body(request)
        message, updates = self.sim.send_message(
            int(body["user_id"]),
            body.get("text"),
            chat_id=None if body.get("chat_id") is None else int(body["chat_id"]),
            attachment=_attachment(body),
            reply_to_message_id=body.get("reply_to_message_id"),
        )
        result = await self._settle(updates, body)
        return json_response({"message": message.view(), **result})

    async def callback(self, request: web.Request) -> web.Response:
        body = await _body(request)
        record, updates = self.sim.press(
            int(body["user_id"]), int(body["chat_id"]), int(body["message_id"]), str(body["data"])
        )
        result = await self._settle(updates, body)
        return json_response({"callback_query_id": record.id, "answer": record.answer, **result})

    async def poll_answer(self, request: web.Request) -> web.Response:
        body = await _body(request)
        poll_id = str(body["poll_id"])
        option_ids = [int(i) for i in body.get("option_ids", [])]
        updates = self.sim.answer_poll(int(body["user_id"]), poll_id, option_ids)
        result = await self._settle(updates, body)
        poll = self.state.polls[poll_id].poll
        return json_response({"poll": poll.to_api() if poll else None, **result})

    async def redeliver(self, request: web.Request) -> web.Response:
        body = await _body(request)
        update = self.state.updates.redeliver(int(body["update_id"]))
        if update is None:
            raise ControlError(404, "no update with this update_id was sent to the bot")
        return json_response(await self._settle([update], body))

    async def create_chat(self, request: web.Request) -> web.Response:
        body = await _body(request)
        chat_id = body.get("id")
        chat = self.sim.create_chat(
            str(body.get("type", "group")),
            str(body.get("title") or "Group"),
            None if chat_id is None else int(chat_id),
        )
        return json_response(chat.view())

    async def list_chats(self, request: web.Request) -> web.Response:
        return json_response([chat.view() for chat in self.state.chats.values()])

    async def get_chat(self, request: web.Request) -> web.Response:
        chat = self.state.chats.get(_int_param(request, "chat_id"))
        if chat is None:
            raise ControlError(404, "no such chat")
        return json_response(chat.view())

    async def set_member(self, request: web.Request) -> web.Response:
        body = await _body(request)
        chat_id = _int_param(request, "chat_id")
        updates = self.sim.set_member(chat_id, int(body["user_id"]), str(body["status"]))
        result = await self._settle(updates, body)
        return json_response({**self.state.chats[chat_id].view(), **result})

    async def set_bot_status(self, request: web.Request) -> web.Response:
        body = await _body(request)
        chat_id = _int_param(request, "chat_id")
        updates = self.sim.set_bot_status(chat_id, int(body["by_user_id"]), str(body["status"]))
        result = await self._settle(updates, body)
        return json_response({**self.state.chats[chat_id].view(), **result})

    async def migrate(self, request: web.Request) -> web.Response:
        body = await _body(request)
        by_user = body.get("by_user_id")
        chat, updates = self.sim.migrate(
            _int_param(request, "chat_id"), None if by_user is None else int(by_user)
        )
        result = await self._settle(updates, body)
        return json_response({**chat.view(), **result})

    # reading

    async def messages(self, request: web.Request) -> web.Response:
        chat = self.state.chats.get(_int_param(request, "chat_id"))
        if chat is None:
            raise ControlError(404, "no such chat")
        sender = request.query.get("from", "all")
        if sender not in SENDERS:
            raise ControlError(400, f"from must be one of {SENDERS}")
        views = [
            m.view()
            for m in chat.messages.values()
            if sender == "all" or m.sender.is_bot == (sender == "bot")
        ]
        return json_response(views)

    async def file_content(self, request: web.Request) -> web.Response:
        stored = self.state.files.get(request.match_info["file_id"])
        if stored is None or stored.data is None:
            raise ControlError(404, "no stored content for this file_id")
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def actions(self, request: web.Request) -> web.Response:
        return json_response(self.state.actions.since(int(request.query.get("since", 0))))

    async def sent(self, request: web.Request) -> web.Response:
        return json_response(self.state.actions.sent())

    async def stats(self, request: web.Request) -> web.Response:
        return json_response(self.state.stats.to_json(self.state.meter.violations))

    async def commands(self, request: web.Request) -> web.Response:
        return json_response(
            [
                {"scope": json.loads(scope), "language_code": language, "commands": commands}
                for (scope, language), commands in self.state.commands.items()
            ]
        )

    # configuring

    async def list_faults(self, request: web.Request) -> web.Response:
        return json_response(self.state.faults.to_json())

    async def add_fault(self, request: web.Request) -> web.Response:
        return json_response(self.state.faults.add(await _body(request)).to_json())

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.state.faults.clear()
        return json_response({"cleared": True})

    async def get_limits(self, request: web.Request) -> web.Response:
        return json_response(self.state.meter.limits.to_json())

    async def set_limits(self, request: web.Request) -> web.Response:
        self.state.meter.limits = self.state.meter.limits.updated(await _body(request))
        return json_response(self.state.meter.limits.to_json())

    async def reset(self, request: web.Request) -> web.Response:
        self.state.reset()
        return json_response({"reset": True})

    async def webhook(self, request: web.Request) -> web.Response:
        """getWebhookInfo as the bot would see it, plus the round-robin targets."""
        updates = self.state.updates
        info = webhook_info(self.state.webhook, len(updates.pending), updates.allowed_updates)
        return json_response({**info, "targets": self.state.webhook_targets})

    async def webhook_targets(self, request: web.Request) -> web.Response:
        urls = (await _body(request)).get("urls") or []
        if not all(
            isinstance(url, str) and url.startswith(("http://", "https://")) for url in urls
        ):
            raise ControlError(400, "urls must be a list of http(s) URLs")
        self.state.webhook_targets = list(urls)
        self.state.updates.notify()
        return json_response({"urls": self.state.webhook_targets})
