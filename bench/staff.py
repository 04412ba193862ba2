"""What a person gets while staff work: residents' replies during staff exports and reports,
and how long a year's /report takes to reach the staff member, both measured in the chat.

The bot runs as `python -m bot run` (polling) against the emulator in its own process
(bench/emulator.py), and everything is read from the emulator's action journal, whose times
are stamped by the emulator when the bot's call arrives. Nothing here knows how the bot does
the work (in the handler, in a background job, through the outbox, in one message or many),
only what reaches the chat:

- A resident's /help is answered by the next message the bot sends into their chat (each
  resident's updates are handled in order, so the n-th message answers the n-th /help);
  latency = the emulator's time of that message − the time the bench sent the /help. A
  /help with no answer by the end (30 s after the staff work, with residents quiet) is lost.
- The longest stall: the longest time during which some resident was waiting and the bot
  answered nobody.
- An export is done when a document arrives in the staff member's chat (a CSV, an XLSX, a
  ZIP: any), or Telegram refuses one, or the bot says it cannot send it, recognised by the
  command-line alternative it offers (`… export survey_responses …`).
- A report is delivered once (1) something arrived in the staff member's chat after the
  press, (2) the bot's outbox holds nothing undelivered for them, (3) nothing more arrived
  for QUIET_S, and (4) meanwhile the bot's processes (the bot and any child it runs work
  in) were idle, under IDLE_SHARE of a core; its time is that of the last arrival (so the
  wait for quiet is not counted). (4) is what makes silence trustworthy: today's bot sends
  the report's text, then renders the charts for over ten seconds on a busy machine before
  the first photo, and a background job may likewise work silently between its parts.

Parts: `staff_load` (bench/__main__.py) → reply_latency_ms_{p50,p99}_under_staff_load_{db},
longest_stall_ms_under_staff_load_{db}, updates_lost_under_staff_load; `report_delivered` →
report_10k_residents_delivered_s (only when every part was accepted) and
report_10k_residents_refused_parts.

`python -m bench.staff load [sqlite|postgres]` or `python -m bench.staff report` runs one
without writing results.json.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import func, select

from bench import export, report
from bench.answers import _stop, _tail
from bench.delivery import (
    FIRST_TELEGRAM_ID,
    PROJECT_ROOT,
    TOKEN,
    emulator_process,
    fresh_postgres,
    fresh_sqlite,
    seed_people,
)
from bot.db import create_engine, session_factory
from bot.delivery.models import FINAL, Delivery
from bot.people.models import Person
from bot.sandbox import SandboxClient

CITY = report.RESIDENTS  # the report's initiative: 10,000 residents and their year
TALKERS = 40  # residents sending /help (none of them in the report's groups)
FIRST_TALKER = FIRST_TELEGRAM_ID + 1_000
STAFF = FIRST_TELEGRAM_ID + CITY - 1  # odd: seeded with English, so labels are stable
RATE_PER_S = 8.0  # /help from all residents together
BASELINE_S = 5.0  # residents alone before the staff start, and after they finish
GRACE_S = 30.0  # for the last replies once residents stop
QUIET_S = 5.0
IDLE_SHARE = 0.25  # of one core: residents' /help and the bot's clock stay well under it
STEP_TIMEOUT_S = 900.0  # XLSX of a million rows takes 73 s alone, minutes on a busy machine
REFUSAL = re.compile(r"export\s+survey_responses")  # the command offered instead of a file
SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup"}
SHOWN_METHODS = SEND_METHODS | {"editMessageText", "editMessageCaption", "editMessageMedia"}


# ---- the chat, as the emulator journals it ----------------------------------------------------


@dataclass
class Journal:
    """The emulator's actions in the chats we watch, read every 0.1 s."""

    client: SandboxClient
    entries: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    seq: int = 0

    async def follow(self) -> None:
        while True:
            await self.read()
            await asyncio.sleep(0.1)

    async def read(self) -> None:
        for entry in await self.client.actions(since=self.seq):
            self.seq = max(self.seq, entry["seq"])
            if entry["chat_id"] is not None and entry["method"] in SHOWN_METHODS:
                message = entry.get("message") or {}
                text = message.get("plain_text") or message.get("text") or ""
                text += message.get("caption") or str(entry["params"].get("text") or "")
                self.entries[int(entry["chat_id"])].append(
                    {k: entry[k] for k in ("seq", "time", "method", "ok")} | {"text": text}
                )

    def since(self, chat_id: int, moment: float) -> list[dict[str, Any]]:
        return [e for e in self.entries.get(chat_id, []) if e["time"] >= moment]


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard") or [] for b in row]


