"""The Bot API endpoint: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``.

Every call goes through :meth:`BotApi.execute`, whether it came over HTTP or
inside a webhook reply: faults are acted out first, then the method runs, and
the outcome is counted and, for calls that change something, journaled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from functools import partial
from typing import Any

from aiohttp import web

from bot.sandbox.errors import METHOD_NOT_FOUND, UNAUTHORIZED, ApiError
from bot.sandbox.faults import REDIRECT
from bot.sandbox.journal import ACTION_METHODS
from bot.sandbox.methods import REGISTRY, Call
from bot.sandbox.params import Params, read_request
from bot.sandbox.state import SandboxState

dumps = partial(json.dumps, ensure_ascii=False)


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=dumps)


class BotApi:
    """Answers the bot's HTTP calls from the shared state."""

    def __init__(self, state: SandboxState):
        self.state = state

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("GET", "/bot{token}/{method}", self.handle)
        app.router.add_route("POST", "/bot{token}/{method}", self.handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self.download)

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.state.token:
            return json_response(UNAUTHORIZED.to_json(), UNAUTHORIZED.code)
        try:
            params = await read_request(request)
        except ApiError as e:
            return json_response(e.to_json(), e.code)
        status, body = await self.execute(request.match_info["method"], params)
        if status == REDIRECT:
            # Back to the same call, as a misconfigured proxy in front of a self-hosted Bot API
            # server does: the client gives up after its redirect limit. The chat goes along in
            # the query (a 302 turns the POST into a GET without its body).
            chat = {"chat_id": str(_chat_id(params))} if _chat_id(params) is not None else {}
            raise web.HTTPFound(request.rel_url.with_query(chat))
        return json_response(body, status)

    async def download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.state.token:
            return json_response(UNAUTHORIZED.to_json(), UNAUTHORIZED.code)
        stored = self.state.file_by_path(request.match_info["path"])
        if stored is None or stored.data is None:
            return json_response(ApiError(404, "Not Found").to_json(), 404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def execute(self, method: str, params: Params) -> tuple[int, dict[str, Any]]:
        """Run one Bot API call; return the HTTP status and Telegram's JSON body."""
        found = REGISTRY.get(method)
        if found is None:
            self.state.stats.count_call(method)
            self.state.stats.count_outcome(method, METHOD_NOT_FOUND.code)
            return METHOD_NOT_FOUND.code, METHOD_NOT_FOUND.to_json()
        name, handler = found
        self.state.stats.count_call(name)
        call = Call(name, params, chat_id=_chat_id(params))
        result: Any = None
        error: ApiError | None = None
        fault = self.state.faults.take(name, call.chat_id)
        if fault is not None:
            await self._hold(fault.hold_seconds)
            error = fault.error()
        if error is None:
            try:
                result = await handler(self.state, call)
            except ApiError as e:
                error = e
        self.state.stats.count_outcome(name, error.code if error else None)
        if name in ACTION_METHODS:
            self.state.actions.record(
                method=name,
                chat_id=call.chat_id,
                params=params.summary(),
                result=result,
                error=error.to_json() if error else None,
                message=call.message.view() if call.message else None,
                album=[message.view() for message in call.album] or None,
            )
        if error is not None:
            return error.code, error.to_json()
        return 200, {"ok": True, "result": result}

    async def _hold(self, seconds: float) -> None:
        """Delay an answer (slow/timeout faults), cut short when the server stops."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.state.stopping.wait(), seconds)


def _chat_id(params: Params) -> int | None:
    try:
        return params.get_int("chat_id")
    except ApiError:
        return None
