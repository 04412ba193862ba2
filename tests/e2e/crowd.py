"""Many people at once, seeded straight into the database and the emulator (arranging a
thousand residents through /start one by one would test nothing new)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.delivery.models import FINAL, Delivery
from bot.people.models import Person, PersonRole, PersonTag, Role
from bot.sandbox import SandboxClient


@dataclass(frozen=True)
class Resident:
    person_id: int
    telegram_id: int
    language: str


async def seed_residents(
    sessions: async_sessionmaker[AsyncSession],
    client: SandboxClient,
    count: int,
    first_telegram_id: int = 100_000,
    area: str | None = None,
    tag: str | None = None,
) -> list[Resident]:
    """Onboarded residents, every other one speaking English, who have all started the bot."""
    now = clock.now()
    rows = [
        {
            "telegram_id": first_telegram_id + n,
            "display_name": f"ساکن {n}",
            "language": "en" if n % 2 else "fa",
            "area": area,
            "created_at": now,
            "consented_at": now,
        }
        for n in range(count)
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(Person), rows)
        people = (
            await session.execute(
                select(Person.id, Person.telegram_id, Person.language).where(
                    Person.telegram_id.between(first_telegram_id, first_telegram_id + count - 1)
                )
            )
        ).all()
        await session.execute(
            insert(PersonRole),
            [
                {"person_id": pid, "role": Role.RESIDENT.value, "granted_at": now}
                for pid, _, _ in people
            ],
        )
        if tag:
            await session.execute(
                insert(PersonTag), [{"person_id": pid, "tag": tag} for pid, _, _ in people]
            )
    semaphore = asyncio.Semaphore(20)

    async def start(telegram_id: int, language: str) -> None:
        async with semaphore:
            await client.add_user(
                telegram_id, f"ساکن {telegram_id}", language_code=language, started=True
            )

    await asyncio.gather(*(start(tid, lang) for _, tid, lang in people))
    return [Resident(pid, tid, lang) for pid, tid, lang in people]


async def wait_until_delivered(
    sessions: async_sessionmaker[AsyncSession], batch: str | None = None, within_s: float = 120
) -> Counter[str]:
    """Polls the outbox until no row (of the batch) is pending or in flight."""
    deadline = time.monotonic() + within_s
    while True:
        async with sessions() as session:
            query = select(Delivery.status, func.count()).group_by(Delivery.status)
            if batch is not None:
                query = query.where(Delivery.batch == batch)
            statuses = Counter({status: n for status, n in (await session.execute(query)).all()})
        if all(status in FINAL for status in statuses):
            return statuses
        if time.monotonic() > deadline:
            async with sessions() as session:
                busy = (
                    await session.execute(
                        select(
                            Delivery.key, Delivery.status, Delivery.due_at, Delivery.last_error
                        ).where(Delivery.status.not_in(FINAL))
                    )
                ).all()
            raise TimeoutError(f"outbox still busy: {dict(statuses)}: {busy[:5]}")
        await asyncio.sleep(0.1)


def per_chat(sent: list[dict]) -> Counter[int]:
    return Counter(int(action["chat_id"]) for action in sent)


async def wait_until_announced(
    sessions: async_sessionmaker[AsyncSession], announcement_id: int, within_s: float = 60
) -> Counter[str]:
    """Waits until the announcement has been sent to everyone (or cancelled)."""
    from bot.announcements.models import Announcement, AnnouncementStatus

    deadline = time.monotonic() + within_s
    while True:
        async with sessions() as session:
            status = await session.scalar(
                select(Announcement.status).where(Announcement.id == announcement_id)
            )
        if status in (AnnouncementStatus.DONE, AnnouncementStatus.CANCELLED):
            return await wait_until_delivered(sessions, f"announcement:{announcement_id}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"announcement {announcement_id} is still {status}")
        await asyncio.sleep(0.1)
