"""Outbox figures for `make bench`: how close a broadcast gets to its configured rate, how fast
the sender goes with no limit at all (SQLite and PostgreSQL), and what enqueueing costs.

Both the bot and the emulator run as their own processes (`python -m bot run`, `python -m
bench.emulator`): on a two-core machine each gets a core, as the bot and Telegram would in
production, and nothing this process does (seeding, polling, reading the database) can stall
the emulator's event loop and so bunch up or delay the send times it records. The send rate
is measured from the emulator's own journal of successful sends."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.db import create_engine, session_factory, transaction
from bot.delivery import outbox
from bot.delivery.content import Content
from bot.delivery.models import FINAL, Delivery
from bot.delivery.outbox import Outgoing
from bot.people.models import Person, PersonRole, Role
from bot.sandbox import SandboxClient
from bot.schema import upgrade

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
# Not the suite's `test` database: a benchmark must not empty tables a test run is using.
# BENCH_POSTGRES_DB names another, for several people benchmarking on one server.
POSTGRES_BENCH_DB = os.environ.get("BENCH_POSTGRES_DB", "hamgam_bench")

RATE_LIMIT = 300.0  # the emulator's global limit and the bot's SEND_RATE for the rate figure
RATE_RECIPIENTS = 10_000
CEILING_RATE = 100_000.0  # effectively unlimited
CEILING_RECIPIENTS = 10_000
ENQUEUE_ROWS = 10_000
FIRST_TELEGRAM_ID = 500_000
NEWS = Content(
    text={
        "fa": "خبر خوب: باغچهٔ محله کاشته شد 🌱 <b>پنجشنبه</b> ساعت ۶ همه دعوتید.",
        "en": "Good news: the garden is planted 🌱 Everyone is welcome <b>Thursday</b> at 6.",
    }
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if it lingers; only ever the process we started."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def emulator_process() -> AsyncIterator[SandboxClient]:
    """The emulator (bench/emulator.py) on a free port, with a client for its control API."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.emulator",
        str(port),
        TOKEN,
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        async with SandboxClient(f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    await client.stats()
                    break
                except OSError:
                    if process.returncode is not None or time.monotonic() > deadline:
                        raise RuntimeError("the emulator did not start") from None
                    await asyncio.sleep(0.05)
            yield client
    finally:
        await _stop(process)


@asynccontextmanager
async def bot_process(
    database_url: str, api_url: str, send_rate: float
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m bot run` (polling) against the emulator; its sender starts at start-up."""
    env = os.environ | {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "DATABASE_URL": database_url,
        "SEND_RATE": str(send_rate),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("WEBHOOK_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=PROJECT_ROOT
    )
    try:
        yield process
    finally:
        await _stop(process)


async def seed_telegram_users(client: SandboxClient, count: int) -> None:
    """Users who have started the bot, once for every run (the emulator keeps them)."""
    semaphore = asyncio.Semaphore(50)

    async def add(n: int) -> None:
        async with semaphore:
            await client.add_user(
                FIRST_TELEGRAM_ID + n,
                f"Resident {n}",
                language_code="en" if n % 2 else "fa",
                started=True,
            )

    await asyncio.gather(*(add(n) for n in range(count)))


async def seed_people(sessions: async_sessionmaker[AsyncSession], count: int) -> list[Outgoing]:
    """Onboarded residents by bulk insert, and one outbox item per resident (not enqueued)."""
    now = clock.now()
    rows = [
        {
            "telegram_id": FIRST_TELEGRAM_ID + n,
            "display_name": f"ساکن {n}",
            "language": "en" if n % 2 else "fa",
            "created_at": now,
            "consented_at": now,
        }
        for n in range(count)
    ]
    async with transaction(sessions) as session:
        await session.execute(insert(Person), rows)
        people = (await session.execute(select(Person.id, Person.telegram_id))).all()
        await session.execute(
            insert(PersonRole),
            [
                {"person_id": pid, "role": Role.RESIDENT.value, "granted_at": now}
                for pid, _ in people
            ],
        )
    return [
        Outgoing(f"bench:{pid}", int(tid), NEWS, person_id=pid, batch="bench")
        for pid, tid in people
    ]


async def fresh_sqlite(workdir: Path, name: str) -> str:
    url = f"sqlite+aiosqlite:///{workdir / name}"
    await upgrade(url)
    return url


async def fresh_postgres() -> str | None:
    """The `hamgam_bench` database, created if missing, emptied and migrated; None (with a
    note) when the server cannot be reached."""
    server = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with server.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": POSTGRES_BENCH_DB},
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{POSTGRES_BENCH_DB}"'))
    except Exception as error:  # any driver error means the same: no server
        print(f"  PostgreSQL unreachable ({type(error).__name__}: {error}); skipping its figure")
        return None
    finally:
        await server.dispose()
    url = f"{POSTGRES_SERVER}/{POSTGRES_BENCH_DB}"
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await upgrade(url)
    return url


@dataclass(frozen=True)
class Broadcast:
    sent: int
    rate_per_s: float
    violations: int
    duplicates: int
    last_seq: int  # the emulator's journal position after this run


async def broadcast(
    client: SandboxClient,
    database_url: str,
    recipients: int,
    send_rate: float,
    label: str,
    since_seq: int,
) -> Broadcast:
    """Enqueue one message per recipient, start the bot and time the sends as the emulator saw
    them: rate = (sends − 1) ÷ (last send − first send), i.e. sends per interval between
    them, so the start-up and the idle tail are not counted."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        items = await seed_people(sessions, recipients)
        async with transaction(sessions) as session:
            await outbox.enqueue(session, items)
        before = await client.stats()
        began = time.monotonic()
        async with bot_process(database_url, client.base_url, send_rate) as process:
            done = 0
            next_report = began + 5
            while done < recipients:
                if process.returncode is not None:
                    raise RuntimeError(f"the bot exited with {process.returncode}")
                if time.monotonic() > began + 300:
                    raise TimeoutError(f"{label}: only {done} of {recipients} sent in 300 s")
                await asyncio.sleep(0.25)
                done = (await client.stats())["sent"] - before["sent"]
                if time.monotonic() >= next_report:
                    print(f"  {label}: {done}/{recipients} sent")
                    next_report += 5
            await _until_recorded(sessions)
        after = await client.stats()
    finally:
        await engine.dispose()
    journal = await client.actions(since=since_seq)
    sends = [entry for entry in journal if _successful_send(entry)]
    times = sorted(entry["time"] for entry in sends)
    chats = {entry["chat_id"] for entry in sends}
    violations = sum(after["violations"].values()) - sum(before["violations"].values())
    return Broadcast(
        sent=len(sends),
        rate_per_s=(len(times) - 1) / (times[-1] - times[0]),
        violations=violations,
        duplicates=len(sends) - len(chats),
        last_seq=max((entry["seq"] for entry in journal), default=since_seq),
    )


def _successful_send(entry: dict[str, Any]) -> bool:
    return bool(entry["ok"]) and entry["method"] in {"sendMessage", "sendPhoto", "sendDocument"}


async def _until_recorded(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Every row final, so the next run starts with no work left behind."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        async with sessions() as session:
            open_rows = await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status.not_in(FINAL))
            )
        if not open_rows:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("outbox rows still open a minute after the last send")


async def enqueue_cost(workdir: Path) -> tuple[float, float]:
    """Seconds and peak MB (tracemalloc) to enqueue 10,000 rows in one transaction, on
    SQLite. Timed without tracemalloc (it slows allocation-heavy code a lot), measured for
    memory in a second run; the median of three times."""
    durations: list[float] = []
    peak_mb = 0.0
    for run in range(4):
        url = await fresh_sqlite(workdir, f"enqueue{run}.db")
        engine = create_engine(url)
        sessions = session_factory(engine)
        items = await seed_people(sessions, ENQUEUE_ROWS)
        traced = run == 3
        if traced:
            tracemalloc.start()
        began = time.perf_counter()
        async with transaction(sessions) as session:
            added = await outbox.enqueue(session, items)
        elapsed = time.perf_counter() - began
        if traced:
            peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        else:
            durations.append(elapsed)
        await engine.dispose()
        assert added == ENQUEUE_ROWS, added
    return sorted(durations)[1], peak_mb


async def measure(workdir: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    print("outbox enqueue: 10,000 rows in one transaction (SQLite)")
    seconds, peak_mb = await enqueue_cost(workdir)
    figures["outbox_enqueue_10k_s"] = round(seconds, 3)
    figures["outbox_enqueue_10k_peak_mb"] = round(peak_mb, 1)

    async with emulator_process() as client:
        recipients = max(RATE_RECIPIENTS, CEILING_RECIPIENTS)
        print(f"emulator: seeding {recipients} Telegram users")
        await seed_telegram_users(client, recipients)

        print(f"broadcast: {RATE_RECIPIENTS} recipients at SEND_RATE {RATE_LIMIT:g} (SQLite)")
        await client.set_limits(
            global_per_s=RATE_LIMIT, chat_per_s=1, chat_burst=0, group_per_min=20, enforce=False
        )
        paced = await broadcast(
            client,
            await fresh_sqlite(workdir, "rate.db"),
            RATE_RECIPIENTS,
            RATE_LIMIT,
            "paced",
            since_seq=0,
        )
        _check(paced, RATE_RECIPIENTS)
        figures["broadcast_rate_ratio"] = round(paced.rate_per_s / RATE_LIMIT, 3)
        figures["broadcast_violations"] = paced.violations
        print(f"  {paced.rate_per_s:.1f}/s, {paced.violations} violations")

        # The emulator's limits stay counted (the global one will be broken: the bot's
        # SEND_RATE is 100,000 now) but not enforced, so it answers every send at once.
        backends = {"sqlite": await fresh_sqlite(workdir, "ceiling.db")}
        if (postgres := await fresh_postgres()) is not None:
            backends["postgres"] = postgres
        since_seq = paced.last_seq
        for backend, url in backends.items():
            print(f"sender ceiling: {CEILING_RECIPIENTS} recipients, no limit ({backend})")
            result = await broadcast(
                client, url, CEILING_RECIPIENTS, CEILING_RATE, backend, since_seq
            )
            since_seq = result.last_seq
            _check(result, CEILING_RECIPIENTS)
            figures[f"sender_ceiling_msgs_per_s_{backend}"] = round(result.rate_per_s, 1)
            print(f"  {result.rate_per_s:.1f}/s")
    return figures


def _check(result: Broadcast, recipients: int) -> None:
    """A rate is only worth reporting if every recipient got the message exactly once."""
    if result.sent != recipients or result.duplicates:
        raise RuntimeError(f"expected {recipients} single sends, got {result}")
