"""Getting updates to the bot: long polling, webhooks, and "wait until handled"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramConflictError
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.sandbox import Emulator, SandboxClient, SandboxError

MARYAM = 1001
SECRET = "hamgam-webhook-secret"

Serve = Callable[[web.Application], Awaitable[str]]
Polling = Callable[[Dispatcher], AbstractAsyncContextManager[None]]
Eventually = Callable[[Callable[[], bool]], Awaitable[None]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Run aiohttp apps on free local ports (stand-ins for the bot's webhook server)."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


def survey_router() -> Router:
    """A tiny bot: /start asks a question with buttons; a press edits it and answers."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(
            "Did you attend the meeting?",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(text=" Yes ", callback_data="attend:yes"),
                        InlineKeyboardButton(text="No", callback_data="attend:no"),
                    ]
                ]
            ),
        )

    @router.callback_query(F.data.startswith("attend:"))
    async def attend(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message) and query.data is not None
        await query.message.edit_text(f"Answer saved: {query.data.split(':')[1]}")
        await query.answer("Thanks!")

    @router.callback_query()
    async def stale(query: CallbackQuery) -> None:
        await query.answer("This button is no longer valid", show_alert=True)

    return router


async def test_polling_bot_conversation_is_deterministic(
    bot: Bot, client: SandboxClient, polling: Polling
) -> None:
    dp = Dispatcher()
    dp.include_router(survey_router())
    async with polling(dp):
        started = await client.send_message(MARYAM, "/start")
        [asked] = started["actions"]
        assert asked["method"] == "sendMessage" and asked["ok"]
        assert asked["message"]["plain_text"] == "Did you attend the meeting?"

        pressed = await client.press(MARYAM, MARYAM, "Yes")
        assert pressed["answer"] == {"text": "Thanks!", "show_alert": False, "url": None}
        assert [a["method"] for a in pressed["actions"]] == [
            "editMessageText",
            "answerCallbackQuery",
        ]
        [question] = await client.messages(MARYAM, sender="bot")
        assert question["plain_text"] == "Answer saved: yes" and question["reply_markup"] is None

        forged = await client.callback(MARYAM, MARYAM, question["message_id"], "vote:42")
        assert forged["answer"] == {
            "text": "This button is no longer valid",
            "show_alert": True,
            "url": None,
        }

        with pytest.raises(LookupError, match=r"available: \[\]"):
            await client.press(MARYAM, MARYAM, "Yes")
        # aiogram asked only for the update types it handles: blocking is not delivered
        blocked = await client.block(MARYAM)
        assert blocked["delivered"] is False and blocked["actions"] == []


async def test_wait_times_out_with_a_clear_message(client: SandboxClient) -> None:
    with pytest.raises(SandboxError, match=r"not fetched within 0\.2 s") as caught:
        await client.send_message(MARYAM, "anyone there?", wait_timeout=0.2)
    assert caught.value.status == 504


