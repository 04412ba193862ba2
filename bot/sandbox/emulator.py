"""The local Bot API emulator: one aiohttp server, the Bot API plus the control API.

Point a bot at ``TelegramAPIServer.from_base(emulator.base_url)`` and drive it
through ``/sandbox/`` (or :class:`bot.sandbox.client.SandboxClient`). Nothing
here imports the rest of the project, so the emulator can test any bot and be
run on its own (``hamgam sandbox serve``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web

from bot.sandbox.bot_api import BotApi
from bot.sandbox.control import ControlApi
from bot.sandbox.limits import Limits
from bot.sandbox.simulator import Simulator
from bot.sandbox.state import SandboxState
from bot.sandbox.webhook import WebhookDeliverer

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Telegram's limit for bot uploads


class Emulator:
    """A Telegram Bot API server for one bot token, in memory."""

    def __init__(
        self,
        token: str,
        *,
        bot_username: str = "hamgam_sandbox_bot",
        limits: Limits | None = None,
        webhook_retry_delay: float = 0.2,
        webhook_timeout: float = 60.0,
    ):
        self.state = SandboxState(token, bot_username, limits or Limits())
        self.api = BotApi(self.state)
        self.simulator = Simulator(self.state)
        self._control = ControlApi(self.state, self.simulator)
        self._deliverer = WebhookDeliverer(
            self.state,
            self.api.execute,
            retry_delay=webhook_retry_delay,
            request_timeout=webhook_timeout,
        )
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        self.api.add_routes(app)
        app.add_subapp("/sandbox", self._control.app())
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0 picks a free one) and return the base URL."""
        self.state.stopping.clear()
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        self._deliverer.start()
        log.debug("Bot API emulator for bot %s listening on %s", self.state.bot.id, self.base_url)
        return self.base_url

    async def stop(self) -> None:
        """End long polls and held requests, stop webhook delivery, close the server."""
        self.state.stopping.set()
        self.state.updates.notify()
        await self._deliverer.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def serve_forever(
    token: str,
    host: str = "127.0.0.1",
    port: int = 8081,
    *,
    bot_username: str = "hamgam_sandbox_bot",
    limits: Limits | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Run an emulator until cancelled (the CLI's ``sandbox serve``).

    ``ready`` is called with the base URL once the server listens.
    """
    emulator = Emulator(token, bot_username=bot_username, limits=limits)
    base_url = await emulator.start(host, port)
    if ready is not None:
        ready(base_url)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()
