"""Enqueueing rows, claiming the due ones for the worker, and recording what happened."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db import upsert
from bot.delivery.content import Content
from bot.delivery.models import Delivery, DeliveryStatus
from bot.logs import redact
from bot.people.models import Person


@dataclass(frozen=True)
class Outgoing:
    key: str
    chat_id: int
    content: Content
    due_at: datetime | None = None
    person_id: int | None = None
    batch: str | None = None
    language: str | None = None
    expires_at: datetime | None = None


async def enqueue(session: AsyncSession, items: list[Outgoing]) -> int:
    """Insert rows, ignoring keys already present; returns how many were new."""
    if not items:
        return 0
    now = clock.now()
    statement = (
        upsert(session, Delivery)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Delivery.id)
    )
    rows = [
        {
            "key": item.key,
            "batch": item.batch,
            "chat_id": item.chat_id,
            "person_id": item.person_id,
            "language": item.language,
            "content": item.content.to_json(),
            "due_at": item.due_at or now,
            "expires_at": item.expires_at,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
        }
        for item in items
    ]
    # Parameters as a list let SQLAlchemy batch them ("insertmanyvalues") far faster than one
    # huge VALUES clause; the returned ids count the rows that were new.
    result = await session.execute(statement, rows)
    return len(result.all())


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
            select(
                Delivery.id,
                Delivery.chat_id,
                Delivery.content,
                Delivery.language,
                Delivery.attempts,
                Delivery.person_id,
                Delivery.expires_at,
                Person.language,
                Person.opted_out_at.is_not(None)
                | Person.unreachable_at.is_not(None)
                | (Person.id.is_not(None) & Person.telegram_id.is_(None))
                | Delivery.chat_id.is_(None),
            )
            .outerjoin(Person, Person.id == Delivery.person_id)
            .where(Delivery.status == DeliveryStatus.PENDING, Delivery.due_at <= now)
            .order_by(Delivery.due_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Delivery)  # another sender's rows are theirs
        )
    ).all()
    claimed: list[Claimed] = []
    skipped: list[int] = []
    expired: list[int] = []
    later: dict[int, datetime] = {}
    taken: set[int] = set()
    for (
        row_id,
        chat_id,
        content,
        language,
        attempts,
        person_id,
        expires,
        person_language,
        gone,
    ) in rows:
        if gone:
            skipped.append(row_id)
        elif expires is not None and expires <= now:
            expired.append(row_id)
        elif chat_id in busy_until or chat_id in taken:
            later[row_id] = busy_until.get(chat_id) or now + timedelta(seconds=1)
        else:
            taken.add(chat_id)
            claimed.append(
                Claimed(
                    row_id,
                    chat_id,
                    Content.from_json(content),
                    language or person_language or "fa",
                    attempts + 1,
                    person_id,
                )
            )
    if claimed:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_([row.id for row in claimed]))
            .values(status=DeliveryStatus.SENDING, attempts=Delivery.attempts + 1)
        )
    if skipped:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(skipped))
            .values(status=DeliveryStatus.SKIPPED, finished_at=now)
        )
    if expired:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(expired))
            .values(status=DeliveryStatus.SKIPPED, finished_at=now, last_error="expired")
        )
    if later:
        await session.execute(
            update(Delivery), [{"id": row_id, "due_at": due} for row_id, due in later.items()]
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
    poll_id: str | None = None


ERROR_MAX = 300  # the length of delivery.last_error


def error_text(error: str | None) -> str | None:
    """An error as stored and shown to staff: without the bot token (aiohttp's errors can name
    the request's URL), then cut to fit."""
    return None if error is None else redact(error)[:ERROR_MAX]


async def record(session: AsyncSession, outcomes: list[Outcome]) -> None:
    now = clock.now()
    changes: list[dict[str, Any]] = []
    for outcome in outcomes:
        values: dict[str, Any] = {
            "id": outcome.id,
            "status": outcome.status.value,
            "last_error": error_text(outcome.error),
        }
        if outcome.status is DeliveryStatus.PENDING:
            values["due_at"] = outcome.retry_at or now
        else:
            values["finished_at"] = now
        if outcome.message_id is not None:
            values["message_id"] = outcome.message_id
        if outcome.poll_id is not None:
            values["poll_id"] = outcome.poll_id
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


async def forget_recipient(session: AsyncSession, person_id: int, telegram_id: int | None) -> None:
    """/forget: the person's rows keep their status and batch (reach figures) and lose the
    chat, the text and the errors; those not yet sent are not sent."""
    mine = Delivery.person_id == person_id
    if telegram_id is not None:
        mine |= Delivery.chat_id == telegram_id
    ids = list(await session.scalars(select(Delivery.id).where(mine)))
    if not ids:
        return
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(chat_id=None, content={}, last_error=None, message_id=None, poll_id=None)
    )
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SKIPPED, finished_at=clock.now(), last_error="forgotten")
    )


async def recompose(session: AsyncSession, batch: str, content: Content) -> None:
    """The batch's stored text replaced by a fresh composition (rows of forgotten chats stay
    empty)."""
    await session.execute(
        update(Delivery)
        .where(Delivery.batch == batch, Delivery.chat_id.is_not(None))
        .values(content=content.to_json())
    )