async def test_long_poll_wakes_when_an_update_arrives(
    emulator: Emulator, bot: Bot, client: SandboxClient, eventually: Eventually
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await eventually(lambda: emulator.state.updates.poll_generation > 0)
    began = time.monotonic()
    await client.send_message(MARYAM, "salaam", wait=False)
    [update] = await poll
    assert time.monotonic() - began < 1
    assert update.message is not None and update.message.text == "salaam"


async def test_offset_confirms_updates_and_releases_waiters(
    bot: Bot, client: SandboxClient
) -> None:
    first = await client.send_message(MARYAM, "one", wait=False)
    waiter = asyncio.create_task(client.send_message(MARYAM, "two"))
    updates: list[Any] = []
    while len(updates) < 2:
        updates = await bot.get_updates(timeout=1)
    assert updates[0].update_id == first["update_id"]
    await bot.send_message(MARYAM, "reply while handling")
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == []
    handled = await waiter
    assert [a["message"]["plain_text"] for a in handled["actions"]] == ["reply while handling"]


async def test_allowed_updates_filter_and_are_remembered(bot: Bot, client: SandboxClient) -> None:
    await client.send_message(MARYAM, "hello", wait=False)
    [update] = await bot.get_updates(allowed_updates=["callback_query"])
    sent = await bot.send_message(MARYAM, "Pick", reply_markup=None)
    await bot.get_updates(offset=update.update_id + 1)
    ignored = await client.send_message(MARYAM, "not wanted")
    assert ignored["delivered"] is False and ignored["update_id"] is None
    pressed = await client.callback(MARYAM, MARYAM, sent.message_id, "x", wait=False)
    [only] = await bot.get_updates()
    assert only.update_id == pressed["update_id"] and only.callback_query is not None
    await bot.get_updates(offset=only.update_id + 1, allowed_updates=[])
    assert (await client.send_message(MARYAM, "default again", wait=False))["delivered"]


async def test_a_second_poller_ends_the_first_with_conflict(
    bot: Bot, emulator: Emulator, eventually: Eventually
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await eventually(lambda: emulator.state.updates.poll_generation > 0)
    assert await bot.get_updates(timeout=0) == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first


async def test_webhook_with_secret_token_and_reply_in_response(
    bot: Bot, client: SandboxClient, serve: Serve
) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> SendMessage:
        return message.answer("Welcome (sent in the webhook response)")

    dp = Dispatcher()
    dp.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token=SECRET).register(
        app, path="/webhook"
    )
    url = await serve(app)
    assert await bot.set_webhook(f"{url}/webhook", secret_token=SECRET)
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    result = await client.send_message(MARYAM, "/start")
    [reply] = result["actions"]
    assert reply["method"] == "sendMessage"
    assert reply["message"]["plain_text"] == "Welcome (sent in the webhook response)"
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (f"{url}/webhook", 0)
    assert await bot.delete_webhook()


async def test_failed_webhook_deliveries_are_retried_in_order(
    bot: Bot, client: SandboxClient, serve: Serve
) -> None:
    received: list[tuple[str | None, str]] = []
    failures = 2

    async def receive(request: web.Request) -> web.Response:
        nonlocal failures
        if failures:
            failures -= 1
            return web.Response(status=500)
        update = await request.json()
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), update["message"]["text"])
        )
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", receive)
    url = await serve(app)
    await bot.set_webhook(f"{url}/hook", secret_token=SECRET)
    await client.send_message(MARYAM, "first", wait=False)
    await client.send_message(MARYAM, "second")
    assert received == [(SECRET, "first"), (SECRET, "second")]
    info = await bot.get_webhook_info()
    assert info.last_error_message is not None and "500" in info.last_error_message


async def test_webhook_targets_round_robin(bot: Bot, client: SandboxClient, serve: Serve) -> None:
    hits: dict[str, int] = {"a": 0, "b": 0}

    def replica(name: str) -> web.Application:
        async def receive(request: web.Request) -> web.Response:
            hits[name] += 1
            return web.Response()

        app = web.Application()
        app.router.add_post("/", receive)
        return app

    urls = [await serve(replica("a")), await serve(replica("b"))]
    await client.set_webhook_targets([f"{u}/" for u in urls])
    await bot.set_webhook(f"{urls[0]}/")
    assert (await client.webhook_info())["targets"] == [f"{u}/" for u in urls]
    for n in range(4):
        await client.send_message(MARYAM, f"message {n}")
    assert hits == {"a": 2, "b": 2}


async def test_drop_pending_updates(
    bot: Bot, emulator: Emulator, client: SandboxClient, eventually: Eventually
) -> None:
    waiting = asyncio.create_task(client.send_message(MARYAM, "stale"))
    await eventually(lambda: bool(emulator.state.updates.pending))
    await bot.delete_webhook(drop_pending_updates=True)
    assert (await waiting)["actions"] == []
    assert await bot.get_updates() == []


async def test_raw_webhook_reply_as_json_body(
    api_url: str, http: aiohttp.ClientSession, client: SandboxClient, serve: Serve
) -> None:
    async def receive(request: web.Request) -> web.Response:
        update = await request.json()
        chat_id = update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "pong"})

    app = web.Application()
    app.router.add_post("/", receive)
    url = await serve(app)
    async with http.post(f"{api_url}/setWebhook", json={"url": f"{url}/"}) as response:
        assert (await response.json())["result"] is True
    result = await client.send_message(MARYAM, "ping")
    assert [a["message"]["plain_text"] for a in result["actions"]] == ["pong"]


