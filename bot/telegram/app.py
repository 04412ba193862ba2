"""Assembling Hamgam: database, bot, dispatcher and routers; running by polling or webhook."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, Update
from aiogram.utils.i18n import I18n
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from aiohttp.payload import JsonPayload, Payload
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import clock, updates
from bot.background import service as background
from bot.background.models import JobKind
from bot.background.runner import Places, Runner
from bot.config import PROJECT_ROOT, Settings
from bot.db import create_engine, session_factory, transaction
from bot.delivery.pace import Limits
from bot.i18n import DEFAULT_LANGUAGE
from bot.leadership import Leadership
from bot.people import service as people
from bot.schema import check_database
from bot.telegram.commands import sync_commands
from bot.telegram.edits import SameEditIsDone
from bot.telegram.lengths import FitTelegramLimits
from bot.telegram.middlewares import (
    DatabaseMiddleware,
    LocaleMiddleware,
    OnceMiddleware,
    PersonMiddleware,
    RetryWhileDatabaseIsAway,
    ThrottleMiddleware,
)
from bot.telegram.polling import Polling
from bot.telegram.responses import KeepResponseModels
from bot.telegram.retry import RetryTransientErrors
from bot.telegram.rtl import RightToLeftLines, RightToLeftReplies
from bot.telegram.sender import Sender
from bot.telegram.storage import CommitBeforeSending, DatabaseStorage, WrittenOnCommit

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
LOCALES = PROJECT_ROOT / "locales"


@dataclass
class Hamgam:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bot: Bot
    dispatcher: Dispatcher
    i18n: I18n
    sender: Sender
    # Exceptions that reached the error handler; tests assert it stays empty.
    failures: list[BaseException] = field(default_factory=list)
    # Set once start-up is done and updates are being taken.
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    leadership: Leadership = field(init=False)
    scheduler: AsyncIOScheduler = field(default_factory=lambda: AsyncIOScheduler(timezone=UTC))
    jobs_running: asyncio.Lock = field(default_factory=asyncio.Lock)
    sending: asyncio.Task[None] | None = None
    # Long staff work (exports, reports): run where the lead is, like the sender.
    runner: Runner | None = None
    running: asyncio.Task[None] | None = None
    # People's own command menus, set after start-up (bot.telegram.commands).
    menus: asyncio.Task[None] | None = None
    # Set by run_polling; its stop() ends polling once the updates being handled have finished.
    polling: Polling | None = None

    def __post_init__(self) -> None:
        self.leadership = Leadership(self.engine, shared=self.settings.replica)

    def guarded(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """A periodic job that shutdown waits for, so it never loses its database midway; on
        a replica that does not lead, it does nothing (the leader's clock does it)."""

        async def run() -> None:
            if not self.leadership.held:
                return
            async with self.jobs_running:
                await job()

        return run

    async def lead(self) -> None:
        """Takes or keeps the lead; the sender and the background jobs run where it is."""
        if await self.leadership.renew():
            if self.sending is None:
                self.sending = asyncio.create_task(self.sender.run(), name="outbox")
            if self.running is None and self.runner is not None:
                self.running = asyncio.create_task(self.runner.run(), name="background jobs")
        else:
            await self.stop_running()
            if self.sending is not None:
                await self.sender.stop()
                await asyncio.gather(self.sending, return_exceptions=True)
                self.sending = None

    async def stop_running(self) -> None:
        """Background jobs in progress stop; they run again where the lead goes next."""
        if self.running is not None and self.runner is not None:
            await self.runner.stop()
            await asyncio.gather(self.running, return_exceptions=True)
            self.running = None

    async def submit(
        self,
        session: AsyncSession,
        kind: JobKind,
        params: dict[str, Any],
        *,
        person_id: int,
        chat_id: int,
        language: str,
        message_id: int | None = None,
    ) -> None:
        """Queues long staff work, commits, and has the runner look at once; `message_id` is
        the message that shows the job's progress, if it has one."""
        await background.submit(
            session,
            kind,
            person_id=person_id,
            chat_id=chat_id,
            language=language,
            params=params,
            message_id=message_id,
        )
        await session.commit()
        if self.runner is not None:
            self.runner.wake()

    def nudge(self) -> None:
        """Something became due now (an announcement to send): run the periodic work at once
        instead of at its next tick."""
        for job in self.scheduler.get_jobs():
            job.modify(next_run_time=datetime.now(UTC))

    async def look_after_updates(self) -> None:
        """The clock's part in "every update once": parked updates are handled again, and
        records of handled updates Telegram can no longer send again are forgotten."""
        async with transaction(self.sessions) as session:
            await updates.forget_handled(session)
        async with self.sessions() as session:
            parked = await updates.parked(session)
        for update_id, payload, parked_at in parked:
            if parked_at < clock.now() - updates.KEEP_PARKED:
                log.error("Parked update %s given up after a day: %s", update_id, payload)
            else:
                update = Update.model_validate(payload, context={"bot": self.bot})
                try:
                    result = await self.dispatcher.feed_update(self.bot, update, replaying=True)
                    if isinstance(result, TelegramMethod):
                        await self.bot(result)
                except Exception as error:
                    if updates.transient(error):
                        log.warning("Parked update %s still waits for the database", update_id)
                        return  # in order: the next ones wait too
                    log.exception("Parked update %s failed again", update_id)
            async with transaction(self.sessions) as session:
                await updates.unpark(session, update_id)

    async def close(self) -> None:
        # At once: each waits a quarter of a second for its connections to close (aiogram).
        await asyncio.gather(self.bot.session.close(), self.sender.bot.session.close())
        await self.engine.dispose()


APP_KEY = web.AppKey("hamgam", Hamgam)


def build(settings: Settings) -> Hamgam:
    from handlers import setup_routers
    from handlers.background import ChatSurface

    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    i18n = I18n(path=LOCALES, default_locale=DEFAULT_LANGUAGE, domain="messages")
    bot = _bot(settings, i18n)
    # Direct replies retry a little in place; the outbox has its own retries and pacing.
    bot.session.middleware(RetryTransientErrors())
    bot.session.middleware(CommitBeforeSending())
    sender = Sender(_bot(settings, i18n), sessions, Limits(per_second=settings.send_rate))
    storage, isolation, redis = _conversations(settings, sessions)
    dispatcher = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        disable_fsm=True,  # added below, inside the update's database session
    )
    app = Hamgam(settings, engine, sessions, bot, dispatcher, i18n, sender)
    app.runner = Runner(
        sessions,
        Places(settings.database_url, settings.work_folder),
        ChatSurface(app),
        replica=settings.replica,
    )
    dispatcher["hamgam"] = app
    dispatcher["sessions"] = sessions

    dispatcher.update.outer_middleware(
        ThrottleMiddleware(
            settings.throttle_rate,
            settings.throttle_burst,
            i18n,
            sessions,
            # Replicas share the conversations' Redis client for the allowances too.
            redis=redis,
        )
    )
    dispatcher.update.outer_middleware(
        RetryWhileDatabaseIsAway(sessions, park=settings.webhook_url is None)
    )
    dispatcher.update.outer_middleware(DatabaseMiddleware())
    # The conversation state is read and written in the update's own transaction, not in one
    # of its own before it (aiogram's default order).
    dispatcher.update.outer_middleware(dispatcher.fsm)
    # Inside the person's lock (aiogram's event isolation, in Redis across replicas): a second
    # delivery of an update waits for the first to finish, then finds it done.
    dispatcher.update.outer_middleware(OnceMiddleware())
    dispatcher.update.outer_middleware(PersonMiddleware())
    dispatcher.update.outer_middleware(LocaleMiddleware(i18n))
    dispatcher.update.outer_middleware(RightToLeftReplies(i18n))
    dispatcher.include_router(setup_routers())
    dispatcher.startup.register(_on_startup)
    dispatcher.shutdown.register(_on_shutdown)
    return app


