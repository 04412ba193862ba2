"""`python -m bench.emulator PORT TOKEN`: the Bot API emulator as the benchmarks' instrument,
in its own process and without the cycle collector.

The emulator keeps every send in its journal, so over a benchmark its heap grows to a million
objects and a full collection stops its event loop for a few hundred milliseconds. Sends that
arrive meanwhile are then stamped all at once: the recorded times no longer say when the bot
sent, and the sliding-window meter counts a burst the bot never made. Telegram has no such
pauses, so the instrument should not either; refcounting still frees almost everything, and
the process lives a few minutes."""

from __future__ import annotations

import asyncio
import gc
import sys

from bot.sandbox.emulator import serve_forever


def main() -> None:
    port, token = int(sys.argv[1]), sys.argv[2]
    gc.disable()
    asyncio.run(serve_forever(token, "127.0.0.1", port))  # until SIGTERM ends the process


if __name__ == "__main__":
    main()
