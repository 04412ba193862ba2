"""Replicas on PostgreSQL and Redis: survey answers per second with one, two and three
replicas behind a round-robin load (the load generator spreads its connections over them),
the CPU each answer costs and where it goes, and how long the lead takes to move when the
leading replica is killed with SIGKILL.

On this 2-core machine the replicas share the same two cores with PostgreSQL, Redis and the
emulator, so answers per second say what spreading the load buys here, not on a larger
machine. CPU per answer does carry over: the user+system CPU seconds, over the measured
window, of the replicas, this database's PostgreSQL backends, Redis, the emulator and the
load generator (this process), divided by the answers acknowledged in that window; with
each component's share, and the cores all of them kept busy (2 means the machine was full,
so more replicas could only add overhead). Redis and the PostgreSQL server are shared with
anyone else using them meanwhile; the PostgreSQL background writers are not counted.

`python -m bench.replicas profile` runs three replicas with the first under cProfile and
prints where its event-loop thread spends the time (nothing written to results.json).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack, suppress
from pathlib import Path

import aiohttp
import psutil
from sqlalchemy import text

from bench.answers import (
    DURATION_S,
    QUESTIONS,
    RESIDENTS,
    WARMUP_S,
    Drive,
    Resident,
    Target,
    _emulator,
    _print_profile,
    _stored_answers,
    drive,
    fresh_postgres,
    seed_answering,
    webhook_bot,
)
from bench.delivery import emulator_process, seed_telegram_users
from bot.db import create_engine

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
COMPONENTS = ("replicas", "postgres", "redis", "emulator", "load")


async def measure(workdir: Path) -> dict[str, float]:
    if not await _redis_reachable():
        print(f"  Redis unreachable at {REDIS_URL}; skipping the replica figures")
        return {}
    log = workdir / "replicas-bot.log"
    figures: dict[str, float] = {}
    async with emulator_process() as client:
        await seed_telegram_users(client, RESIDENTS)
        for count in (1, 2, 3):
            url = await fresh_postgres()
            if url is None:
                return figures
            residents, _survey = await seed_answering(url, redis_url=REDIS_URL)
            async with AsyncExitStack() as stack:
                targets = [
                    await stack.enter_async_context(
                        webhook_bot(url, client, log, replica_of=REDIS_URL)
                    )
                    for _ in range(count)
                ]
                result, cpu = await _measured(url, targets, residents)
            stored = await _stored_answers(url)
            if stored != result.acknowledged:
                raise RuntimeError(f"{result.acknowledged} acknowledged, {stored} stored")
            name = f"postgres_{count}_{'replica' if count == 1 else 'replicas'}"
            answers = len(result.window())
            total = sum(cpu.values())
            print(
                f"  {count} replica(s): {result.per_s:.1f} answers/s ({stored} stored),"
                f" {total / answers * 1000:.2f} ms CPU per answer, {total / DURATION_S:.2f}"
                " cores busy: " + ", ".join(f"{c} {cpu[c] / total:.0%}" for c in COMPONENTS)
            )
            figures[f"answers_per_s_{name}"] = round(result.per_s, 1)
            figures[f"cpu_ms_per_answer_{name}"] = round(total / answers * 1000, 2)
            figures[f"cpu_cores_busy_{name}"] = round(total / DURATION_S, 2)
            for component in COMPONENTS:
                figures[f"cpu_share_{component}_{name}"] = round(cpu[component] / total, 3)

        url = await fresh_postgres()
        assert url is not None
        async with AsyncExitStack() as stack:
            targets = [
                await stack.enter_async_context(webhook_bot(url, client, log, replica_of=REDIS_URL))
                for _ in range(2)
            ]
            leading = [t for t in targets if await _leads(t.port)]
            assert len(leading) == 1, "one replica leads"
            leader, other = leading[0], next(t for t in targets if t is not leading[0])
            began = time.perf_counter()
            leader.process.send_signal(signal.SIGKILL)
            failover = await _until_leads(other.port) - began
            await leader.process.wait()
        print(f"  the lead moved {failover:.2f} s after the leader was killed")
        figures["leader_failover_s"] = round(failover, 2)
    return figures


async def _until_leads(port: int) -> float:
    """The moment (perf_counter) the replica on this port reports that it leads."""
    while not await _leads(port):  # noqa: ASYNC110 - polling a process we do not control
        await asyncio.sleep(0.02)
    return time.perf_counter()


async def _leads(port: int) -> bool:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        return bool((await response.json())["leader"])


async def _redis_reachable() -> bool:
    import redis.asyncio as redis

    try:
        async with redis.from_url(REDIS_URL) as store:
            return bool(await store.ping())
    except Exception:  # any client error means the same: no Redis here
        return False


def _cpu_seconds(process: psutil.Process) -> float:
    with suppress(psutil.Error):
        times = process.cpu_times()
        return times.user + times.system
    return 0.0  # it has gone: what it used is lost, and small next to the window


async def _backends(database_url: str) -> list[psutil.Process]:
    """This database's PostgreSQL client backends (the replicas' pooled connections)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            pids = await connection.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                )
            )
            return [psutil.Process(pid) for pid in pids]
    finally:
        await engine.dispose()


