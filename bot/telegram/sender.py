"""The outbox worker: takes due rows, sends them within Telegram's limits, records outcomes.

Telegram-facing (it classifies aiogram's errors), so it lives beside the other aiogram wiring;
what to send and what an outcome means are in bot/delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BufferedInputFile,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputPollOption,
    Message,
)
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.content import Media, Rendered, render
from bot.delivery.models import DeliveryStatus
from bot.delivery.outbox import Claimed, Outcome
from bot.delivery.pace import MAX_ATTEMPTS, Limits, Pace, backoff_s
from bot.groups import service as groups

log = logging.getLogger(__name__)

RECORD_EVERY_S = 0.02


class Sender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        i18n: I18n,
        limits: Limits,
        concurrency: int = 64,
        idle_poll_s: float = 0.2,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.i18n = i18n
        self.limits = limits
        self.pace = Pace(limits)
        self.idle_poll_s = idle_poll_s
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._in_flight: set[asyncio.Task[None]] = set()
        self._results: asyncio.Queue[Outcome | None] = asyncio.Queue()
        # A tenth of a second of rows at a time, one batch ahead: few rows are ever claimed
        # but not yet sent (those are the only ones a crash can send twice).
        self._batch_size = max(1, min(concurrency, int(limits.per_second / 10) + 1))
        self._claimed: asyncio.Queue[list[Claimed] | None] = asyncio.Queue(maxsize=1)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._uploaded: dict[str, str] = {}  # local path → Telegram file_id

    def wake(self) -> None:
        """Rows were enqueued: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        # A replica that loses the lead stops its sender and may run it again later.
        self._stopping.clear()
        self._claimed = asyncio.Queue(maxsize=1)
        self._results = asyncio.Queue()
        async with transaction(self.sessions) as session:
            recovered = await outbox.recover(session)
        if recovered:
            log.warning(
                "%d messages were in flight when the bot stopped; sending them again", recovered
            )
        recorder = asyncio.create_task(self._record_outcomes())
        claimer = asyncio.create_task(self._claim_due_rows())
        try:
            await self._pace_and_send()
        finally:
            claimer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await claimer
            while not self._claimed.empty():  # claimed, never handed to Telegram: put back
                for row in self._claimed.get_nowait() or []:
                    self._results.put_nowait(self._defer(row, 0.0))
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
            self._results.put_nowait(None)
            await recorder

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        with contextlib.suppress(asyncio.QueueFull):
            self._claimed.put_nowait(None)

    async def _pause(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _claim_due_rows(self) -> None:
        """Claims the next few due rows while the previous ones are being paced out, so the
        database never leaves a gap in the sending."""
        while not self._stopping.is_set():
            now_mono = time.monotonic()
            if self.pace.paused_until > now_mono:
                await self._pause(self.pace.paused_until - now_mono)
                continue
            now = clock.now()
            busy = {
                chat: now + timedelta(seconds=free - now_mono)
                for chat, free in self.pace.busy_chats(now_mono).items()
            }
            async with transaction(self.sessions) as session:
                claimed = await outbox.claim(session, now, self._batch_size, busy)
            if claimed:
                try:
                    await self._claimed.put(claimed)
                except asyncio.CancelledError:
                    for row in claimed:
                        self._results.put_nowait(self._defer(row, 0.0))
                    raise
            else:
                await self._pause(self.idle_poll_s)

    async def _pace_and_send(self) -> None:
        while not self._stopping.is_set() and (batch := await self._claimed.get()) is not None:
            for index, row in enumerate(batch):
                if self._stopping.is_set():
                    for unsent in batch[index:]:
                        self._results.put_nowait(self._defer(unsent, 0.0))
                    break
                moment = self.pace.reserve(row.chat_id, time.monotonic())
                if moment is None:  # this chat had a message a moment ago
                    self._results.put_nowait(
                        self._defer(row, self.pace.chat_free_at(row.chat_id) - time.monotonic())
                    )
                    continue
                if (delay := moment - time.monotonic()) > 0:
                    await asyncio.sleep(delay)
                await self._slots.acquire()
                task = asyncio.create_task(self._send(row))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)

    def _defer(self, row: Claimed, seconds: float) -> Outcome:
        """Back to pending, not counted as an attempt."""
        return Outcome(
            row.id,
            DeliveryStatus.PENDING,
            retry_at=clock.now() + timedelta(seconds=max(0.0, seconds)),
            attempts=row.attempts - 1,
        )

    async def _send(self, row: Claimed) -> None:
        try:
            outcome = await self._deliver(row)
        except Exception as error:  # a bug of ours must not lose the row's outcome
            log.exception("Sending delivery %s failed unexpectedly", row.id)
            outcome = Outcome(row.id, DeliveryStatus.FAILED, error=repr(error)[:300])
        finally:
            self._slots.release()
        self._results.put_nowait(outcome)

    async def _deliver(self, row: Claimed) -> Outcome:
        rendered = render(row.content, row.language)
        markup = None
        if rendered.buttons:
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(text=label, callback_data=data, url=url)
                        for label, data, url in button_row
                    ]
                    for button_row in rendered.buttons
                ]
            )
        locale = "fa" if row.language == "both" else row.language
        try:
            if row.content.stops_poll is not None:
                await self._stop_poll(row.chat_id, row.content.stops_poll)
                return Outcome(row.id, DeliveryStatus.SENT)
            with self.i18n.use_locale(locale):
                message = await self._transmit(row.chat_id, rendered, row.content.media, markup)
            if row.content.pin:
                with contextlib.suppress(TelegramAPIError):  # pinning needs admin rights
                    await self.bot.pin_chat_message(
                        row.chat_id, message.message_id, disable_notification=True
                    )
            return Outcome(
                row.id,
                DeliveryStatus.SENT,
                message_id=message.message_id,
                poll_id=message.poll.id if message.poll else None,
            )
        except TelegramRetryAfter as error:
            self.pace.pause(error.retry_after, time.monotonic())
            log.warning("Telegram asked to wait %s s; all sending pauses", error.retry_after)
            return self._retry(row, error, error.retry_after, counts=False)
        except TelegramMigrateToChat as error:
            async with transaction(self.sessions) as session:
                await groups.follow_chat_migration(session, row.chat_id, error.migrate_to_chat_id)
            return Outcome(
                row.id,
                DeliveryStatus.PENDING,
                error=error.message[:300],
                new_chat_id=error.migrate_to_chat_id,
                attempts=row.attempts - 1,
            )
        except TelegramForbiddenError as error:
            return Outcome(
                row.id,
                DeliveryStatus.UNREACHABLE,
                error=error.message[:300],
                unreachable_person_id=row.person_id,
            )
        except (TelegramServerError, TelegramNetworkError) as error:
            if row.attempts >= MAX_ATTEMPTS:
                return Outcome(row.id, DeliveryStatus.FAILED, error=str(error)[:300])
            return self._retry(row, error, backoff_s(row.attempts), counts=True)
        except (TelegramBadRequest, TelegramAPIError) as error:
            return Outcome(row.id, DeliveryStatus.FAILED, error=str(error)[:300])

    def _retry(self, row: Claimed, error: Exception, after_s: float, counts: bool) -> Outcome:
        return Outcome(
            row.id,
            DeliveryStatus.PENDING,
            error=str(error)[:300],
            retry_at=clock.now() + timedelta(seconds=after_s),
            attempts=None if counts else row.attempts - 1,
        )

    async def _stop_poll(self, chat_id: int, message_id: int) -> None:
        try:
            await self.bot.stop_poll(chat_id, message_id)
        except TelegramBadRequest as error:
            if "already closed" not in error.message:  # stopped before a restart: done
                raise

    async def _transmit(
        self,
        chat_id: int,
        rendered: Rendered,
        media: Media | None,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        text = rendered.text
        if rendered.poll_options:
            return await self.bot.send_poll(
                chat_id,
                rendered.poll_question,
                [InputPollOption(text=option) for option in rendered.poll_options],
                is_anonymous=False,
                allows_multiple_answers=rendered.poll_multiple,
                reply_markup=markup,
            )
        if media is None:
            return await self.bot.send_message(chat_id, text, reply_markup=markup)
        file: str | InputFile
        if rendered.attachment is not None:
            file = BufferedInputFile(rendered.attachment, filename=media.file_name or "file")
        elif media.file_id:
            file = media.file_id
        elif media.path and media.path in self._uploaded:
            file = self._uploaded[media.path]
        else:
            assert media.path is not None
            file = FSInputFile(media.path, filename=media.file_name)
        caption = text or None
        if media.kind == "photo":
            message = await self.bot.send_photo(chat_id, file, caption=caption, reply_markup=markup)
            if media.path and message.photo:
                self._uploaded[media.path] = message.photo[-1].file_id
        else:
            message = await self.bot.send_document(
                chat_id, file, caption=caption, reply_markup=markup
            )
            if media.path and message.document:
                self._uploaded[media.path] = message.document.file_id
        return message

    async def _record_outcomes(self) -> None:
        done = False
        while not done:
            first = await self._results.get()
            outcomes = [] if first is None else [first]
            done = first is None
            if not done:
                # Gather a few outcomes per commit: one commit per message would cost more than
                # sending it. They wait at most this long, so few are unrecorded at a crash.
                await asyncio.sleep(RECORD_EVERY_S)
            while not self._results.empty():
                item = self._results.get_nowait()
                if item is None:
                    done = True
                else:
                    outcomes.append(item)
            if outcomes:
                async with transaction(self.sessions) as session:
                    await outbox.record(session, outcomes)
