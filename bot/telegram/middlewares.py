"""Per-update context: throttling, retrying while the database is away, one database session,
each update once, the person behind the update, locale."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.middlewares.user_context import EVENT_CONTEXT_KEY, EventContext
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import updates
from bot.db import transaction
from bot.i18n import language_from_code
from bot.people import service as people
from bot.people.models import Role
from bot.telegram.storage import update_session

if TYPE_CHECKING:
    from redis.asyncio import Redis

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
log = logging.getLogger(__name__)


class TokenBucket:
    """A refilling allowance of updates for one person."""

    __slots__ = ("level", "noticed", "stamp")

    def __init__(self, burst: int) -> None:
        self.level = float(burst)
        self.stamp = time.monotonic()
        self.noticed = False


class MemoryBuckets:
    """The allowances of one process, in its memory."""

    def __init__(self, rate: float, burst: int, max_people: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_people = max_people
        self.buckets: dict[int, TokenBucket] = {}

    async def take(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, tell): whether the update may go on, and whether to tell the person to
        slow down (the first refusal since they were last allowed one)."""
        bucket = self.buckets.get(user_id)
        if bucket is None:
            if len(self.buckets) >= self.max_people:
                self._forget_full_buckets()
            bucket = self.buckets[user_id] = TokenBucket(self.burst)
        now = time.monotonic()
        bucket.level = min(self.burst, bucket.level + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.level >= 1:
            bucket.level -= 1
            bucket.noticed = False
            return True, False
        tell, bucket.noticed = not bucket.noticed, True
        return False, tell

    def _forget_full_buckets(self) -> None:
        now = time.monotonic()
        idle = [
            user_id
            for user_id, bucket in self.buckets.items()
            if bucket.level + (now - bucket.stamp) * self.rate >= self.burst
        ]
        for user_id in idle or list(self.buckets)[: len(self.buckets) // 2]:
            del self.buckets[user_id]


# The same token bucket, read and written in one step on the Redis server, on its clock (the
# replicas' clocks may differ). A bucket left alone refills completely within burst / rate
# seconds, and is then no different from none: it expires then, so idle people cost nothing.
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local held = redis.call('HMGET', KEYS[1], 'level', 'stamp', 'noticed')
local level = tonumber(held[1]) or burst
local stamp = tonumber(held[2]) or now
local noticed = held[3] == '1'
level = math.min(burst, level + math.max(0, now - stamp) * rate)
local allowed, tell = 0, 0
if level >= 1 then
  level = level - 1
  allowed = 1
  noticed = false
elseif not noticed then
  noticed = true
  tell = 1
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'stamp', tostring(now),
           'noticed', noticed and '1' or '0')
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {allowed, tell}
"""


class RedisBuckets:
    """The allowances shared by every replica, in Redis: a person whose updates the load
    balancer spreads over N replicas gets one allowance, not N."""

    def __init__(self, redis: Redis, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.script = redis.register_script(_TAKE)

    async def take(self, user_id: int) -> tuple[bool, bool]:
        # Here, not at the top: only replicas load redis (about 0.3 s and 10 MB at start).
        from redis.exceptions import RedisError

        try:
            allowed, tell = await self.script(
                keys=[f"hamgam:throttle:{user_id}"], args=[self.rate, self.burst]
            )
        except RedisError as error:
            # Flood protection is not worth refusing a resident over: let the update through.
            log.warning("Throttling skipped, Redis is unavailable: %s", error)
            return True, False
        return bool(allowed), bool(tell)


class ThrottleMiddleware(BaseMiddleware):
    """Drops updates from a person who floods the bot, telling them once, politely; everyone
    else is untouched because each person has their own allowance (in this process's memory,
    or in Redis when replicas run)."""

    def __init__(
        self,
        rate: float,
        burst: int,
        i18n: I18n,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis | None = None,
    ) -> None:
        self.i18n = i18n
        self.sessions = sessions
        self.buckets = (
            MemoryBuckets(rate, burst) if redis is None else RedisBuckets(redis, rate, burst)
        )

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return await handler(event, data)
        allowed, tell = await self.buckets.take(user.id)
        if allowed:
            return await handler(event, data)
        if tell:
            await self._tell_to_slow_down(event, user)
        elif isinstance(event, Update) and event.callback_query:
            await event.callback_query.answer()
        return None

    async def _tell_to_slow_down(self, event: TelegramObject, user: User) -> None:
        async with self.sessions() as session:
            person = await people.find(session, user.id)
        language = (person.language if person else None) or language_from_code(user.language_code)
        with self.i18n.context(), self.i18n.use_locale(language):
            text = _("You're sending messages very fast. Please wait a moment, then try again.")
            if isinstance(event, Update) and event.callback_query:
                await event.callback_query.answer(text, show_alert=True)
            elif (
                isinstance(event, Update)
                and event.message
                and (event.message.chat.type == "private")
            ):
                await event.message.answer(text)


class DatabaseMiddleware(BaseMiddleware):
    """One session per update, committed when handling succeeds and rolled back otherwise."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        sessions: async_sessionmaker[AsyncSession] = data["sessions"]
        async with sessions() as session:
            token = update_session.set(session)
            try:
                data["session"] = session
                result = await handler(event, data)
                await session.commit()
                return result
            finally:
                update_session.reset(token)


class RetryWhileDatabaseIsAway(BaseMiddleware):
    """An update that meets a transient database error (the connection lost, the database
    locked, a serialization failure) is handled again from the start, with a fresh session,
    after a growing pause: the person hears nothing of it but a slower answer, and updates
    keep their order (polling begins a person's next update only when this one has finished,
    and confirms it to Telegram only then, so a crash meanwhile means Telegram sends it
    again; a webhook answers Telegram only then, and Telegram sends the chat's next one
    after that).

    After `within_s` of failing: a webhook answers with an error, and Telegram delivers the
    update again later. In polling mode the update is parked in the database for the clock to
    handle again (its offset is then confirmed); if the database cannot even park it, nothing
    can be handled anyway, and the update is retried in place, still unconfirmed, until the
    database takes one or the other."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        park: bool,
        within_s: float = 15.0,
        first_pause_s: float = 0.05,
        longest_pause_s: float = 2.0,
    ) -> None:
        self.sessions = sessions
        self.park = park
        self.within_s = within_s
        self.first_pause_s = first_pause_s
        self.longest_pause_s = longest_pause_s

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        pause, waited = self.first_pause_s, 0.0
        while True:
            try:
                # A copy: the inner middlewares and filters fill `data` in with this attempt's
                # session, person and state.
                return await handler(event, dict(data))
            except Exception as error:
                if not (updates.transient(error) and isinstance(event, Update)):
                    raise
                if waited >= self.within_s:
                    if not self.park or data.get("replaying"):
                        raise
                    if await self._parked(event):
                        return None
                log.warning(
                    "Database unavailable for update %s (%s); trying again in %.2f s",
                    event.update_id,
                    error,
                    pause,
                )
            await asyncio.sleep(pause)
            waited += pause
            pause = min(pause * 2, self.longest_pause_s)

    async def _parked(self, update: Update) -> bool:
        try:
            async with transaction(self.sessions) as session:
                payload = update.model_dump(mode="json", exclude_unset=True)
                await updates.park(session, update.update_id, payload)
        except Exception as error:
            if not updates.transient(error):
                raise
            return False
        log.error("Update %s parked: the database failed it for a while", update.update_id)
        return True


class OnceMiddleware(BaseMiddleware):
    """Each update is handled once, though Telegram may deliver it again (a slow or failed
    webhook answer; a polling bot that stopped before confirming it) and to another replica.

    The update's id is written by its first commit, in that transaction
    (bot.updates.record_when_committed); a redelivery finds the id there, and what it did is
    rolled back before anyone hears of it, since every Telegram call is preceded by a commit
    (CommitBeforeSending). So an update whose effects roll back is not marked done and its
    redelivery is handled, and no update holds SQLite's write lock longer than its own
    writes do. An update counts as done from the moment it has stored something for good or
    told anyone anything: handling it again after that would repeat what people saw (a second
    "sent", the next question asked of an answer already taken), so a redelivery is skipped
    even if the first handling then failed half-way; what it did not do is lost as it would be
    without a redelivery. Two deliveries of one update never run at once: the person's lock
    (dispatcher.fsm's event isolation, in Redis across replicas) is held around this
    middleware until the first has finished."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        session: AsyncSession = data["session"]
        updates.record_when_committed(session, event.update_id)
        try:
            result = await handler(event, data)
            await session.commit()  # the record, if nothing was committed yet
        except updates.AlreadyHandled:
            await session.rollback()
            log.info("Update %s was handled before: not again", event.update_id)
            return None
        return result


class PersonMiddleware(BaseMiddleware):
    """The person behind the update and their roles. A person is created only by a message in
    a private chat: someone who merely speaks in a linked group chat has not started the bot,
    and an old button pressed after /forget must not bring a deleted person back."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        context: EventContext | None = data.get(EVENT_CONTEXT_KEY)
        session: AsyncSession = data["session"]
        person, roles = None, frozenset[Role]()
        if user is not None and not user.is_bot:
            private_message = (
                isinstance(event, Update)
                and event.message is not None
                and context is not None
                and context.chat is not None
                and context.chat.type == "private"
            )
            person, roles = (
                await people.arrive(session, user.id, user.full_name, user.username)
                if private_message
                else await people.find_with_roles(session, user.id)
            )
        data["person"] = person
        data["roles"] = roles
        data["language"] = (person.language if person else None) or language_from_code(
            user.language_code if user else None
        )
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        return data["language"]
