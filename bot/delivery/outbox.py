"""Enqueueing rows, claiming the due ones for the worker, and recording what happened."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.delivery.content import Content
from bot.delivery.models import Delivery, DeliveryStatus
from bot.people.models import Person

ENQUEUE_CHUNK = 1000


@dataclass(frozen=True)
class Outgoing:
    key: str
    chat_id: int
    content: Content
    due_at: datetime | None = None
    person_id: int | None = None
    batch: str | None = None
    language: str | None = None


async def enqueue(session: AsyncSession, items: list[Outgoing]) -> int:
    """Insert rows, ignoring keys already present; returns how many were new."""
    if not items:
        return 0
    now = clock.now()
    insert = postgres_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    added = 0
    for start in range(0, len(items), ENQUEUE_CHUNK):
        rows = [
            {
                "key": item.key,
                "batch": item.batch,
                "chat_id": item.chat_id,
                "person_id": item.person_id,
                "language": item.language,
                "content": item.content.to_json(),
                "due_at": item.due_at or now,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "created_at": now,
            }
            for item in items[start : start + ENQUEUE_CHUNK]
        ]
        statement = insert(Delivery).values(rows).on_conflict_do_nothing(index_elements=["key"])
        result = await session.execute(statement)
        added += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    return added


async def recover(session: AsyncSession) -> int:
    """After a crash, rows that were in flight go out again (the only possible duplicates)."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claimed:
    id: int
    chat_id: int
    content: Content
    language: str
    attempts: int
    person_id: int | None


async def claim(
    session: AsyncSession, now: datetime, limit: int, busy_until: dict[int, datetime]
) -> list[Claimed]:
    """Due rows, marked as sending. Rows for people who may no longer be written to are
    skipped; rows for a chat that must wait (per-chat limits) are moved to when it is free."""
    rows = (
        await session.execute(
            select(Delivery, Person)
            .outerjoin(Person, Person.id == Delivery.person_id)
            .where(Delivery.status == DeliveryStatus.PENDING, Delivery.due_at <= now)
            .order_by(Delivery.due_at, Delivery.id)
            .limit(limit)
        )
    ).all()
    claimed: list[Claimed] = []
    skipped: list[int] = []
    taken: set[int] = set()
    for delivery, person in rows:
        if person is not None and (
            person.opted_out_at or person.unreachable_at or person.telegram_id is None
        ):
            skipped.append(delivery.id)
            continue
        free_at = busy_until.get(delivery.chat_id)
        if free_at is not None or delivery.chat_id in taken:
            delivery.due_at = free_at or now + timedelta(seconds=1)
            continue
        taken.add(delivery.chat_id)
        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        language = delivery.language or (person.language if person else None) or "fa"
        claimed.append(
            Claimed(
                delivery.id,
                delivery.chat_id,
                Content.from_json(delivery.content),
                language,
                delivery.attempts,
                delivery.person_id,
            )
        )
    if skipped:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(skipped))
            .values(status=DeliveryStatus.SKIPPED, finished_at=now)
        )
    return claimed


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row."""

    id: int
    status: DeliveryStatus
    error: str | None = None
    message_id: int | None = None
    retry_at: datetime | None = None  # back to pending until then
    new_chat_id: int | None = None  # the group chat became a supergroup
    unreachable_person_id: int | None = None
    attempts: int | None = None  # set when a retry should not count as an attempt


async def record(session: AsyncSession, outcomes: list[Outcome]) -> None:
    now = clock.now()
    changes: list[dict[str, Any]] = []
    for outcome in outcomes:
        values: dict[str, Any] = {
            "id": outcome.id,
            "status": outcome.status.value,
            "last_error": outcome.error,
        }
        if outcome.status is DeliveryStatus.PENDING:
            values["due_at"] = outcome.retry_at or now
        else:
            values["finished_at"] = now
        if outcome.message_id is not None:
            values["message_id"] = outcome.message_id
        if outcome.new_chat_id is not None:
            values["chat_id"] = outcome.new_chat_id
        if outcome.attempts is not None:
            values["attempts"] = outcome.attempts
        changes.append(values)
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in changes:
        by_shape.setdefault(tuple(sorted(values)), []).append(values)
    for group in by_shape.values():
        await session.execute(update(Delivery), group)
    unreachable = {o.unreachable_person_id for o in outcomes if o.unreachable_person_id}
    if unreachable:
        await session.execute(
            update(Person)
            .where(Person.id.in_(unreachable), Person.unreachable_at.is_(None))
            .values(unreachable_at=now)
        )


async def counts(session: AsyncSession, batch: str) -> Counter[str]:
    rows = await session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.batch == batch)
        .group_by(Delivery.status)
    )
    return Counter({status: number for status, number in rows})


async def cancel(session: AsyncSession, batch: str) -> int:
    """Rows of the batch not yet handed to Telegram are not sent."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.batch == batch, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SKIPPED, finished_at=clock.now(), last_error="cancelled")
    )
    return result.rowcount or 0  # type: ignore[attr-defined]
