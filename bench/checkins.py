"""Check-in fan-out: 5,000 members in 100 working groups, all due in the same minute.

The bot runs as `python -m bot run` against the emulator (bench/emulator.py) on the real clock,
so the figures include the clock's one-second tick, the database work and the first send.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from datetime import time as local_time
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.delivery import (
    bot_process,
    emulator_process,
    fresh_sqlite,
    seed_people,
    seed_telegram_users,
)
from bot.checkins import service as checkins
from bot.checkins.schedule import Schedule, Window
from bot.db import create_engine, session_factory, transaction
from bot.delivery.models import Delivery
from bot.groups.models import Group, GroupKind, Membership
from bot.i18n.format import TEHRAN

MEMBERS, GROUPS = 5000, 100


async def measure(workdir: Path) -> dict[str, float]:
    database_url = await fresh_sqlite(workdir, "checkins.db")
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        outgoing = await seed_people(sessions, MEMBERS)
        person_ids = [item.person_id for item in outgoing if item.person_id is not None]
        due = _next_minute(datetime.now(UTC) + timedelta(seconds=20))
        local_due = due.astimezone(TEHRAN)
        async with transaction(sessions) as session:
            await session.execute(
                insert(Group),
                [
                    {
                        "kind": GroupKind.WORKING_GROUP.value,
                        "name_fa": f"کارگروه {n}",
                        "name_en": f"Group {n}",
                        "created_at": datetime.now(UTC),
                    }
                    for n in range(GROUPS)
                ],
            )
            group_ids = list(await session.scalars(select(Group.id).order_by(Group.id)))
            await session.execute(
                insert(Membership),
                [
                    {"person_id": pid, "group_id": group_ids[n % GROUPS], "joined_at": due}
                    for n, pid in enumerate(person_ids)
                ],
            )
            for group_id in group_ids:
                await checkins.create(
                    session,
                    group_id,
                    Schedule(
                        at=local_time(local_due.hour, local_due.minute),
                        weekdays=frozenset({local_due.weekday()}),
                    ),
                    Window(),
                )
        print(f"check-ins: {MEMBERS} members in {GROUPS} groups due at {due:%H:%M:%S} UTC")
        async with emulator_process() as client:
            await seed_telegram_users(client, MEMBERS)
            async with bot_process(database_url, client.base_url, send_rate=30):
                fanout = await _until_prompts_enqueued(sessions, due)
                first = await _first_prompt(client, due)
    finally:
        await engine.dispose()
    print(f"  fan-out {fanout:.2f} s, first prompt {first:.2f} s after the due time")
    return {
        "checkin_fanout_5000_s": round(fanout, 2),
        "checkin_first_prompt_latency_s": round(first, 2),
    }


def _next_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)


async def _until_prompts_enqueued(sessions, due: datetime) -> float:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        async with sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.key.like("checkin:%"))
            )
        if count == MEMBERS:
            return (datetime.now(UTC) - due).total_seconds()
        await asyncio.sleep(0.05)
    raise TimeoutError("the prompts were not all enqueued")


async def _first_prompt(client, due: datetime) -> float:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sent = await client.sent()
        if sent:
            return min(entry["time"] for entry in sent) - due.timestamp()
        await asyncio.sleep(0.05)
    raise TimeoutError("no prompt was sent")