async def _last_message_id(client: SandboxClient, chat_id: int) -> int:
    return max((m["message_id"] for m in await client.messages(chat_id)), default=0)


async def _press_when_shown(
    client: SandboxClient, chat_id: int, after: int, wanted: Callable[[str], bool]
) -> float:
    """Press the first button the bot shows, in a message newer than `after`, whose label
    passes `wanted`; the moment (time.time()) of the press."""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while time.monotonic() < deadline:
        for message in reversed(await client.messages(chat_id, sender="bot")):
            if message["message_id"] <= after or message["deleted"]:
                continue
            for button in _buttons(message):
                if wanted(button["text"]) and "callback_data" in button:
                    pressed = time.time()
                    await client.callback(
                        chat_id, chat_id, message["message_id"], button["callback_data"], wait=False
                    )
                    return pressed
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no button for the next step in chat {chat_id}")


async def _outbox_empty(sessions: Any, chat_id: int) -> bool:
    async with sessions() as session:
        waiting = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.chat_id == chat_id, Delivery.status.not_in([s.value for s in FINAL]))
        )
    return not waiting


@dataclass(frozen=True)
class Outcome:
    seconds: float  # from the press to the last arrival that ended the step
    parts: int  # messages, photos and documents that arrived (edits not counted)
    refused: int  # sends Telegram refused (too long, too large…)
    how: str


async def _export_done(journal: Journal, chat_id: int, pressed: float) -> Outcome:
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while time.monotonic() < deadline:
        for entry in journal.since(chat_id, pressed):
            if entry["method"] == "sendDocument":
                how = "a document" if entry["ok"] else "a document Telegram refused"
                return Outcome(entry["time"] - pressed, 1, int(not entry["ok"]), how)
            if entry["ok"] and REFUSAL.search(entry["text"]):
                return Outcome(entry["time"] - pressed, 0, 0, "the command-line alternative")
        await asyncio.sleep(0.1)
    raise TimeoutError("the export brought neither a document nor a refusal")


@dataclass
class BotCpu:
    """CPU seconds of the bot's process tree (children it waited for included), sampled."""

    pid: int
    samples: list[tuple[float, float]] = field(default_factory=list)

    def sample(self) -> None:
        with suppress(psutil.Error):
            bot = psutil.Process(self.pid)
            total = 0.0
            for process in [bot, *bot.children(recursive=True)]:
                with suppress(psutil.Error):
                    times = process.cpu_times()
                    total += times.user + times.system + times.children_user
                    total += times.children_system
            self.samples.append((time.monotonic(), total))

    def idle_for(self, seconds: float) -> bool:
        """Whether the bot used under IDLE_SHARE of a core over the last `seconds`."""
        self.sample()
        now, latest = self.samples[-1]
        earlier = [(at, cpu) for at, cpu in self.samples if at <= now - seconds]
        if not earlier:
            return False
        at, cpu = earlier[-1]
        return (latest - cpu) / (now - at) < IDLE_SHARE


