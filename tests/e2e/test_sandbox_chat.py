"""`hamgam sandbox chat`: a person talks to the bot from a terminal."""

from __future__ import annotations

from bot.sandbox.chat import chat
from tests.e2e.harness import BotProcess


async def test_a_terminal_chat_onboards_a_resident(bot: BotProcess, emulator) -> None:
    lines = iter(["/start", "#1", "#9", "#1", "/help", "/quit"])
    printed: list[str] = []

    async def read_line() -> str | None:
        return next(lines, None)

    await chat(emulator.base_url, 2001, "مریم", "fa", read_line, printed.append)
    screen = "\n".join(printed)
    assert "[1] فارسی  [2] English" in screen
    assert "✎ زبان: فارسی ✓" in screen
    assert "There is no button 9." in screen
    assert "همه‌چیز آماده است" in screen
    assert "کارهایی که برایتان انجام می‌دهم" in screen


async def test_the_chat_says_so_when_the_sandbox_is_not_running() -> None:
    printed: list[str] = []

    async def read_line() -> str | None:
        return None

    await chat("http://127.0.0.1:9", 2001, "مریم", "fa", read_line, printed.append)
    assert "Is `make run` running?" in printed[0]
