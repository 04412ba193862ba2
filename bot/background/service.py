"""Submitting, claiming and finishing background jobs: the rows are the truth, so a restart
or a new leader picks up what a stopped process left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.background.models import BackgroundJob, JobKind, JobStatus
from bot.delivery.models import Delivery, DeliveryStatus
from bot.delivery.outbox import error_text

# A job claimed more often than this is given up: it is likely what stops its process.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Job:
    id: int
    kind: JobKind
    person_id: int | None
    chat_id: int
    language: str
    params: dict[str, Any]
    message_id: int | None
    attempts: int


def _job(row: BackgroundJob) -> Job:
    return Job(
        row.id,
        JobKind(row.kind),
        row.person_id,
        row.chat_id,
        row.language,
        dict(row.params),
        row.message_id,
        row.attempts,
    )


async def submit(
    session: AsyncSession,
    kind: JobKind,
    *,
    person_id: int | None,
    chat_id: int,
    language: str,
    params: dict[str, Any],
    message_id: int | None = None,
) -> Job:
    row = BackgroundJob(
        kind=kind.value,
        person_id=person_id,
        chat_id=chat_id,
        language=language,
        params=params,
        status=JobStatus.QUEUED.value,
        done=0,
        message_id=message_id,
        attempts=0,
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    return _job(row)


async def recover(session: AsyncSession, stale_before: datetime) -> int:
    """Running jobs whose process stopped (no heartbeat since `stale_before`) are queued again
    (the runner gives up on one claimed more than MAX_ATTEMPTS times)."""
    result = await session.execute(
        update(BackgroundJob)
        .where(
            BackgroundJob.status == JobStatus.RUNNING,
            BackgroundJob.heartbeat_at.is_(None) | (BackgroundJob.heartbeat_at < stale_before),
        )
        .values(status=JobStatus.QUEUED)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


async def claim(session: AsyncSession) -> Job | None:
    """The oldest queued job, now running here."""
    row = await session.scalar(
        select(BackgroundJob)
        .where(BackgroundJob.status == JobStatus.QUEUED)
        .order_by(BackgroundJob.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if row is None:
        return None
    row.status = JobStatus.RUNNING.value
    row.attempts += 1
    row.heartbeat_at = clock.now()
    await session.flush()
    return _job(row)


async def beat(
    session: AsyncSession, job_id: int, done: int | None = None, total: int | None = None
) -> None:
    """That the job's process still works on it, and how far it is when it says."""
    values: dict[str, Any] = {"heartbeat_at": clock.now()}
    if done is not None:
        values |= {"done": done, "total": total}
    await session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, BackgroundJob.status == JobStatus.RUNNING)
        .values(**values)
    )


async def finish(session: AsyncSession, job_id: int) -> None:
    await session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id)
        .values(status=JobStatus.DONE, finished_at=clock.now(), error=None)
    )


async def fail(session: AsyncSession, job_id: int, error: str) -> None:
    await session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id)
        .values(status=JobStatus.FAILED, finished_at=clock.now(), error=error_text(error))
    )


async def requeue(session: AsyncSession, job_id: int) -> None:
    """Stopped with its process (a shutdown): it runs again on the next start, and this
    attempt does not count against it."""
    await session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, BackgroundJob.status == JobStatus.RUNNING)
        .values(status=JobStatus.QUEUED, attempts=BackgroundJob.attempts - 1)
    )


async def finished_ids(session: AsyncSession, ids: list[int]) -> set[int]:
    """Which of these jobs are over (done or failed), for cleaning their work folders."""
    if not ids:
        return set()
    rows = await session.scalars(
        select(BackgroundJob.id).where(
            BackgroundJob.id.in_(ids),
            BackgroundJob.status.in_([JobStatus.DONE, JobStatus.FAILED]),
        )
    )
    return set(rows)


async def unsent_batches(session: AsyncSession, batches: list[str]) -> set[str]:
    """Which of these outbox batches still have messages to send (their files are needed)."""
    if not batches:
        return set()
    rows = await session.scalars(
        select(Delivery.batch)
        .where(
            Delivery.batch.in_(batches),
            Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
        )
        .distinct()
    )
    return {batch for batch in rows if batch}


async def forget(session: AsyncSession, person_id: int) -> None:
    """/forget: a person's jobs go, with the chat they were to be sent to (one not yet done
    would go to nobody)."""
    await session.execute(delete(BackgroundJob).where(BackgroundJob.person_id == person_id))
