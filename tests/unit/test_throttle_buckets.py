"""The flood allowance: in memory for one process, in Redis (one atomic script a check) for
replicas; both give the same answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.telegram.middlewares import MemoryBuckets, RedisBuckets
from tests.conftest import REDIS_URL


@pytest.fixture(params=["memory", "redis"])
async def buckets(request: pytest.FixtureRequest) -> AsyncIterator[MemoryBuckets | RedisBuckets]:
    if request.param == "memory":
        yield MemoryBuckets(rate=0.5, burst=3)
        return
    if REDIS_URL is None:
        pytest.skip("Redis: TEST_REDIS_URL is not set")
    import redis.asyncio as redis

    async with redis.from_url(REDIS_URL) as store:
        await store.flushdb()
        yield RedisBuckets(store, rate=0.5, burst=3)


async def test_a_burst_is_allowed_then_refused_with_one_notice(buckets) -> None:
    taken = [await buckets.take(42) for _ in range(6)]
    assert taken == [(True, False)] * 3 + [(False, True)] + [(False, False)] * 2
    assert await buckets.take(43) == (True, False)  # someone else has their own


@pytest.mark.skipif(REDIS_URL is None, reason="Redis: TEST_REDIS_URL is not set")
async def test_an_idle_bucket_in_redis_expires_once_it_would_be_full() -> None:
    import redis.asyncio as redis

    async with redis.from_url(str(REDIS_URL)) as store:
        await store.flushdb()
        await RedisBuckets(store, rate=0.5, burst=3).take(42)
        assert 0 < await store.ttl("hamgam:throttle:42") <= 7  # 3 / 0.5 s, and a second
