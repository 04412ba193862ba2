"""Webhook delivery: POST updates to the bot as Telegram does, until each is accepted.

Like telegram-bot-api's WebhookActor, updates wait in queues: one per chat for
messages, one per user for callback queries, one per poll for polls and poll
answers (and, assumed, one per chat for chat member changes); each other update
is a queue of its own. A queue's next update is sent only once the one before
was accepted, and up to the webhook's ``max_connections`` requests are in flight
at once, so the bot sees different people's updates concurrently and each chat's
in order. A failed delivery (connection error, non-2xx) is retried after a pause,
holding up its queue only; a JSON or multipart reply carrying ``method`` is
executed as a Bot API call (aiogram answers webhooks this way). Several target
URLs can be served round-robin, to test replicas behind a load balancer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from aiohttp import MultipartReader

from bot.sandbox.params import Params, read_multipart
from bot.sandbox.updates import PendingUpdate, UpdateQueue

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

Executor = Callable[[str, Params], Awaitable[Any]]


@dataclass
class WebhookConfig:
    """What setWebhook stored, plus delivery bookkeeping for getWebhookInfo."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None

    def record_error(self, message: str) -> None:
        self.last_error_date = int(time.time())
        self.last_error_message = message


def webhook_info(
    webhook: WebhookConfig | None, pending: int, allowed_updates: list[str] | None
) -> dict[str, Any]:
    """A WebhookInfo object (an empty url when updates go through getUpdates)."""
    info: dict[str, Any] = {
        "url": webhook.url if webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": pending,
    }
    if webhook is None:
        return info
    info["max_connections"] = webhook.max_connections
    if allowed_updates:
        info["allowed_updates"] = allowed_updates
    if webhook.last_error_date is not None:
        info["last_error_date"] = webhook.last_error_date
        info["last_error_message"] = webhook.last_error_message
    return info


class WebhookHost(Protocol):
    """The part of the emulator state delivery needs."""

    updates: UpdateQueue
    webhook: WebhookConfig | None
    webhook_targets: list[str]


def delivery_queue(update: PendingUpdate) -> Hashable:
    """The queue an update waits in (see the module's docstring)."""
    event = update.payload[update.kind]
    if update.kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
        return ("chat", event["chat"]["id"])
    if update.kind in ("my_chat_member", "chat_member"):
        return ("chat", event["chat"]["id"])
    if update.kind == "callback_query":
        return ("user", event["from"]["id"])
    if update.kind == "poll":
        return ("poll", event["id"])
    if update.kind == "poll_answer":
        return ("poll", event["poll_id"])
    return ("update", update.update_id)


class WebhookDeliverer:
    """A background task that starts a delivery for each queue's next update while there is
    room (see the module's docstring)."""

    def __init__(
        self,
        host: WebhookHost,
        execute: Executor,
        *,
        retry_delay: float,
        request_timeout: float,
    ):
        self._host = host
        self._execute = execute
        self._turn = 0
        self._retry_delay = retry_delay
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._sending: dict[PendingUpdate, asyncio.Task[None]] = {}
        self._busy: set[Hashable] = set()  # queues with an update in flight

    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        self._task = asyncio.create_task(self._run(), name="sandbox-webhook-delivery")

    async def stop(self) -> None:
        tasks = [task for task in (self._task, *self._sending.values()) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        queue = self._host.updates
        while True:
            webhook = self._host.webhook
            if webhook is not None:
                for update in list(queue.pending):
                    if len(self._sending) >= webhook.max_connections:
                        break
                    key = delivery_queue(update)
                    if update in self._sending or key in self._busy:
                        continue
                    self._busy.add(key)
                    self._sending[update] = asyncio.create_task(self._send(update, key))
            await queue.wait_change(None)

    async def _send(self, update: PendingUpdate, key: Hashable) -> None:
        """Until the webhook accepts the update (or is deleted: getUpdates then has it)."""
        queue = self._host.updates
        try:
            while (webhook := self._host.webhook) is not None:
                queue.mark_delivered([update])
                if await self._deliver(webhook, update):
                    queue.mark_handled(update)
                    return
                await asyncio.sleep(self._retry_delay)
        finally:
            del self._sending[update]
            self._busy.discard(key)
            queue.notify()  # room for the next one

    def _next_url(self, webhook: WebhookConfig) -> str:
        targets = self._host.webhook_targets or [webhook.url]
        url = targets[self._turn % len(targets)]
        self._turn += 1
        return url

    async def _deliver(self, webhook: WebhookConfig, update: PendingUpdate) -> bool:
        """POST one update; True when the bot accepted it (and its reply was executed)."""
        assert self._session is not None
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        try:
            async with self._session.post(
                self._next_url(webhook), json=update.payload, headers=headers
            ) as response:
                if not 200 <= response.status < 300:
                    webhook.record_error(
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
                    return False
                reply = await _read_reply(response)
        except (aiohttp.ClientError, TimeoutError) as e:
            webhook.record_error(f"Connection failed: {type(e).__name__}: {e}")
            return False
        if reply is not None:
            await self._execute(*reply)
        return True


async def _read_reply(response: aiohttp.ClientResponse) -> tuple[str, Params] | None:
    """A Bot API call carried in the webhook response body, if any."""
    if response.content_type == "multipart/form-data":
        params = await read_multipart(MultipartReader(response.headers, response.content))
    elif response.content_type == "application/json":
        try:
            body = await response.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        params = Params(body)
    else:
        return None
    method = params.values.pop("method", None)
    return (str(method), params) if method else None