def _conversations(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> tuple[BaseStorage, BaseEventIsolation, Redis | None]:
    """Conversation state in our database for one process; in Redis for replicas, whose lock
    keeps two updates of one person from being handled at once on two replicas (changed
    when the update commits, as in the database), and the Redis client."""
    if settings.replica:
        from aiogram.fsm.storage.redis import RedisStorage

        assert settings.redis_url is not None
        redis = RedisStorage.from_url(
            settings.redis_url,
            key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True),
        )
        return WrittenOnCommit(redis), redis.create_isolation(), redis.redis
    return DatabaseStorage(sessions), SimpleEventIsolation(), None


def _bot(settings: Settings, i18n: I18n) -> Bot:
    api = (
        TelegramAPIServer.from_base(settings.telegram_api_url)
        if settings.telegram_api_url
        else PRODUCTION
    )
    bot = Bot(
        settings.token,
        session=AiohttpSession(api=api, timeout=30),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    bot.session.middleware(RightToLeftLines(i18n))
    bot.session.middleware(FitTelegramLimits())  # after the direction marks, which count too
    bot.session.middleware(KeepResponseModels())
    bot.session.middleware(SameEditIsDone())
    return bot


async def _on_startup(hamgam: Hamgam, bot: Bot) -> None:
    from handlers import periodic_jobs

    if hamgam.settings.staff_ids:
        async with transaction(hamgam.sessions) as session:
            for telegram_id in hamgam.settings.staff_ids:
                await people.add_staff(session, telegram_id, None)
    me = await bot.get_me()
    hamgam.dispatcher["bot_username"] = me.username
    hamgam.menus = asyncio.create_task(sync_commands(hamgam), name="menus")
    await hamgam.lead()
    hamgam.scheduler.add_job(
        hamgam.lead, IntervalTrigger(seconds=1), id="leadership", max_instances=1, coalesce=True
    )
    # The clock: jobs hold no state of their own; each reads what is due from the database.
    jobs = [*periodic_jobs(hamgam), ("updates", hamgam.look_after_updates, 5.0)]
    for job_id, job, every_s in jobs:
        hamgam.scheduler.add_job(
            hamgam.guarded(job),
            IntervalTrigger(seconds=every_s),
            id=job_id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
    hamgam.scheduler.start()
    # What start-up built (aiogram's and pydantic's models, SQLAlchemy's mappers) lives as long
    # as the process: keep it out of the collector, whose full passes stall the event loop. It
    # is frozen without a collection first (0.1 s): `hamgam run` starts with the collector off,
    # and the few cycles start-up left behind stay.
    gc.freeze()
    # Each update allocates a few thousand short-lived objects, nearly all freed by reference
    # counting; at Python's default threshold (700) the collector ran several times an update.
    # Measured with `python -m bench.answers try`: about 8% more answers a second.
    gc.set_threshold(20_000, 20, 20)
    gc.enable()
    hamgam.ready.set()
    log.info("Hamgam is up as @%s", me.username)


async def _on_shutdown(hamgam: Hamgam) -> None:
    """In-flight messages finish and are recorded before the process ends."""
    if hamgam.menus is not None:  # the rest are set at the next start
        hamgam.menus.cancel()
        await asyncio.gather(hamgam.menus, return_exceptions=True)
    if hamgam.scheduler.running:
        hamgam.scheduler.shutdown(wait=False)
    async with hamgam.jobs_running:  # a job half-way through finishes first
        pass
    await hamgam.stop_running()  # its children stop; their jobs run again at the next start
    await hamgam.sender.stop()
    if hamgam.sending is not None:
        await asyncio.gather(hamgam.sending, return_exceptions=True)
        hamgam.sending = None
    await hamgam.leadership.release()


async def run_polling(app: Hamgam, *, handle_signals: bool = False) -> None:
    """Long polling (bot.telegram.polling): different people's updates are handled at once and
    each person's in order, and an update is confirmed to Telegram only once it is finished,
    so a crash mid-update means Telegram sends it again after the restart (and OnceMiddleware
    skips it if it had got as far as its first commit). A database error is retried or parked
    (RetryWhileDatabaseIsAway), without holding up anyone else. Returns after
    `app.polling.stop()`, or SIGTERM or SIGINT with `handle_signals`, once the updates being
    handled have finished."""
    await check_database(app.settings.database_url)
    await app.bot.delete_webhook(drop_pending_updates=False)
    dispatcher = app.dispatcher
    app.polling = Polling(dispatcher, app.bot, dispatcher.resolve_used_update_types())
    await dispatcher.emit_startup(**dispatcher.workflow_data, bot=app.bot)
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
    for stop_signal in signals:
        loop.add_signal_handler(stop_signal, app.polling.stop)
    try:
        log.info("Polling for updates")
        await app.polling.run()
    finally:
        for stop_signal in signals:
            loop.remove_signal_handler(stop_signal)
        await dispatcher.emit_shutdown(**dispatcher.workflow_data, bot=app.bot)


class WebhookHandler(SimpleRequestHandler):
    """aiogram's webhook handler, with a reply that goes back in the response (the next survey
    question, say) written as JSON rather than multipart form data. Telegram takes both;
    multipart is needed only to upload a file, and building it cost more than the rest of
    the response."""

    def _build_response_writer(
        self, bot: Bot, result: TelegramMethod[TelegramType] | None
    ) -> Payload:
        if not result:
            return super()._build_response_writer(bot, result)
        files: dict[str, InputFile] = {}
        body = {"method": result.__api_method__}
        for key, value in result.model_dump(warnings=False).items():
            prepared = bot.session.prepare_value(value, bot=bot, files=files)
            if prepared:
                body[key] = prepared
        if files:
            return super()._build_response_writer(bot, result)
        return JsonPayload(body, dumps=bot.session.json_dumps)


async def start_webhook(app: Hamgam) -> web.AppRunner:
    """Serve the webhook; Telegram's request is answered once the update is handled, so a
    crash mid-update means Telegram delivers it again."""
    await check_database(app.settings.database_url)
    settings = app.settings
    web_app = web.Application()
    WebhookHandler(
        app.dispatcher,
        app.bot,
        handle_in_background=False,
        secret_token=settings.webhook_secret_token,
    ).register(web_app, path=WEBHOOK_PATH)
    web_app.router.add_get("/healthz", _healthz)
    web_app[APP_KEY] = app
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_listen_host, settings.webhook_listen_port)
    await site.start()
    await app.dispatcher.emit_startup(**app.dispatcher.workflow_data, bot=app.bot)
    assert settings.webhook_url is not None
    await app.bot.set_webhook(
        settings.webhook_url.rstrip("/") + WEBHOOK_PATH
        if not settings.webhook_url.endswith(WEBHOOK_PATH)
        else settings.webhook_url,
        secret_token=settings.webhook_secret_token,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
    )
    return runner


async def _healthz(request: web.Request) -> web.Response:
    """For the load balancer; `leader` tells which replica runs the clock and the sender."""
    return web.json_response({"ok": True, "leader": request.app[APP_KEY].leadership.held})


async def serve_webhook_forever(app: Hamgam) -> None:
    runner = await start_webhook(app)
    try:
        await asyncio.Event().wait()
    finally:
        await app.dispatcher.emit_shutdown(**app.dispatcher.workflow_data, bot=app.bot)
        await runner.cleanup()