async def _report_delivered(
    journal: Journal, sessions: Any, bot: BotCpu, chat_id: int, pressed: float
) -> Outcome:
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        bot.sample()
        arrived = journal.since(chat_id, pressed)
        if not arrived or time.time() - arrived[-1]["time"] < QUIET_S:
            continue
        if not bot.idle_for(QUIET_S) or not await _outbox_empty(sessions, chat_id):
            continue
        await journal.read()  # anything that arrived while the outbox was read
        if journal.since(chat_id, pressed) != arrived:
            continue
        shown = [e for e in arrived if e["ok"]]
        last = (shown or arrived)[-1]["time"]
        parts = sum(e["method"] in SEND_METHODS for e in shown)
        # An edit Telegram refuses ("message is not modified": the progress shown again) is
        # not a part of the report that failed to arrive.
        refused = sum(not e["ok"] and e["method"] in SEND_METHODS for e in arrived)
        return Outcome(last - pressed, parts, refused, f"{parts} parts, {refused} refused")
    raise TimeoutError("the report was still arriving")


async def export_as(client: SandboxClient, journal: Journal, chat_id: int, fmt: str) -> Outcome:
    """/export → survey responses → the format, until the file (or why not) arrives."""
    before = await _last_message_id(client, chat_id)
    await client.send_message(user_id=chat_id, text="/export", wait=False)
    await _press_when_shown(client, chat_id, before, lambda label: "survey" in label.lower())
    pressed = await _press_when_shown(client, chat_id, before, lambda label: fmt in label.upper())
    return await _export_done(journal, chat_id, pressed)


async def report_year(
    client: SandboxClient, journal: Journal, sessions: Any, bot: BotCpu, chat_id: int
) -> Outcome:
    """/report → the year, until it has all arrived."""
    before = await _last_message_id(client, chat_id)
    await client.send_message(user_id=chat_id, text="/report", wait=False)
    pressed = await _press_when_shown(client, chat_id, before, lambda label: "year" in label)
    return await _report_delivered(journal, sessions, bot, chat_id, pressed)


# ---- the bot and its city ---------------------------------------------------------------------


@asynccontextmanager
async def polling_bot(database_url: str, client: SandboxClient, log: Path) -> AsyncIterator[BotCpu]:
    """`python -m bot run` with one staff member (STAFF_IDS), polling; ready at its first
    getUpdates."""
    env = os.environ | {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": client.base_url,
        "DATABASE_URL": database_url,
        "STAFF_IDS": f"[{STAFF}]",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("WEBHOOK_URL", None)
    polls = (await client.stats())["calls"].get("getUpdates", 0)
    with log.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=PROJECT_ROOT, stderr=stderr
        )
    try:
        # Start-up sets the commands of every person with a role (hundreds of calls): minutes
        # on a busy machine.
        deadline = time.monotonic() + 300
        while (await client.stats())["calls"].get("getUpdates", 0) <= polls:
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start (see {log}):\n{_tail(log)}")
            await asyncio.sleep(0.05)
        yield BotCpu(process.pid)
        if process.returncode is not None:
            raise RuntimeError(f"the bot exited with {process.returncode}:\n{_tail(log)}")
    finally:
        await _stop(process)


async def seed_city(database_url: str, workdir: Path, with_export: bool) -> None:
    """The report's year for CITY residents; with_export: first the export's 100,000 people
    and their million answers (raw sqlite3, or COPY on PostgreSQL)."""
    began = time.perf_counter()
    if with_export:
        if database_url.startswith("sqlite"):
            await asyncio.to_thread(export.seed, Path(database_url.split("///", 1)[1]))
        else:
            await export.seed_postgres(database_url)
        print(f"  {export.ANSWERS:,} survey answers seeded in {time.perf_counter() - began:.0f} s")
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        await seed_people(sessions, CITY)
        async with sessions() as session:
            people = list(
                (
                    await session.scalars(
                        select(Person.id)
                        .where(Person.telegram_id >= FIRST_TELEGRAM_ID)
                        .where(Person.telegram_id < FIRST_TELEGRAM_ID + CITY)
                        .order_by(Person.id)
                    )
                ).all()
            )
        await report._seed_year(sessions, people)
    finally:
        await engine.dispose()
    print(f"  seeded in {time.perf_counter() - began:.0f} s")


