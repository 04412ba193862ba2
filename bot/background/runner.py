"""Runs queued jobs on the leader, each in a child process, a few at a time: records their
progress, and delivers their results (or says they failed) through the outbox, under keys
derived from the job, so that a job run again never sends twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.background import child
from bot.background import service as jobs
from bot.background.service import Job
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.content import Content
from bot.delivery.outbox import Outgoing

log = logging.getLogger(__name__)

CONCURRENCY = 2  # children at once: a report need not wait behind a long export
PROGRESS_EVERY_S = 2.0  # the progress message is edited at most this often
HEARTBEAT_S = 10.0
STALE_AFTER = timedelta(seconds=60)  # a replica's job with no heartbeat this long is orphaned
KEEP_FILES = timedelta(days=1)
SWEEP_EVERY_S = 600.0


class Surface(Protocol):
    """What a job looks like to the person who asked for it (the chat's side)."""

    async def progress(self, job: Job, done: int, total: int | None) -> None:
        """Shows how far the job is (best effort: a lost edit loses nothing)."""

    def results(self, job: Job, result: dict[str, Any]) -> list[Content]:
        """What the child's result sends, in order."""

    def failure(self, job: Job) -> Content:
        """The message that says the job failed."""

    def sent(self) -> None:
        """Messages were enqueued: the sender should look now."""


@dataclass(frozen=True)
class Places:
    database_url: str
    folder: Path  # work folders of jobs, one each, made on demand


class Runner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        places: Places,
        surface: Surface,
        *,
        replica: bool,
        idle_poll_s: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.places = places
        self.surface = surface
        self.replica = replica
        self.idle_poll_s = idle_poll_s
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._running: dict[int, asyncio.Task[None]] = {}
        self._swept = 0.0

    def wake(self) -> None:
        """A job was submitted: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        self._stopping.clear()
        # One process (SQLite, or PostgreSQL without replicas): whatever is marked running was
        # left by a process that stopped. Replicas: only what has no fresh heartbeat.
        await self._recover(clock.now())
        try:
            while not self._stopping.is_set():
                if self.replica:
                    await self._recover(clock.now() - STALE_AFTER)
                while len(self._running) < CONCURRENCY and not self._stopping.is_set():
                    async with transaction(self.sessions) as session:
                        job = await jobs.claim(session)
                    if job is None:
                        break
                    task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
                    self._running[job.id] = task
                    task.add_done_callback(lambda _task, job_id=job.id: self._done(job_id))
                if time.monotonic() - self._swept > SWEEP_EVERY_S:
                    await self._sweep()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_poll_s)
        finally:
            tasks = list(self._running.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Running children are stopped and their jobs queued for the next start."""
        self._stopping.set()
        self._wake.set()

    def _done(self, job_id: int) -> None:
        self._running.pop(job_id, None)
        self._wake.set()  # room for the next one

    async def _recover(self, stale_before: datetime) -> None:
        async with transaction(self.sessions) as session:
            recovered = await jobs.recover(session, stale_before)
        if recovered:
            log.warning("%d background jobs were cut short; running them again", recovered)

    async def _run(self, job: Job) -> None:
        if job.attempts > jobs.MAX_ATTEMPTS:
            await self._fail(job, "given up: its process stopped too often")
            return
        folder = self.places.folder / f"job-{job.id}"
        spec = {
            "job_id": job.id,
            "kind": job.kind.value,
            "database_url": self.places.database_url,
            "language": job.language,
            "params": job.params,
            "folder": str(folder),
        }
        shown = 0.0

        async def progress(done: int, total: int | None) -> None:
            nonlocal shown
            if time.monotonic() - shown < PROGRESS_EVERY_S:
                return
            shown = time.monotonic()
            async with transaction(self.sessions) as session:
                await jobs.beat(session, job.id, done, total)
            await self._show(job, done, total)

        delivered = 0  # messages of the result already enqueued, from parts sent early

        async def early(part: dict[str, Any]) -> None:
            nonlocal delivered
            contents = self.surface.results(job, part)
            await self._deliver(job, contents, first=delivered)
            delivered += len(contents)

        beating = asyncio.create_task(self._beat(job.id))
        try:
            result = await child.run(spec, progress, early)
        except asyncio.CancelledError:
            # Shutdown, or the lead lost: the child is stopped; the job runs again later.
            await asyncio.shield(self._requeue(job.id))
            raise
        except Exception as error:
            log.error("Background job %s (%s) failed: %s", job.id, job.kind.value, error)
            await self._fail(job, str(error))
            return
        finally:
            beating.cancel()
        try:
            contents = self.surface.results(job, result)
        except Exception as error:
            log.exception("Background job %s: its result could not be composed", job.id)
            await self._fail(job, repr(error))
            return
        await self._deliver(job, contents, jobs.finish, first=delivered)
        await self._show(job, 1, 1)

    async def _show(self, job: Job, done: int, total: int | None) -> None:
        try:
            await self.surface.progress(job, done, total)
        except Exception:  # the job goes on without its progress shown
            log.warning("Could not show the progress of job %s", job.id, exc_info=True)

    async def _beat(self, job_id: int) -> None:
        """The job's heartbeat while the child works, whatever it reports."""
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            async with transaction(self.sessions) as session:
                await jobs.beat(session, job_id)

    async def _requeue(self, job_id: int) -> None:
        async with transaction(self.sessions) as session:
            await jobs.requeue(session, job_id)

    async def _fail(self, job: Job, error: str) -> None:
        async def failed(session: AsyncSession, job_id: int) -> None:
            await jobs.fail(session, job_id, error)

        await self._deliver(job, [self.surface.failure(job)], failed, suffix="failed")

    async def _deliver(
        self,
        job: Job,
        contents: list[Content],
        close: Callable[[AsyncSession, int], Awaitable[None]] | None = None,
        suffix: str = "result",
        first: int = 0,
    ) -> None:
        """The messages and the job's end (`close`) in one transaction: a job either delivered
        (once, whatever happens later) or is still to run. Its keys number the messages from
        `first` on, after those sent early: a part sent again when the job runs again is
        recognised and not sent twice."""
        # All due now: the outbox sends one chat's rows in the order of their ids, each as soon
        # as the chat's pace allows.
        async with transaction(self.sessions) as session:
            await outbox.enqueue(
                session,
                [
                    Outgoing(
                        f"job:{job.id}:{suffix}:{number}",
                        job.chat_id,
                        content,
                        person_id=job.person_id,
                        batch=f"job:{job.id}",
                        language=job.language,
                    )
                    for number, content in enumerate(contents, first)
                ],
            )
            if close is not None:
                await close(session, job.id)
        self.surface.sent()

    async def _sweep(self) -> None:
        """Work folders of jobs that are over and sent, or a day old, are removed."""
        self._swept = time.monotonic()
        if not self.places.folder.is_dir():
            return
        folders = {
            int(path.name.removeprefix("job-")): path
            for path in self.places.folder.glob("job-*")
            if path.name.removeprefix("job-").isdigit()
        }
        async with self.sessions() as session:
            over = await jobs.finished_ids(session, list(folders))
            sending = await jobs.unsent_batches(session, [f"job:{i}" for i in over])
        oldest = time.time() - KEEP_FILES.total_seconds()
        for job_id, path in folders.items():
            if job_id in self._running:
                continue
            sent = job_id in over and f"job:{job_id}" not in sending
            if sent or path.stat().st_mtime < oldest:
                await asyncio.to_thread(shutil.rmtree, path, True)
