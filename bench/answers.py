"""Survey answers through the webhook: how many typed answers per second the bot takes, stores
and replies to (SQLite and PostgreSQL), their latency, and how that compares with a bare
aiogram webhook app under the same load: `answers_ratio_vs_storing_bare` is the bot's answers
per second over those of the bare app storing each update with one prebuilt INSERT on SQLite
(a do-nothing app is no fair floor for a bot that must keep what it is sent).

Every answer is a Telegram `Update` POSTed to the bot's real webhook (`python -m bot run` with
WEBHOOK_URL set: aiohttp + SimpleRequestHandler, `handle_in_background=False`), so it passes
the dispatcher, the middlewares, the survey handler and the commit, and the next question is
sent to the emulator (bench/emulator.py, its own process) before the webhook answers. The bot
and the bare app run as their own processes, driven by the same load generator, which runs
here: raw keep-alive HTTP/1.1 over asyncio streams, because an HTTP client library would
spend more CPU than the bare app itself and so flatter the ratio on this two-core machine.

Load: CONCURRENCY connections (Telegram's default webhook max_connections), each owning its
own residents and sending one answer at a time, so no resident ever has two answers in flight
(the order a person's answers arrive in stays realistic). The bot's per-person flood throttle
is raised out of the way (THROTTLE_RATE/THROTTLE_BURST): even at 500 answers/s a resident
here answers less than once a second, which the default (2/s, burst 8) allows, but the
figure must never depend on it. Afterwards every acknowledged answer must be in survey_answer
and have had its reply sent; a mismatch fails the part.

`python -m bench.answers bare PORT SECRET [DATABASE_URL]` serves the bare app (storing each
update when given a database); `python -m bench.answers profile [sqlite|postgres]` runs the
bot under cProfile with the same load and prints where its event-loop thread spends the time;
`python -m bench.answers try [sqlite|postgres]` measures the bot alone and writes nothing,
for trying a change.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

import psutil
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.delivery import (
    FIRST_TELEGRAM_ID,
    POSTGRES_SERVER,
    PROJECT_ROOT,
    TOKEN,
    emulator_process,
    free_port,
    fresh_sqlite,
    seed_people,
    seed_telegram_users,
)
from bot import clock
from bot.conversations import ConversationState
from bot.db import create_engine, session_factory, transaction
from bot.people.audience import Audience, AudienceKind
from bot.people.models import Person
from bot.sandbox import SandboxClient
from bot.schema import upgrade
from bot.surveys import service as surveys
from bot.surveys.form import Form, Kind, Question
from bot.surveys.models import SurveyAnswer
from bot.telegram.app import WEBHOOK_PATH

RESIDENTS = 600
QUESTIONS = 60  # required whole numbers; a resident stops one short, so nobody finishes
CONCURRENCY = 40  # in-flight webhook requests: Telegram's default max_connections
WARMUP_S = 3.0  # SQLAlchemy's statement cache, aiogram's first models, connection pools
DURATION_S = 12.0
SECRET = "bench-answers-secret"
# This part's own (the suite uses `test`, delivery `hamgam_bench`); BENCH_ANSWERS_POSTGRES_DB
# names another, for several people benchmarking on one server.
POSTGRES_DB = os.environ.get("BENCH_ANSWERS_POSTGRES_DB", "bench_answers")
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
STATE = "Answering:survey"  # handlers.surveys.Answering.survey, as the bot's storage keeps it


# ---- the load generator -----------------------------------------------------------------------


@dataclass
class Resident:
    telegram_id: int
    name: str  # as stored, so the bot's PersonMiddleware finds nothing to update
    answered: int = 0


@dataclass
class Drive:
    """What the load generator saw: (sent, answered) perf_counter pairs of 200 responses."""

    samples: list[tuple[float, float]] = field(default_factory=list)
    # Replies that came back in the webhook response (Telegram sends them for the bot).
    replies_in_responses: int = 0
    measured_from: float = 0.0
    measured_to: float = 0.0

    @property
    def acknowledged(self) -> int:
        return len(self.samples)

    def window(self) -> list[tuple[float, float]]:
        return [s for s in self.samples if self.measured_from <= s[1] <= self.measured_to]

    @property
    def per_s(self) -> float:
        return len(self.window()) / (self.measured_to - self.measured_from)

    def latency_ms(self, quantile: int) -> float:
        """The quantile-th percentile of the measured window's request latencies."""
        latencies = [(answered - sent) * 1000 for sent, answered in self.window()]
        return statistics.quantiles(latencies, n=100, method="inclusive")[quantile - 1]


