"""How updates reach the bot: getUpdates long polling, or a webhook."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.sandbox.errors import bad_request, conflict
from bot.sandbox.methods.base import Call, MethodRegistry
from bot.sandbox.params import Params
from bot.sandbox.state import SandboxState
from bot.sandbox.webhook import WebhookConfig, webhook_info

methods = MethodRegistry()

SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
OTHER_POLL = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)


def _remember_allowed_updates(state: SandboxState, params: Params) -> None:
    """allowed_updates sticks until changed; an empty list means Telegram's default."""
    allowed = params.get_json("allowed_updates")
    if allowed is None:
        return
    if not isinstance(allowed, list):
        raise bad_request("can't parse allowed_updates JSON object")
    state.updates.allowed_updates = [str(kind) for kind in allowed] or None


@methods.method("getUpdates")
async def get_updates(state: SandboxState, call: Call) -> list[dict[str, Any]]:
    if state.webhook is not None:
        raise conflict(WEBHOOK_ACTIVE)
    params = call.params
    _remember_allowed_updates(state, params)
    queue = state.updates
    offset = params.get_int("offset")
    if offset is not None:
        queue.confirm(offset)
    limit = min(max(params.get_int("limit") or 100, 1), 100)
    timeout = max(params.get_int("timeout") or 0, 0)
    queue.poll_generation += 1
    generation = queue.poll_generation
    queue.notify()  # ends an older long poll with 409, as Telegram does
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (batch := queue.batch(limit)):
        remaining = deadline - loop.time()
        if remaining <= 0 or state.stopping.is_set() or state.webhook is not None:
            break
        await queue.wait_change(remaining)
        if queue.poll_generation != generation:
            raise conflict(OTHER_POLL)
    queue.mark_delivered(batch)
    return [update.payload for update in batch]


@methods.method("setWebhook")
async def set_webhook(state: SandboxState, call: Call) -> bool:
    params = call.params
    url = params.get_str("url") or ""
    if not url:
        return await delete_webhook(state, call)
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get_str("secret_token")
    if secret is not None and not SECRET_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.get_int("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    _remember_allowed_updates(state, params)
    if params.get_bool("drop_pending_updates"):
        state.updates.drop_pending()
    state.webhook = WebhookConfig(url=url, secret_token=secret, max_connections=max_connections)
    state.updates.notify()
    return True


@methods.method("deleteWebhook")
async def delete_webhook(state: SandboxState, call: Call) -> bool:
    if call.params.get_bool("drop_pending_updates"):
        state.updates.drop_pending()
    state.webhook = None
    state.updates.notify()
    return True


@methods.method("getWebhookInfo")
async def get_webhook_info(state: SandboxState, call: Call) -> dict[str, Any]:
    return webhook_info(state.webhook, len(state.updates.pending), state.updates.allowed_updates)
