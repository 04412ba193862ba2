"""Residents and groups acting on a running bot: joins, blocks, migrations, resets."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import ChatMemberUpdated, Message

from bot.sandbox import SandboxClient, SandboxError

Polling = Callable[[Dispatcher], AbstractAsyncContextManager[None]]
MARYAM, REZA = 1001, 1002


def membership_router(seen: list[str]) -> Router:
    """Greets groups it joins, notes blocks and migrations, echoes the rest."""
    router = Router()

    @router.my_chat_member()
    async def my_status(event: ChatMemberUpdated, bot: Bot) -> None:
        seen.append(f"{event.chat.type}:{event.new_chat_member.status}")
        if event.chat.type != "private" and event.new_chat_member.status == "member":
            await bot.send_message(event.chat.id, "سلام! Hamgam is here.")

    @router.message(F.new_chat_members)
    async def joined(message: Message) -> None:
        seen.append("joined:" + ",".join(u.first_name for u in message.new_chat_members or []))

    @router.message(F.migrate_to_chat_id)
    async def migrated(message: Message) -> None:
        seen.append(f"migrate_to:{message.migrate_to_chat_id}")

    @router.message(F.migrate_from_chat_id)
    async def migrated_from(message: Message) -> None:
        seen.append(f"migrate_from:{message.migrate_from_chat_id}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"<i>{message.text}</i>")

    return router


@pytest.fixture
def seen() -> list[str]:
    return []


@pytest.fixture
def dispatcher(seen: list[str]) -> Dispatcher:
    dp = Dispatcher()
    dp.include_router(membership_router(seen))
    return dp


async def test_bot_added_to_a_group_greets_it(
    client: SandboxClient, polling: Polling, dispatcher: Dispatcher, seen: list[str]
) -> None:
    await client.add_user(MARYAM, "Maryam")
    group = await client.create_chat("Green street", type="supergroup")
    assert group["id"] < -1_000_000_000_000 and group["bot_status"] == "left"
    async with polling(dispatcher):
        added = await client.set_bot_status(group["id"], MARYAM, "member")
        assert len(added["update_ids"]) == 2
        [greeting] = added["actions"]
        assert (greeting["chat_id"], greeting["message"]["plain_text"]) == (
            group["id"],
            "سلام! Hamgam is here.",
        )
        joined = await client.set_member(group["id"], REZA)
        echoed = await client.send_message(REZA, "hi all", chat_id=group["id"])
    assert seen == ["supergroup:member", "joined:Hamgam", "joined:User 1002"]
    assert joined["members"][str(REZA)] == "member"
    assert echoed["actions"][0]["message"]["plain_text"] == "hi all"


async def test_blocking_and_coming_back(
    bot: Bot, client: SandboxClient, polling: Polling, dispatcher: Dispatcher, seen: list[str]
) -> None:
    async with polling(dispatcher):
        await client.send_message(MARYAM, "hello")
        blocked = await client.block(MARYAM)
        assert blocked["delivered"] and blocked["blocked"]
        with pytest.raises(TelegramForbiddenError):
            await bot.send_message(MARYAM, "are you there?")
        back = await client.send_message(MARYAM, "I'm back")
    assert len(back["update_ids"]) == 2
    assert seen == ["private:kicked", "private:member"]
    assert [a["message"]["plain_text"] for a in back["actions"]] == ["I'm back"]


async def test_migration_posts_service_messages_in_both_chats(
    client: SandboxClient, polling: Polling, dispatcher: Dispatcher, seen: list[str]
) -> None:
    group = await client.create_chat("Old group", id=-4242)
    await client.set_member(group["id"], MARYAM, "creator")
    await client.set_bot_status(group["id"], MARYAM, "administrator", wait=False)
    async with polling(dispatcher):
        migrated = await client.migrate_chat(group["id"])
    new_id = migrated["id"]
    assert migrated["migrated_from"] == -4242
    assert seen[-2:] == [f"migrate_to:{new_id}", "migrate_from:-4242"]
    old_messages = await client.messages(-4242)
    assert old_messages[-1]["service"] == {"migrate_to_chat_id": new_id}
    with pytest.raises(SandboxError, match="upgraded to supergroup"):
        await client.send_message(MARYAM, "hello?", chat_id=-4242, wait=False)


async def test_press_helper_explains_missing_buttons(bot: Bot, client: SandboxClient) -> None:
    await client.send_message(MARYAM, "/start", wait=False)
    await bot.send_message(MARYAM, "no buttons here")
    with pytest.raises(LookupError, match=r"no inline button 'Yes'.*available: \[\]"):
        await client.press(MARYAM, MARYAM, "Yes")


async def test_reset_forgets_everything_but_the_bot(
    bot: Bot, bot_id: int, client: SandboxClient
) -> None:
    await client.send_message(MARYAM, "/start", wait=False)
    await bot.send_message(MARYAM, "remember me")
    await client.add_fault("5xx")
    await client.reset()
    assert (await bot.get_me()).id == bot_id
    assert await bot.get_updates() == []
    assert await client.actions() == [] and (await client.stats())["sent"] == 0
    with pytest.raises(SandboxError, match="no such chat"):
        await client.messages(MARYAM)


async def test_presses_can_be_forged_in_someone_elses_chat(bot: Bot, client: SandboxClient) -> None:
    await client.send_message(MARYAM, "/start", wait=False)
    sent = await bot.send_message(MARYAM, "Delete my data?")
    forged = await client.callback(REZA, MARYAM, sent.message_id, "forget:yes", wait=False)
    [update] = await bot.get_updates(offset=-1)
    query = update.callback_query
    assert query is not None and query.id == forged["callback_query_id"]
    assert (query.from_user.id, query.data) == (REZA, "forget:yes")
    with pytest.raises(SandboxError, match="no message 99"):
        await client.callback(REZA, MARYAM, 99, "x", wait=False)