def _update(update_id: int, resident: Resident, text_: str) -> bytes:
    user = {"id": resident.telegram_id, "is_bot": False, "first_name": resident.name}
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {
                    "id": resident.telegram_id,
                    "type": "private",
                    "first_name": resident.name,
                },
                "from": user | {"language_code": "fa"},
                "text": text_,
            },
        },
        ensure_ascii=False,
    ).encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep-alive) of one HTTP/1.1 response with a Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, keep_alive = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and value != b"identity":
            raise RuntimeError(f"unexpected transfer-encoding {value!r}")
        elif name == b"connection" and value == b"close":
            keep_alive = False
    return status, await reader.readexactly(length), keep_alive


async def drive(
    port: int | Sequence[int],
    residents: Sequence[Resident],
    *,
    limit: int | None,
    warmup_s: float = WARMUP_S,
    duration_s: float = DURATION_S,
    concurrency: int = CONCURRENCY,
) -> Drive:
    """POST answers to the webhook on 127.0.0.1:port for warmup_s + duration_s seconds (to
    several ports in turn, one per connection, as a load balancer would spread them).
    `limit`: answers per resident at most (None: no limit, for the bare app)."""
    ports = [port] if isinstance(port, int) else list(port)
    result = Drive()
    update_ids = count(1)
    began = time.perf_counter()
    result.measured_from = began + warmup_s
    result.measured_to = stop_at = result.measured_from + duration_s

    async def connection(own: Sequence[Resident], port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            turn = 0
            while time.perf_counter() < stop_at:
                waiting = [r for r in own if limit is None or r.answered < limit]
                if not waiting:
                    return
                resident = waiting[turn % len(waiting)]
                turn += 1
                answer = str((resident.answered * 7 + resident.telegram_id) % 1000)
                body = _update(next(update_ids), resident, answer.translate(PERSIAN_DIGITS))
                request = (
                    f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    "Content-Type: application/json\r\n"
                    f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode() + body
                sent = time.perf_counter()
                writer.write(request)
                status, reply, keep_alive = await _read_response(reader)
                answered = time.perf_counter()
                if status != 200:
                    raise RuntimeError(f"the webhook answered {status}: {reply[:300]!r}")
                resident.answered += 1
                result.samples.append((sent, answered))
                result.replies_in_responses += b"sendMessage" in reply  # JSON or multipart
                if not keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    await asyncio.gather(
        *(connection(residents[n::concurrency], ports[n % len(ports)]) for n in range(concurrency))
    )
    if result.per_s == 0:
        raise RuntimeError("no answer was acknowledged in the measured window")
    return result


# ---- the processes under test -----------------------------------------------------------------


@dataclass
class Target:
    process: asyncio.subprocess.Process
    port: int


# `python -m bot run` with cProfile switched on by SIGUSR1 and off (the profile written to
# argv[1]) by SIGUSR2, so that start-up and warm-up stay out of the profile.
PROFILED_BOT = """
import cProfile, runpy, signal, sys
profile, target = cProfile.Profile(), sys.argv[1]
signal.signal(signal.SIGUSR1, lambda *_: profile.enable())
signal.signal(signal.SIGUSR2, lambda *_: (profile.disable(), profile.dump_stats(target)))
sys.argv = ["bot", "run"]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if it lingers; only ever the process we started."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def _tail(log: Path, size: int = 5000) -> str:
    """The end of a process's stderr, for the error that stops the part."""
    return log.read_text(errors="replace")[-size:] if log.exists() else ""


@asynccontextmanager
async def webhook_bot(
    database_url: str,
    client: SandboxClient,
    log: Path,
    profile: Path | None = None,
    replica_of: str | None = None,
) -> AsyncIterator[Target]:
    """`python -m bot run` in webhook mode; ready once it has set its webhook at the emulator
    (the last step of its start-up). Its stderr goes to `log`. `replica_of`: a Redis URL,
    to run as one of several replicas."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": client.base_url,
        "DATABASE_URL": database_url,
        "WEBHOOK_URL": url,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN_HOST": "127.0.0.1",
        "WEBHOOK_LISTEN_PORT": str(port),
        "THROTTLE_RATE": "1000000",
        "THROTTLE_BURST": "1000000",
        "LOG_LEVEL": "WARNING",
    }
    if replica_of is not None:
        env |= {"REPLICA": "true", "REDIS_URL": replica_of}
    command = ["-m", "bot", "run"] if profile is None else ["-c", PROFILED_BOT, str(profile)]
    with log.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *command, env=env, cwd=PROJECT_ROOT, stderr=stderr
        )
    try:
        deadline = time.monotonic() + 300  # start-up took over a minute on a busy machine
        while (await client.webhook_info()).get("url") != url + WEBHOOK_PATH:
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start (see {log}):\n{_tail(log)}")
            await asyncio.sleep(0.05)
        yield Target(process, port)
    finally:
        await _stop(process)


@asynccontextmanager
async def bare_app(log: Path, storing_in: str | None = None) -> AsyncIterator[Target]:
    """The bare aiogram webhook app (serve_bare below) in its own process; `storing_in`: a
    database URL, for the variant that stores each update."""
    port = free_port()
    with log.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.answers",
            "bare",
            str(port),
            SECRET,
            *([storing_in] if storing_in else []),
            cwd=PROJECT_ROOT,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                if process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the bare app did not start:\n{_tail(log)}") from None
                await asyncio.sleep(0.05)
        yield Target(process, port)
    finally:
        await _stop(process)


async def serve_bare(port: int, secret: str, storing_in: str | None = None) -> None:
    """aiogram's Dispatcher behind aiohttp's SimpleRequestHandler, served exactly as
    bot.telegram.app.start_webhook serves the bot, with one message handler that does
    nothing: the floor any aiogram webhook bot stands on. With `storing_in`, the handler
    stores each text with one prebuilt INSERT in a transaction of its own (the bot's engine,
    so on SQLite the bot's own driver): the floor of any bot that keeps what it is sent."""
    from aiogram import Bot, Dispatcher
    from aiogram.types import Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from aiohttp import web
    from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, Text

    from bot import logs

    logs.configure("WARNING")
    dispatcher = Dispatcher()
    if storing_in is None:

        @dispatcher.message()
        async def nothing(message: Message) -> None:
            """Takes the answer and does nothing with it."""

    else:
        metadata = MetaData()
        table = Table(
            "bare_answer",
            metadata,
            Column("id", Integer, primary_key=True),
            Column("telegram_id", BigInteger),
            Column("text", Text),
        )
        engine = create_engine(storing_in)
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        storing = insert(table)

        @dispatcher.message()
        async def store(message: Message) -> None:
            """Stores the answer, and nothing else."""
            async with engine.begin() as connection:
                await connection.execute(
                    storing, {"telegram_id": message.chat.id, "text": message.text}
                )

    web_app = web.Application()
    SimpleRequestHandler(
        dispatcher, Bot(TOKEN), handle_in_background=False, secret_token=secret
    ).register(web_app, path=WEBHOOK_PATH)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gc.collect()  # what it built kept out of the collector, as the bot does once started
    gc.freeze()
    await asyncio.Event().wait()


# ---- databases and people ---------------------------------------------------------------------


async def fresh_postgres() -> str | None:
    """The `bench_answers` database, dropped and created anew, migrated; None (with a note)
    when the server cannot be reached."""
    server = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with server.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{POSTGRES_DB}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{POSTGRES_DB}"'))
    except Exception as error:  # any driver error means the same: no server
        print(f"  PostgreSQL unreachable ({type(error).__name__}: {error}); skipping its figures")
        return None
    finally:
        await server.dispose()
    url = f"{POSTGRES_SERVER}/{POSTGRES_DB}"
    await upgrade(url)
    return url


async def seed_answering(
    database_url: str, redis_url: str | None = None
) -> tuple[list[Resident], int]:
    """RESIDENTS onboarded residents, each part-way into one open survey of QUESTIONS number
    questions: a response started by the service's own start(), and the conversation state
    the bot's `begin` handler would have left (Answering:survey, {"survey": id}). The survey
    is opened here rather than by the bot's clock so that no invitations are sent meanwhile."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        await seed_people(sessions, RESIDENTS)
        form = Form(
            {"fa": "اعداد محله", "en": "Neighbourhood numbers"},
            tuple(
                Question(
                    f"n{n}",
                    Kind.NUMBER,
                    {"fa": f"عدد {n}؟", "en": f"Number {n}?"},
                    required=True,
                    integer=True,
                    minimum=Decimal(0),
                    maximum=Decimal(1000),
                )
                for n in range(QUESTIONS)
            ),
        )
        async with transaction(sessions) as session:
            draft = await surveys.create_draft(session, form, "bot", None)
            published = await surveys.publish(
                session,
                draft.id,
                audience=Audience(AudienceKind.EVERYONE),
                opens_at=clock.now(),
                closes_at=clock.now() + timedelta(days=3),
                anonymous=False,
                min_responses=2,
                actor_id=None,
            )
            assert not isinstance(published, surveys.PublishProblem), published
            await surveys.open_due(session, clock.now())
            survey_id = draft.id
        people = (await _people(sessions)).items()
        async with transaction(sessions) as session:
            for person_id, _ in people:
                progress = await surveys.start(session, survey_id, person_id)
                assert isinstance(progress, surveys.Progress), progress
        keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
        bot_id = int(TOKEN.split(":", 1)[0])
        if redis_url is not None:  # replicas keep conversation state in Redis
            await _states_in_redis(redis_url, bot_id, survey_id, [tid for _p, (tid, _n) in people])
        async with transaction(sessions) as session:
            await session.execute(
                insert(ConversationState),
                [
                    {
                        "key": keys.build(StorageKey(bot_id, telegram_id, telegram_id)),
                        "state": STATE,
                        "data": {"survey": survey_id, "picked": []},
                        "updated_at": clock.now(),
                    }
                    for _person_id, (telegram_id, _name) in people
                ],
            )
    finally:
        await engine.dispose()
    residents = [Resident(telegram_id, name) for _person_id, (telegram_id, name) in people]
    return residents, survey_id


async def _states_in_redis(
    redis_url: str, bot_id: int, survey_id: int, telegram_ids: list[int]
) -> None:
    from aiogram.fsm.storage.redis import RedisStorage

    storage = RedisStorage.from_url(
        redis_url, key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
    )
    try:
        await storage.redis.flushdb()
        for telegram_id in telegram_ids:
            key = StorageKey(bot_id, telegram_id, telegram_id)
            await storage.set_state(key, STATE)
            await storage.set_data(key, {"survey": survey_id, "picked": []})
    finally:
        await storage.close()


async def _people(sessions: async_sessionmaker[AsyncSession]) -> dict[int, tuple[int, str]]:
    """Person id → (Telegram id, display name) of everyone seeded."""
    async with sessions() as session:
        rows = await session.execute(select(Person.id, Person.telegram_id, Person.display_name))
        return {pid: (int(tid), str(name)) for pid, tid, name in rows}


async def _stored_answers(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(SurveyAnswer)))
    finally:
        await engine.dispose()


# ---- measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cpu:
    """Share of one core each process used during the measured window."""

    target: float
    emulator: float
    load: float

    def __str__(self) -> str:
        return (
            f"CPU (share of one core): server {self.target:.0%}, emulator {self.emulator:.0%},"
            f" load generator {self.load:.0%}"
        )


def _cpu_seconds(process: psutil.Process | None) -> float:
    if process is None:
        return 0.0
    times = process.cpu_times()
    return times.user + times.system


def _emulator() -> psutil.Process | None:
    for child in psutil.Process().children():
        if "bench.emulator" in child.cmdline():
            return child
    return None


async def measured(
    target: Target, residents: Sequence[Resident], limit: int | None, profiling: bool = False
) -> tuple[Drive, Cpu]:
    """drive(), plus the CPU each process spent in the measured window (and, when profiling,
    the target's profile switched on and off around that window)."""
    server, emulator, load = psutil.Process(target.process.pid), _emulator(), psutil.Process()
    marks: list[tuple[float, float, float]] = []

    async def mark(at: float, sig: signal.Signals) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        marks.append((_cpu_seconds(server), _cpu_seconds(emulator), _cpu_seconds(load)))
        if profiling:
            target.process.send_signal(sig)

    began = time.perf_counter()
    result, *_ = await asyncio.gather(
        drive(target.port, residents, limit=limit),
        mark(began + WARMUP_S, signal.SIGUSR1),
        mark(began + WARMUP_S + DURATION_S, signal.SIGUSR2),
    )
    (s0, e0, l0), (s1, e1, l1) = marks
    return result, Cpu((s1 - s0) / DURATION_S, (e1 - e0) / DURATION_S, (l1 - l0) / DURATION_S)


async def answers_on(
    database_url: str, client: SandboxClient, log: Path, profile: Path | None = None
) -> Drive:
    """Seed, start the bot, drive it, and check that every acknowledged answer was stored
    and answered with the next question."""
    residents, _survey = await seed_answering(database_url)
    sends_before = (await client.stats())["calls"].get("sendMessage", 0)
    async with webhook_bot(database_url, client, log, profile) as bot:
        result, cpu = await measured(
            bot, residents, limit=QUESTIONS - 1, profiling=profile is not None
        )
        if bot.process.returncode is not None:
            raise RuntimeError(f"the bot exited with {bot.process.returncode}")
    stored = await _stored_answers(database_url)
    sends = (await client.stats())["calls"].get("sendMessage", 0) - sends_before
    sends += result.replies_in_responses
    print(f"  {result.acknowledged} answers acknowledged, {stored} stored, {sends} replies sent")
    print(f"  {cpu}")
    if stored != result.acknowledged or sends != result.acknowledged:
        raise RuntimeError(
            f"acknowledged {result.acknowledged} answers but stored {stored} and sent {sends}"
            f" replies; the end of the bot's log ({log}):\n{_tail(log)}"
        )
    if errors := _tail(log, 10**9).count("Unhandled error"):
        raise RuntimeError(f"{errors} unhandled errors in the bot; see {log}")
    return result


async def measure(workdir: Path) -> dict[str, float]:
    """The bare app first (the floor), then the bot on SQLite and on PostgreSQL, all against
    one emulator process."""
    log = workdir / "answers-bot.log"
    figures: dict[str, float] = {}
    async with emulator_process() as client:
        await seed_telegram_users(client, RESIDENTS)

        print(f"bare aiogram webhook app: {CONCURRENCY} connections, {DURATION_S:g} s")
        async with bare_app(workdir / "answers-bare.log") as bare:
            residents = [Resident(FIRST_TELEGRAM_ID + n, f"ساکن {n}") for n in range(RESIDENTS)]
            floor, cpu = await measured(bare, residents, limit=None)
        print(f"  {floor.per_s:.0f} updates/s, p50 {floor.latency_ms(50):.1f} ms, {cpu}")
        figures["answers_bare_aiogram_updates_per_s"] = round(floor.per_s, 1)

        print("the same app storing each update in SQLite (one INSERT and a commit)")
        storing_url = await fresh_sqlite(workdir, "answers-bare.db")
        async with bare_app(workdir / "answers-bare.log", storing_url) as bare:
            residents = [Resident(FIRST_TELEGRAM_ID + n, f"ساکن {n}") for n in range(RESIDENTS)]
            storing, cpu = await measured(bare, residents, limit=None)
        print(f"  {storing.per_s:.0f} updates/s, p50 {storing.latency_ms(50):.1f} ms, {cpu}")
        figures["answers_bare_aiogram_storing_updates_per_s"] = round(storing.per_s, 1)

        for backend in ("sqlite", "postgres"):
            url = (
                await fresh_sqlite(workdir, "answers.db")
                if backend == "sqlite"
                else await fresh_postgres()
            )
            if url is None:
                continue
            print(
                f"survey answers ({backend}): {RESIDENTS} residents, {CONCURRENCY} connections,"
                f" {WARMUP_S:g} s warm-up + {DURATION_S:g} s"
            )
            result = await answers_on(url, client, log)
            p50, p99 = result.latency_ms(50), result.latency_ms(99)
            print(f"  {result.per_s:.1f} answers/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            figures[f"answers_per_s_{backend}"] = round(result.per_s, 1)
            figures[f"answers_latency_ms_p50_{backend}"] = round(p50, 1)
            figures[f"answers_latency_ms_p99_{backend}"] = round(p99, 1)
            if backend == "sqlite":
                # The floor a bot that keeps what it is sent stands on, measured in this run.
                ratio = result.per_s / storing.per_s
                figures["answers_ratio_vs_storing_bare"] = round(ratio, 3)
    return figures


async def alone(backend: str, profiled: bool) -> None:
    """The same load on the bot alone, printed and not written to results.json. Profiled: its
    event-loop thread under cProfile for the measured window only, and where the time goes,
    by package and by function; the profile and the bot's log stay in a folder printed at the
    end, for a closer look (`python -m pstats FILE`)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-answers-"))
    url = (
        await fresh_sqlite(folder, "answers.db") if backend == "sqlite" else await fresh_postgres()
    )
    if url is None:
        return
    profile = folder / "bot.prof" if profiled else None
    async with emulator_process() as client:
        await seed_telegram_users(client, RESIDENTS)
        try:
            result = await answers_on(url, client, folder / "bot.log", profile)
            p50, p99 = result.latency_ms(50), result.latency_ms(99)
            under = " under cProfile" if profiled else ""
            print(f"  {backend}{under}: {result.per_s:.1f} answers/s,", end=" ")
            print(f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        except RuntimeError as error:
            if profile is None:
                raise
            print(f"  FAILED: {str(error)[:300]}")  # the profile is still worth reading
    if profile is not None and profile.exists():
        _print_profile(profile)
        print(f"profile and log in {folder}")


PACKAGES = (
    "sqlalchemy",
    "aiogram",
    "pydantic",
    "aiohttp",
    "aiosqlite",
    "asyncpg",
    "asyncio",
    "concurrent",
    "babel",
    "/bot/",
    "/handlers/",
)


def _print_profile(path: Path) -> None:
    """Own time by package (C built-ins under their own name), then the top functions."""
    import pstats
    from collections import Counter

    stats = pstats.Stats(str(path))
    by_package: Counter[str] = Counter()
    entries = stats.stats.items()  # type: ignore[attr-defined]  # pstats keeps it undeclared
    for (file, _line, function), (_cc, _nc, own, _cum, _callers) in entries:
        package = next((name for name in PACKAGES if name in file), None)
        by_package[package or (function if file == "~" else "other Python")] += own
    total = sum(by_package.values())
    print(f"own time by package ({total:.2f} s in the measured window):")
    for package, seconds in by_package.most_common(20):
        print(f"  {seconds:7.3f} s {seconds / total:6.1%}  {package}")
    stats.sort_stats("tottime").print_stats(40)


def main(arguments: list[str]) -> None:
    match arguments:
        case ["bare", port, secret, *storing_in]:
            asyncio.run(serve_bare(int(port), secret, *storing_in))
        case [("profile" | "try") as what, *rest]:
            asyncio.run(alone(rest[0] if rest else "sqlite", profiled=what == "profile"))
        case _:
            sys.exit(
                "usage: python -m bench.answers bare PORT SECRET [DATABASE_URL]"
                " | profile [sqlite|postgres] | try [sqlite|postgres]"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
