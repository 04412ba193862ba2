"""A background job's work, in a child process of its own: `python -m bot.background.worker`
reads the job on stdin and writes JSON lines on stdout, {"progress": [done, total]} as it
goes, {"part": {...}} for a part of the result ready before the rest, and {"result": {...}} at
the end (bot.background.child reads them).

It imports only what its kind of work needs, so that it starts fast."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

# kind → "module:function", an `async def (session, work: Work) -> dict` that does the work,
# writes its files into `work.folder` and returns what to deliver (bot.background.work).
WORK = {
    "export": "bot.reports.export_job:export_file",
    "report": "bot.reports.report_job:report_files",
    "results": "handlers.survey_admin:results_files",
    "participation": "handlers.checkin_admin:participation_files",
}


NICENESS = 5


def _emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _progress(done: int, total: int | None) -> None:
    _emit({"progress": [done, total]})


def _early(part: dict[str, Any]) -> None:
    _emit({"part": part})


async def _work(spec: dict[str, Any]) -> dict[str, Any]:
    from bot.background.work import Work
    from bot.db import create_engine, session_factory

    module, name = WORK[spec["kind"]].split(":")
    work = getattr(import_module(module), name)
    engine = create_engine(spec["database_url"])
    try:
        async with session_factory(engine)() as session:
            result: dict[str, Any] = await work(
                session,
                Work(spec["params"], spec["language"], Path(spec["folder"]), _progress, _early),
            )
            return result
    finally:
        await engine.dispose()


def main() -> None:
    # The bot's loop comes first for the CPU: on a busy machine a resident's reply waits less
    # and the job takes a little longer. Nice 5 weighs a third of nice 0; 10 (a tenth) starved
    # a report for minutes on a machine kept busy by other processes.
    os.nice(NICENESS)
    spec = json.load(sys.stdin)
    Path(spec["folder"]).mkdir(parents=True, exist_ok=True)
    _emit({"result": asyncio.run(_work(spec))})
    # Written and said: the interpreter's teardown (0.45 s once matplotlib is loaded) would
    # only hold up the bot, which waits for this process to end before it delivers.
    os._exit(0)


if __name__ == "__main__":
    main()
