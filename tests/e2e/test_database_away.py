"""The database fails for a moment while a resident answers: the answer is stored once, the
resident gets the next question and hears nothing of it; in polling mode as in a webhook, and
with the conversation kept in the database (one process) as in Redis (replicas)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.surveys.form import Form, Kind, Question
from bot.surveys.models import SurveyAnswer
from bot.telegram.middlewares import RetryWhileDatabaseIsAway
from tests.conftest import REDIS_URL
from tests.e2e.harness import BotProcess, plain
from tests.e2e.timeline import eventually, survey_open_now

FORM = Form(
    {"fa": "نظرسنجی محله", "en": "Neighbourhood survey"},
    tuple(
        Question(f"n{n}", Kind.NUMBER, {"fa": f"عدد {n}؟", "en": f"Number {n}?"}, required=True)
        for n in range(3)
    ),
)
APOLOGY = "مشکلی از طرف ما پیش آمد"


@pytest.fixture
async def conversations(request: pytest.FixtureRequest, database_url: str) -> str:
    """Where the bot keeps conversations: in its database, or in Redis as replicas do (which
    need PostgreSQL)."""
    kept = getattr(request, "param", "database")
    if kept == "redis":
        if database_url.startswith("sqlite") or REDIS_URL is None:
            pytest.skip("replicas' conversations need PostgreSQL and TEST_REDIS_URL")
        import redis.asyncio as redis

        async with redis.from_url(REDIS_URL) as store:
            await store.flushdb()
    return str(kept)


@pytest.fixture
def settings_overrides(conversations: str) -> dict[str, object]:
    """Flood protection relaxed (as by default in tests); a replica's settings for Redis."""
    relaxed: dict[str, object] = {"throttle_rate": 1000.0, "throttle_burst": 1000}
    if conversations == "redis":
        return relaxed | {"replica": True, "redis_url": REDIS_URL}
    return relaxed


def lost_connection(engine: AsyncEngine) -> Exception:
    """What the driver raises when the database goes away for a moment."""
    if engine.dialect.name == "sqlite":
        locked = sqlite3.OperationalError("database is locked")
        locked.sqlite_errorcode = sqlite3.SQLITE_BUSY
        return locked
    gone = engine.dialect.loaded_dbapi.OperationalError(
        "terminating connection due to administrator command"
    )
    gone.sqlstate = gone.pgcode = "57P01"  # admin_shutdown, as when PostgreSQL restarts
    return gone


@contextmanager
def failing_writes(engine: AsyncEngine, table: str, times: int) -> Iterator[list[int]]:
    """The next `times` statements writing `table` fail as the driver fails them (the fault
    seam: the same DBAPI error, wrapped by SQLAlchemy as a real one would be)."""
    failed: list[int] = []

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if len(failed) < times and statement.lstrip().startswith("INSERT") and table in statement:
            failed.append(1)
            raise lost_connection(engine)

    event.listen(engine.sync_engine, "before_cursor_execute", fail)
    try:
        yield failed
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", fail)


async def answering(resident, sessions):
    maryam = await resident("مریم")
    await survey_open_now(sessions, FORM, days=1)

    async def invited() -> bool:
        return any("نظرسنجی محله" in plain(m) for m in await maryam.inbox())

    await eventually(invited)
    await maryam.press("▶️ شروع")
    return maryam


async def stored(sessions) -> list[tuple[str, str]]:
    async with sessions() as session:
        return list(
            (await session.execute(select(SurveyAnswer.question, SurveyAnswer.value))).all()
        )


@pytest.mark.parametrize("transport", ["polling", "webhook"], indirect=True)
async def test_an_answer_meets_the_database_away_for_a_moment(
    resident, bot: BotProcess, sessions
) -> None:
    maryam = await answering(resident, sessions)
    assert bot.app is not None
    with failing_writes(bot.app.engine, "survey_answer", times=2) as failed:
        reply = await maryam.send("۱۲")
    assert await stored(sessions) == [("n0", '"12"')]
    assert "۲ از ۳" in reply.text and "عدد 1؟" in reply.text
    assert len(failed) == 2
    assert not any(APOLOGY in plain(m) for m in await maryam.inbox())
    reply = await maryam.send("۷")
    assert "۳ از ۳" in reply.text


@pytest.mark.parametrize(
    ("conversations", "transport"), [("database", "polling"), ("redis", "webhook")], indirect=True
)
async def test_the_last_answer_meets_the_database_away_at_its_commit(
    resident, bot: BotProcess, sessions
) -> None:
    """The commit after the last answer fails once: the conversation's end (its state cleared)
    must not take effect without the answer, or the retried update would find no survey to
    answer and the answer would be lost."""
    maryam = await answering(resident, sessions)
    await maryam.send("۱۲")
    await maryam.send("۷")
    assert bot.app is not None
    with failing_writes(bot.app.engine, "handled_update", times=1) as failed:
        reply = await maryam.send("۳")
    assert len(failed) == 1
    assert "ممنون" in reply.text, reply.text
    assert sorted(await stored(sessions)) == [("n0", '"12"'), ("n1", '"7"'), ("n2", '"3"')]
    assert not any(APOLOGY in plain(m) for m in await maryam.inbox())


async def test_an_answer_the_database_refuses_for_long_is_parked_and_taken_later(
    resident, bot: BotProcess, client, sessions
) -> None:
    """Polling only: a webhook answers with an error at the bound, and Telegram delivers the
    update again later (the test above shows the webhook's redelivery)."""
    maryam = await answering(resident, sessions)
    assert bot.app is not None
    [retry] = [
        m
        for m in bot.app.dispatcher.update.outer_middleware
        if isinstance(m, RetryWhileDatabaseIsAway)
    ]
    retry.within_s = 0.2  # rather than seconds of a test's time
    with failing_writes(bot.app.engine, "survey_answer", times=4) as failed:
        await client.send_message(maryam.user_id, "۱۲")  # handled: parked, and confirmed

        async def asked_next() -> bool:
            return any("۲ از ۳" in plain(m) for m in await maryam.inbox())

        await eventually(asked_next, within_s=20)  # the clock takes it within seconds
    assert len(failed) == 4
    assert await stored(sessions) == [("n0", '"12"')]
    assert not any(APOLOGY in plain(m) for m in await maryam.inbox())