async def _seed_chats(client: SandboxClient) -> list[int]:
    talkers = [FIRST_TALKER + n for n in range(TALKERS)]
    for telegram_id in [*talkers, STAFF]:
        language = "en" if telegram_id == STAFF else "fa"
        await client.add_user(telegram_id, f"Bench {telegram_id}", language_code=language)
    return talkers


# ---- residents --------------------------------------------------------------------------------


@dataclass
class Residents:
    """/help at RATE_PER_S in turn from each talker, on a fixed schedule (open loop: nobody
    waits for a reply before the next is due, as people do not wait for a stalled bot)."""

    client: SandboxClient
    talkers: list[int]
    sent: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def talk(self) -> None:
        began, n, pending = time.perf_counter(), 0, set()
        while not self.stopping.is_set():
            await asyncio.sleep(max(0.0, began + n / RATE_PER_S - time.perf_counter()))
            chat = self.talkers[n % len(self.talkers)]
            self.sent[chat].append(time.time())
            task = asyncio.create_task(
                self.client.send_message(user_id=chat, text="/help", wait=False)
            )
            pending.add(task)
            task.add_done_callback(pending.discard)
            n += 1
        await asyncio.gather(*pending)

    def outstanding(self, journal: Journal) -> int:
        return sum(
            max(0, len(times) - len(self._replies(journal, chat)))
            for chat, times in self.sent.items()
        )

    def _replies(self, journal: Journal, chat: int) -> list[float]:
        return [e["time"] for e in journal.entries.get(chat, []) if e["method"] in SEND_METHODS]

    def figures(self, journal: Journal) -> tuple[list[float], int, float]:
        """(latencies in ms, /help never answered, the longest stall in ms)."""
        latencies, lost, events = [], 0, []
        for chat, times in self.sent.items():
            replies = self._replies(journal, chat)
            lost += max(0, len(times) - len(replies))
            latencies += [(r - s) * 1000 for s, r in zip(times, replies, strict=False)]
            events += [(s, +1) for s in times] + [(r, -1) for r in replies[: len(times)]]
        stall, waiting, since = 0.0, 0, 0.0
        for moment, change in sorted(events):
            if change < 0 and waiting > 0:
                stall = max(stall, moment - since)
                since = moment
            elif change > 0 and waiting == 0:
                since = moment
            waiting += change
        return latencies, lost, stall * 1000


# ---- the parts --------------------------------------------------------------------------------