def counting_router(seen: list[int]) -> Router:
    router = Router()

    @router.message()
    async def count(message: Message, event_update: Update) -> None:
        seen.append(event_update.update_id)

    return router


async def test_an_update_is_delivered_again_with_its_own_update_id_while_polling(
    bot: Bot, client: SandboxClient, polling: Polling
) -> None:
    seen: list[int] = []
    dp = Dispatcher()
    dp.include_router(counting_router(seen))
    async with polling(dp):
        first = await client.send_message(MARYAM, "once")
        await client.send_message(MARYAM, "later")
        again = await client.redeliver(first["update_id"])
        assert again["delivered"] and again["update_id"] == first["update_id"]
        await client.send_message(MARYAM, "last")
    once = first["update_id"]
    assert seen == [once, once + 1, once, once + 2]
    with pytest.raises(SandboxError, match="no update with this update_id") as caught:
        await client.redeliver(999_999)
    assert caught.value.status == 404


async def test_an_update_is_delivered_again_to_a_webhook(
    bot: Bot, client: SandboxClient, serve: Serve
) -> None:
    received: list[tuple[int, str]] = []

    async def receive(request: web.Request) -> web.Response:
        update = await request.json()
        received.append((update["update_id"], update["message"]["text"]))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", receive)
    url = await serve(app)
    await bot.set_webhook(f"{url}/hook")
    first = await client.send_message(MARYAM, "once")
    await client.redeliver(first["update_id"])
    assert received == [(first["update_id"], "once")] * 2


class HeldWebhook:
    """A webhook that holds each update until the test lets that chat go, and notes which
    updates were in flight together."""

    def __init__(self) -> None:
        self.in_flight: list[str] = []
        self.most_at_once = 0
        self.received: list[str] = []
        self.released: dict[int, asyncio.Event] = {}

    def release(self, chat_id: int) -> None:
        self.released.setdefault(chat_id, asyncio.Event()).set()

    async def receive(self, request: web.Request) -> web.Response:
        message = (await request.json())["message"]
        text = message["text"]
        self.received.append(text)
        self.in_flight.append(text)
        self.most_at_once = max(self.most_at_once, len(self.in_flight))
        await self.released.setdefault(message["chat"]["id"], asyncio.Event()).wait()
        self.in_flight.remove(text)
        return web.Response()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self.receive)
        return app


async def test_webhook_deliveries_run_at_once_up_to_max_connections(
    bot: Bot, client: SandboxClient, serve: Serve, eventually: Eventually
) -> None:
    hook = HeldWebhook()
    await bot.set_webhook(f"{await serve(hook.app())}/hook", max_connections=3)
    for n in range(5):
        await client.send_message(2001 + n, f"from {n}", wait=False)
    await eventually(lambda: len(hook.in_flight) == 3)
    assert hook.received == ["from 0", "from 1", "from 2"]  # the rest wait for a connection
    hook.release(2001)
    await eventually(lambda: len(hook.received) == 4)
    assert hook.received[3] == "from 3"
    for chat_id in (*range(2001, 2006), 2010):
        hook.release(chat_id)
    await client.send_message(2010, "last")  # waits until handled
    await eventually(lambda: not hook.in_flight)
    assert hook.most_at_once == 3
    assert sorted(hook.received) == sorted([f"from {n}" for n in range(5)] + ["last"])


async def test_webhook_sends_one_update_per_chat_at_a_time_in_order(
    bot: Bot, client: SandboxClient, serve: Serve, eventually: Eventually
) -> None:
    hook = HeldWebhook()
    await bot.set_webhook(f"{await serve(hook.app())}/hook")
    for n in range(3):
        await client.send_message(MARYAM, f"maryam {n}", wait=False)
    await eventually(lambda: hook.in_flight == ["maryam 0"])
    # Another chat is not held up by Maryam's, whose next update waits for her first.
    hook.release(2002)
    reply = await client.send_message(2002, "neda")
    assert reply["delivered"] and hook.in_flight == ["maryam 0"]
    hook.release(MARYAM)
    await client.send_message(MARYAM, "maryam 3")
    assert hook.received == ["maryam 0", "neda", "maryam 1", "maryam 2", "maryam 3"]
