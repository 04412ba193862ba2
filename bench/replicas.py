"""Replicas on PostgreSQL and Redis: survey answers per second with one replica and with
three behind a round-robin load (the load generator spreads its connections over them), and
how long the lead takes to move when the leading replica is killed with SIGKILL.

On this 2-core machine three replicas share the same two cores with PostgreSQL, Redis and the
emulator; the figure says what spreading the load buys here, not on a larger machine."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from bench.answers import (
    QUESTIONS,
    RESIDENTS,
    _stored_answers,
    drive,
    fresh_postgres,
    seed_answering,
    webhook_bot,
)
from bench.delivery import emulator_process, seed_telegram_users

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")


async def measure(workdir: Path) -> dict[str, float]:
    if not await _redis_reachable():
        print(f"  Redis unreachable at {REDIS_URL}; skipping the replica figures")
        return {}
    log = workdir / "replicas-bot.log"
    figures: dict[str, float] = {}
    async with emulator_process() as client:
        await seed_telegram_users(client, RESIDENTS)
        for count in (1, 3):
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
                result = await drive([t.port for t in targets], residents, limit=QUESTIONS - 1)
            stored = await _stored_answers(url)
            if stored != result.acknowledged:
                raise RuntimeError(f"{result.acknowledged} acknowledged, {stored} stored")
            name = "replica" if count == 1 else "replicas"
            print(f"  {count} {name}: {result.per_s:.1f} answers/s ({stored} stored)")
            figures[f"answers_per_s_postgres_{count}_{name}"] = round(result.per_s, 1)

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