def _redis_server() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"]


async def _measured(
    database_url: str,
    targets: Sequence[Target],
    residents: Sequence[Resident],
    profiling: bool = False,
) -> tuple[Drive, dict[str, float]]:
    """drive() over the replicas, and the CPU seconds each component spent in its measured
    window (profiling: the first replica's cProfile switched on and off around it)."""
    emulator = _emulator()
    marks: list[dict[str, float]] = []

    async def mark(at: float, sig: signal.Signals) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        backends = await _backends(database_url)  # the pools have filled during the warm-up
        groups = {
            "replicas": [psutil.Process(t.process.pid) for t in targets],
            "postgres": backends,
            "redis": _redis_server(),
            "emulator": [emulator] if emulator else [],
            "load": [psutil.Process()],
        }
        marks.append({c: sum(map(_cpu_seconds, groups[c])) for c in COMPONENTS})
        if profiling:
            targets[0].process.send_signal(sig)

    began = time.perf_counter()
    result, *_ = await asyncio.gather(
        drive([t.port for t in targets], residents, limit=QUESTIONS - 1),
        mark(began + WARMUP_S, signal.SIGUSR1),
        mark(began + WARMUP_S + DURATION_S, signal.SIGUSR2),
    )
    first, last = marks
    return result, {c: max(0.0, last[c] - first[c]) for c in COMPONENTS}


async def profile_three() -> None:
    """Three replicas, the first under cProfile; its profile printed."""
    folder = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    url = await fresh_postgres()
    if url is None or not await _redis_reachable():
        sys.exit("needs PostgreSQL and Redis")
    async with emulator_process() as client:
        await seed_telegram_users(client, RESIDENTS)
        residents, _survey = await seed_answering(url, redis_url=REDIS_URL)
        async with AsyncExitStack() as stack:
            targets = [
                await stack.enter_async_context(
                    webhook_bot(
                        url,
                        client,
                        folder / "bot.log",
                        folder / "replica.prof" if n == 0 else None,
                        replica_of=REDIS_URL,
                    )
                )
                for n in range(3)
            ]
            result, cpu = await _measured(url, targets, residents, profiling=True)
    total = sum(cpu.values())
    print(f"3 replicas, the first profiled: {result.per_s:.1f} answers/s")
    print("  CPU: " + ", ".join(f"{c} {cpu[c]:.1f} s ({cpu[c] / total:.0%})" for c in COMPONENTS))
    if (folder / "replica.prof").exists():
        _print_profile(folder / "replica.prof")
    print(f"profile and log in {folder}")


if __name__ == "__main__":
    if sys.argv[1:] != ["profile"]:
        sys.exit("usage: python -m bench.replicas profile   (or: python -m bench replicas)")
    asyncio.run(profile_three())
