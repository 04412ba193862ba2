"""Long polling that handles different people's updates at once, each person's in order, and
confirms no update to Telegram before it is finished.

aiogram's own loop either handles one update at a time (one slow handler then freezes every
resident) or makes each update a task and confirms it as soon as it is read (a crash then
loses whatever was still being handled, and one person's updates may overtake each other).

Here each update is handled in a task; the updates of one person (the user an update is from,
else its chat) wait in that person's queue and run one after another in update_id order, so
a survey answer is never stored before the one typed just before it, even when the first
waits for the database (RetryWhileDatabaseIsAway) or is parked. Different people run at once,
at most IN_FLIGHT updates taken and not finished. getUpdates confirms every update below the
offset it is given, so the offset is the lowest unfinished update's: Telegram then sends the
unfinished ones again with every getUpdates, and they, like the ones finished since the last
confirmation, are recognised by id and not handled twice. After a crash Telegram sends the
finished-but-unconfirmed ones again, and OnceMiddleware skips those that had committed.

Only polling needs the queues. A webhook gets one update at a time per chat from Telegram
(telegram-bot-api's WebhookActor keeps a queue per chat for messages, per user for callback
queries, per poll for poll answers, and sends a queue's next update only when the webhook has
answered the one before; the webhook answers once the update is handled), and two updates of
one person from different queues (a message and a button press at once) are kept from running
together by aiogram's event isolation, as they are here, in Redis across replicas."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.dispatcher import DEFAULT_BACKOFF_CONFIG
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff

log = logging.getLogger(__name__)

# Updates taken and not finished: as many as Telegram's default webhook max_connections sends
# at once, so both modes put the same load on the database (and well within getUpdates' 100).
IN_FLIGHT = 40
# While an update is unfinished getUpdates returns at once (with it) instead of waiting for new
# ones: new ones are then looked for this often. An idle bot long-polls as usual.
RECHECK_S = 0.05
POLL_TIMEOUT_S = 10


def person_of(update: Update) -> int | None:
    """Whose updates must keep their order: the user's, wherever they write or press (a
    private chat's id is its user's), else the chat's; None for updates of neither (a poll's
    new state), which keep their order among themselves."""
    context = UserContextMiddleware.resolve_event_context(update)
    return context.user_id if context.user else context.chat_id


class Polling:
    """getUpdates in a loop until stop(); see the module's docstring."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        allowed_updates: list[str],
        *,
        in_flight: int = IN_FLIGHT,
        recheck_s: float = RECHECK_S,
        timeout_s: int = POLL_TIMEOUT_S,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.in_flight = in_flight
        self.recheck_s = recheck_s
        self._get = GetUpdates(timeout=timeout_s, allowed_updates=allowed_updates)
        # Longer than the long poll, as aiogram does, so a quiet poll is not a timeout.
        self._request_timeout = int(bot.session.timeout + timeout_s)
        self._people: dict[int | None, deque[Update]] = {}  # only people with updates to handle
        self._unfinished: set[int] = set()
        self._finished: set[int] = set()  # not yet confirmed (ids from the offset on)
        self._next: int | None = None  # one past the highest update id taken
        self._confirmed: int | None = None  # the offset last given to getUpdates
        self._tasks: set[asyncio.Task[None]] = set()
        self._fetching: asyncio.Task[list[Update]] | None = None
        self._wake = asyncio.Event()  # an update finished, or stop() was called
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """No more updates are fetched or begun; run() returns once those begun have finished.
        Safe from a signal handler."""
        self._stopping.set()
        self._wake.set()
        if self._fetching is not None:
            self._fetching.cancel()

    async def run(self) -> None:
        """Until stop(). Cancelled, it stops at once like a crash: the updates being handled
        are cancelled, unconfirmed, and Telegram sends them again to the next start."""
        try:
            await self._poll()
        except BaseException:
            for task in self._tasks:
                task.cancel()
            raise
        await asyncio.gather(*self._tasks)
        await self._confirm()

    def _offset(self) -> int | None:
        return min(self._unfinished) if self._unfinished else self._next

    async def _poll(self) -> None:
        backoff = Backoff(DEFAULT_BACKOFF_CONFIG)
        while not self._stopping.is_set():
            self._get.offset = self._confirmed = offset = self._offset()
            if offset is not None:
                self._finished = {update_id for update_id in self._finished if update_id >= offset}
            fetched = self._fetching = asyncio.create_task(
                self.bot(self._get, request_timeout=self._request_timeout)
            )
            try:
                await asyncio.wait({fetched})
            finally:
                self._fetching = None
                fetched.cancel()  # nothing when it is done; with this task when it is cancelled
            if fetched.cancelled():
                return  # stop()
            if (error := fetched.exception()) is not None:
                # As aiogram's loop does: Telegram unreachable for a while must not end polling.
                delay = next(backoff)
                log.error(
                    "Failed to fetch updates (%s: %s); trying again in %.1f s",
                    type(error).__name__,
                    error,
                    delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                continue
            backoff.reset()
            self._take(fetched.result())
            await self._settle()

    def _take(self, updates: list[Update]) -> None:
        for update in updates:
            update_id = update.update_id
            if update_id in self._unfinished or update_id in self._finished:
                continue  # fetched again: still being handled, or handled and not confirmed
            if len(self._unfinished) >= self.in_flight:
                break  # this one and the rest come again with the next getUpdates
            self._unfinished.add(update_id)
            if self._next is None or update_id >= self._next:
                self._next = update_id + 1
            person = person_of(update)
            waiting = self._people.get(person)
            if waiting is not None:
                waiting.append(update)
                continue
            self._people[person] = deque([update])
            task = asyncio.create_task(self._serve(person), name=f"updates of {person}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _settle(self) -> None:
        """Until every update taken has finished (then a long poll confirms them), or, while
        some are still being handled, for RECHECK_S and room for another."""
        deadline = asyncio.get_running_loop().time() + self.recheck_s
        while self._unfinished and not self._stopping.is_set():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0 and len(self._unfinished) < self.in_flight:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), left if left > 0 else None)

    async def _serve(self, person: int | None) -> None:
        """One person's updates, one after another; their queue is forgotten once empty."""
        waiting = self._people[person]
        try:
            while waiting and not self._stopping.is_set():
                update = waiting[0]
                await self._handle(update)
                waiting.popleft()
                self._unfinished.discard(update.update_id)
                self._finished.add(update.update_id)
                self._wake.set()
        finally:
            # Stopping, what was not begun stays unfinished, and so unconfirmed.
            del self._people[person]

    async def _handle(self, update: Update) -> None:
        """As aiogram's loop: a reply returned by the handler is sent, and an update that
        failed is logged and counts as handled (the error handler has told the person)."""
        try:
            result = await self.dispatcher.feed_update(self.bot, update)
            if isinstance(result, TelegramMethod):
                await self.dispatcher.silent_call_request(self.bot, result)
        except Exception:
            log.exception("Update %s failed", update.update_id)

    async def _confirm(self) -> None:
        """What finished since the last getUpdates is confirmed before the process ends, so
        that Telegram does not send it again to the next start."""
        offset = self._offset()
        if offset is None or offset == self._confirmed:
            return
        try:
            await self.bot(
                GetUpdates(
                    offset=offset, limit=1, timeout=0, allowed_updates=self._get.allowed_updates
                )
            )
        except Exception as error:  # the next start is sent them again, and skips them
            log.warning("Could not confirm the last updates: %s", error)
