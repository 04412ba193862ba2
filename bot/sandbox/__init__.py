"""Local Telegram Bot API emulator (server, limits, control-API client).

Self-contained: depends on aiohttp only, never on the rest of the project.
"""

from bot.sandbox.client import SandboxClient, SandboxError
from bot.sandbox.emulator import Emulator, serve_forever
from bot.sandbox.limits import Limits

__all__ = ["Emulator", "Limits", "SandboxClient", "SandboxError", "serve_forever"]
