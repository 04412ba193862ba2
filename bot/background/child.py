"""The child process that does a job's work, seen from the bot: started with its job on stdin,
read as JSON lines on stdout, stopped with the job.

A child of its own, not a thread: its reads and its CPU (CSV and XLSX writing hold the GIL)
never stop the bot's event loop. It only reads the database; what it reports is written by
the bot, so it never waits for (or holds) SQLite's write lock."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.config import PROJECT_ROOT

log = logging.getLogger(__name__)

COMMAND: Sequence[str] = (sys.executable, "-m", "bot.background.worker")
LINE_LIMIT = 64 * 1024 * 1024  # a report's composed messages come in one line
STOP_WAIT_S = 5.0
ERROR_TAIL = 2000  # characters of the child's stderr kept for the log and the job's error

Progress = Callable[[int, int | None], Awaitable[None]]
Early = Callable[[dict[str, Any]], Awaitable[None]]


class ChildFailed(Exception):
    """The work stopped with an error; the message says what, for the log."""


async def run(spec: dict[str, Any], progress: Progress, early: Early) -> dict[str, Any]:
    """Runs the work `spec` names in a child process and returns its result (parts of it
    ready before the rest go to `early` as they come); a cancelled call stops the child
    first."""
    environment = dict(os.environ)
    # The child runs the same code as the bot, wherever it was started from.
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, (str(PROJECT_ROOT), environment.get("PYTHONPATH")))
    )
    process = await asyncio.create_subprocess_exec(
        *COMMAND,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=LINE_LIMIT,
        env=environment,
    )
    assert process.stdin and process.stdout and process.stderr
    errors = asyncio.create_task(process.stderr.read())
    try:
        process.stdin.write(json.dumps(spec).encode())
        await process.stdin.drain()
        process.stdin.close()
        result: dict[str, Any] | None = None
        while line := await process.stdout.readline():
            try:
                event = json.loads(line)
            except ValueError:  # something a library printed
                log.info("Background job %s said: %s", spec.get("job_id"), line[:200])
                continue
            if "progress" in event:
                await progress(*event["progress"])
            elif "part" in event:
                await early(event["part"])
            elif "result" in event:
                result = event["result"]
        code = await process.wait()
        tail = (await errors).decode(errors="replace")[-ERROR_TAIL:]
        if code != 0 or result is None:
            raise ChildFailed(f"exit code {code}: {tail.strip() or 'no result'}")
        return result
    finally:
        if process.returncode is None:
            await _stop(process)
        errors.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await errors


async def _stop(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_WAIT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
