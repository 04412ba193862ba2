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
    InputMediaDocument,
    InputMediaPhoto,
    InputPollOption,
    Message,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.content import Content, Media, Rendered, render
from bot.delivery.models import DeliveryStatus
from bot.delivery.outbox import Claimed, Outcome
from bot.delivery.pace import MAX_ATTEMPTS, MAX_RATE_LIMITED, Limits, Pace, backoff_s
from bot.delivery.split import CAPTION_LIMIT, TEXT_LIMIT, split_html
from bot.groups import service as groups

log = logging.getLogger(__name__)

RECORD_EVERY_S = 0.02
# Looked for a little after a chat is free, so that its moved rows are due by then.
CHAT_FREE_MARGIN_S = 0.005

Markup = InlineKeyboardMarkup | None


class PartNotSent(Exception):
    """A later part of a message in several parts could not be sent; the first ones were."""


class Sender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        limits: Limits,
        concurrency: int = 64,
        idle_poll_s: float = 0.2,
        max_rate_limited: int = MAX_RATE_LIMITED,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
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
        self.max_rate_limited = max_rate_limited
        self._rate_limited: dict[int, int] = {}  # row id → 429s met

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
                await self._pause(self._idle_s(time.monotonic()))

    def _idle_s(self, now: float) -> float:
        """Until the next look for due rows: the idle poll, or sooner when a chat that had a
        message a moment ago may have the next (claim moved its rows to that moment), so that
        a job's parts to one chat leave at its pace, not up to a poll later each."""
        free = min(self.pace.busy_chats(now).values(), default=now + self.idle_poll_s)
        return min(self.idle_poll_s, max(CHAT_FREE_MARGIN_S, free - now + CHAT_FREE_MARGIN_S))

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
            outcome = Outcome(row.id, DeliveryStatus.FAILED, error=repr(error))
        finally:
            self._slots.release()
        if outcome.status is not DeliveryStatus.PENDING:
            self._rate_limited.pop(row.id, None)
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
        try:
            if row.content.stops_poll is not None:
                await self._stop_poll(row.chat_id, row.content.stops_poll)
                return Outcome(row.id, DeliveryStatus.SENT)
            first, *rest = self._parts(rendered, row.content)
            message = await self._transmit(
                row.chat_id, rendered, first, row.content, None if rest else markup
            )
            if row.content.pin:
                with contextlib.suppress(TelegramAPIError):  # pinning needs admin rights
                    await self.bot.pin_chat_message(
                        row.chat_id, message.message_id, disable_notification=True
                    )
            if rest:
                message = await self._send_rest(row, rest, markup)
            return Outcome(
                row.id,
                DeliveryStatus.SENT,
                # The last part's: it carries the buttons (a poll is never split).
                message_id=message.message_id,
                poll_id=message.poll.id if message.poll else None,
            )
        except PartNotSent as error:
            blocked = isinstance(error.__cause__, TelegramForbiddenError)
            return Outcome(
                row.id,
                DeliveryStatus.UNREACHABLE if blocked else DeliveryStatus.FAILED,
                error=str(error),
                unreachable_person_id=row.person_id if blocked else None,
            )
        except TelegramRetryAfter as error:
            self.pace.pause(error.retry_after, time.monotonic())
            log.warning("Telegram asked to wait %s s; all sending pauses", error.retry_after)
            if (times := self._rate_limited_again(row.id)) >= self.max_rate_limited:
                return Outcome(
                    row.id,
                    DeliveryStatus.FAILED,
                    error=f"given up: rate limited {times} times (429); last: {error.message}",
                )
            return self._retry(row, error, error.retry_after, counts=False)
        except TelegramMigrateToChat as error:
            async with transaction(self.sessions) as session:
                await groups.follow_chat_migration(session, row.chat_id, error.migrate_to_chat_id)
            return Outcome(
                row.id,
                DeliveryStatus.PENDING,
                error=error.message,
                new_chat_id=error.migrate_to_chat_id,
                attempts=row.attempts - 1,
            )
        except TelegramForbiddenError as error:
            return Outcome(
                row.id,
                DeliveryStatus.UNREACHABLE,
                error=error.message,
                unreachable_person_id=row.person_id,
            )
        except (TelegramServerError, TelegramNetworkError) as error:
            if row.attempts >= MAX_ATTEMPTS:
                return Outcome(row.id, DeliveryStatus.FAILED, error=str(error))
            return self._retry(row, error, backoff_s(row.attempts), counts=True)
        except (TelegramBadRequest, TelegramAPIError) as error:
            return Outcome(row.id, DeliveryStatus.FAILED, error=str(error))

    def _rate_limited_again(self, row_id: int) -> int:
        """How many 429s this row has met. Counted here, not stored: a 429 is Telegram pacing
        the bot, not a failed attempt (attempts bound those), and after a restart a row that
        starts counting again is still bounded; the count is what bounds the time, since
        every 429 makes all sending wait as long as Telegram asks."""
        self._rate_limited[row_id] = self._rate_limited.get(row_id, 0) + 1
        return self._rate_limited[row_id]

    def _retry(self, row: Claimed, error: Exception, after_s: float, counts: bool) -> Outcome:
        return Outcome(
            row.id,
            DeliveryStatus.PENDING,
            error=str(error),
            retry_at=clock.now() + timedelta(seconds=after_s),
            attempts=None if counts else row.attempts - 1,
        )

    @staticmethod
    def _parts(rendered: Rendered, content: Content) -> list[str]:
        """The text in parts that each fit Telegram's limit: a caption first when there are
        files (an album's is its first file's). The text comes with its direction marks (`render`),
        which count too."""
        text = rendered.text
        if rendered.poll_options or not text:
            return [text]
        if not content.files:
            return split_html(text)
        return split_html(text, TEXT_LIMIT, first_limit=CAPTION_LIMIT)

    async def _send_rest(self, row: Claimed, texts: list[str], markup: Markup) -> Message:
        """The later parts of a message too long for one, each paced like any message, with
        the chat held so that nothing comes between them. A part is retried here when
        Telegram asks to wait or stumbles: retrying the row would send the first part again."""
        self.pace.hold(row.chat_id)
        try:
            for number, text in enumerate(texts, start=2):
                last = number == len(texts) + 1
                message = await self._send_part(row, text, markup if last else None)
        except TelegramAPIError as error:
            raise PartNotSent(f"part {number} of {len(texts) + 1} not sent: {error}") from error
        finally:
            self.pace.release(row.chat_id)
        return message

    async def _send_part(self, row: Claimed, text: str, markup: Markup) -> Message:
        failures = 0
        while True:
            while (moment := self.pace.next_part(row.chat_id, time.monotonic())) is None:
                free = max(self.pace.chat_free_at(row.chat_id), self.pace.paused_until)
                await asyncio.sleep(free - time.monotonic())
            await asyncio.sleep(moment - time.monotonic())
            try:
                return await self.bot.send_message(row.chat_id, text, reply_markup=markup)
            except TelegramRetryAfter as error:
                self.pace.pause(error.retry_after, time.monotonic())
                if self._rate_limited_again(row.id) >= self.max_rate_limited:
                    raise
            except (TelegramServerError, TelegramNetworkError):
                failures += 1
                if failures >= MAX_ATTEMPTS:
                    raise
                await asyncio.sleep(backoff_s(failures))

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
        text: str,
        content: Content,
        markup: Markup,
    ) -> Message:
        if rendered.poll_options:
            return await self.bot.send_poll(
                chat_id,
                rendered.poll_question,
                [InputPollOption(text=option) for option in rendered.poll_options],
                is_anonymous=False,
                allows_multiple_answers=rendered.poll_multiple,
                reply_markup=markup,
            )
        caption = text or None
        if content.album:
            return await self._send_album(chat_id, rendered, caption, content.album)
        media = content.media
        if media is None:
            return await self.bot.send_message(chat_id, text, reply_markup=markup)
        file = self._file(media, rendered.attachments[0])
        if media.kind == "photo":
            message = await self.bot.send_photo(chat_id, file, caption=caption, reply_markup=markup)
        else:
            message = await self.bot.send_document(
                chat_id, file, caption=caption, reply_markup=markup
            )
        self._remember(media, message)
        return message

    async def _send_album(
        self, chat_id: int, rendered: Rendered, caption: str | None, album: list[Media]
    ) -> Message:
        """One call for the whole album, so one send, retried whole. The first message stands
        for it in the delivery record (it carries the caption, and the pin)."""
        files = zip(album, rendered.attachments, strict=True)
        items = [
            (InputMediaPhoto if media.kind == "photo" else InputMediaDocument)(
                media=self._file(media, attachment), caption=caption if number == 0 else None
            )
            for number, (media, attachment) in enumerate(files)
        ]
        messages = await self.bot.send_media_group(chat_id, items)
        for media, message in zip(album, messages, strict=False):  # a cache only
            self._remember(media, message)
        return messages[0]

    def _file(self, media: Media, attachment: bytes | None) -> str | InputFile:
        """A file made for the reader, one Telegram has, or a local one (uploaded once)."""
        if attachment is not None:
            return BufferedInputFile(attachment, filename=media.file_name or "file")
        if media.file_id:
            return media.file_id
        if media.path and media.path in self._uploaded:
            return self._uploaded[media.path]
        assert media.path is not None
        return FSInputFile(media.path, filename=media.file_name)

    def _remember(self, media: Media, message: Message) -> None:
        """A local file's id at Telegram, so that the next recipient gets it without an upload."""
        if not media.path:
            return
        if media.kind == "photo" and message.photo:
            self._uploaded[media.path] = message.photo[-1].file_id
        elif message.document:
            self._uploaded[media.path] = message.document.file_id

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