async def under_staff_load(backend: str, workdir: Path) -> dict[str, float]:
    url = await fresh_sqlite(workdir, "staff.db") if backend == "sqlite" else await fresh_postgres()
    if url is None:
        return {}
    began = time.perf_counter()
    print(f"{backend}: seeding")
    await seed_city(url, workdir, with_export=True)
    engine = create_engine(url)
    sessions = session_factory(engine)
    log = workdir / f"staff-{backend}.log"
    try:
        async with emulator_process() as client:
            talkers = await _seed_chats(client)
            journal = Journal(client)
            async with polling_bot(url, client, log) as bot:
                follow = asyncio.create_task(journal.follow())
                residents = Residents(client, talkers)
                talking = asyncio.create_task(residents.talk())
                staff_began = time.perf_counter()
                try:
                    await asyncio.sleep(BASELINE_S)
                    for name, step in (
                        ("export CSV", lambda: export_as(client, journal, STAFF, "CSV")),
                        ("export XLSX", lambda: export_as(client, journal, STAFF, "XLSX")),
                        (
                            "report, a year",
                            lambda: report_year(client, journal, sessions, bot, STAFF),
                        ),
                    ):
                        try:
                            outcome = await step()
                        except TimeoutError as error:  # the residents' figures still count
                            print(f"  {name}: {error} within {STEP_TIMEOUT_S:g} s")
                            continue
                        print(
                            f"  {name}: done after {outcome.seconds:.1f} s ({outcome.how});"
                            f" {residents.outstanding(journal)} /help waiting"
                        )
                    staff_s = time.perf_counter() - staff_began - BASELINE_S
                    await asyncio.sleep(BASELINE_S)
                finally:
                    residents.stopping.set()
                    await talking
                deadline = time.monotonic() + GRACE_S
                while residents.outstanding(journal) and time.monotonic() < deadline:  # noqa: ASYNC110 - the bot's replies come over HTTP
                    await asyncio.sleep(0.5)
                await journal.read()
                follow.cancel()
                with suppress(asyncio.CancelledError):
                    await follow
    finally:
        await engine.dispose()
    latencies, lost, stall = residents.figures(journal)
    p50 = statistics.median(latencies)
    p99 = statistics.quantiles(latencies, n=100, method="inclusive")[98]
    errors = _tail(log, 10**9).count("Traceback")
    print(
        f"  {sum(map(len, residents.sent.values()))} /help: p50 {p50:.0f} ms, p99 {p99:.0f} ms,"
        f" longest stall {stall / 1000:.1f} s, {lost} unanswered; staff work {staff_s:.0f} s;"
        f" {errors} tracebacks in {log}; the whole run {time.perf_counter() - began:.0f} s"
    )
    return {
        f"reply_latency_ms_p50_under_staff_load_{backend}": round(p50, 1),
        f"reply_latency_ms_p99_under_staff_load_{backend}": round(p99, 1),
        f"longest_stall_ms_under_staff_load_{backend}": round(stall, 1),
        f"updates_lost_under_staff_load_{backend}": lost,
    }


async def measure_load(workdir: Path) -> dict[str, float]:
    """40 residents' /help while staff export a million answers as CSV, then as XLSX, then
    take a year's /report; on SQLite and on PostgreSQL."""
    figures: dict[str, float] = {}
    for backend in ("sqlite", "postgres"):
        figures |= await under_staff_load(backend, workdir)
    lost = [v for k, v in figures.items() if k.startswith("updates_lost_under_staff_load_")]
    figures["updates_lost_under_staff_load"] = sum(lost)
    return figures


async def measure_report(workdir: Path, runs: int = 3) -> dict[str, float]:
    """A year's /report for CITY residents, from the press of the period button to its last
    part at the emulator, `runs` times (the first with the charts' imports still to do, as
    the first report after a start); the median."""
    url = await fresh_sqlite(workdir, "report-delivered.db")
    print("seeding")
    await seed_city(url, workdir, with_export=False)
    engine = create_engine(url)
    sessions = session_factory(engine)
    log = workdir / "report-delivered.log"
    outcomes = []
    try:
        async with emulator_process() as client:
            await _seed_chats(client)
            journal = Journal(client)
            async with polling_bot(url, client, log) as bot:
                follow = asyncio.create_task(journal.follow())
                try:
                    for run in range(runs):
                        outcomes.append(await report_year(client, journal, sessions, bot, STAFF))
                        print(f"  run {run + 1}: {outcomes[-1].seconds:.2f} s ({outcomes[-1].how})")
                finally:
                    follow.cancel()
                    with suppress(asyncio.CancelledError):
                        await follow
    finally:
        await engine.dispose()
    refused = max(o.refused for o in outcomes)
    figures: dict[str, float] = {"report_10k_residents_refused_parts": refused}
    if refused:
        print("  Telegram refused parts of the report: it was not delivered whole")
    else:
        seconds = statistics.median(o.seconds for o in outcomes)
        figures["report_10k_residents_delivered_s"] = round(seconds, 2)
    return figures


def main(arguments: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        match arguments:
            case ["load", *backend]:
                figures = asyncio.run(under_staff_load(*(backend or ["sqlite"]), Path(folder)))
            case ["report"]:
                figures = asyncio.run(measure_report(Path(folder)))
            case _:
                sys.exit("usage: python -m bench.staff load [sqlite|postgres] | report")
    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main(sys.argv[1:])
