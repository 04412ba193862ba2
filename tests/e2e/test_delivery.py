"""The outbox: every message out, once, in its reader's language, within Telegram's limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.db import create_engine, session_factory, transaction
from bot.delivery import outbox
from bot.delivery.content import Content
from bot.delivery.models import Delivery, DeliveryStatus
from bot.delivery.outbox import Outgoing
from bot.people.models import Person
from tests.e2e.crowd import per_chat, seed_residents, wait_until_delivered
from tests.e2e.harness import BotProcess, plain

NEWS = Content(
    text={"fa": "خبر خوب: باغچهٔ محله کاشته شد 🌱", "en": "Good news: the garden is planted 🌱"}
)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"send_rate": 300.0, "throttle_rate": 1000.0, "throttle_burst": 1000}


@pytest.fixture
async def sessions(database_url: str):
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def broadcast(sessions, residents, batch: str, content: Content = NEWS) -> int:
    async with transaction(sessions) as session:
        return await outbox.enqueue(
            session,
            [
                Outgoing(
                    f"{batch}:{r.person_id}",
                    r.telegram_id,
                    content,
                    person_id=r.person_id,
                    batch=batch,
                )
                for r in residents
            ],
        )


async def test_a_thousand_residents_each_get_one_message_in_their_language(
    bot: BotProcess, client, sessions
) -> None:
    await client.set_limits(global_per_s=300, chat_per_s=1, chat_burst=0, group_per_min=20)
    residents = await seed_residents(sessions, client, 1000)
    stopped = residents[:5]
    async with transaction(sessions) as session:
        await session.execute(
            update(Person)
            .where(Person.id.in_([r.person_id for r in stopped]))
            .values(opted_out_at=Person.consented_at)
        )
    assert await broadcast(sessions, residents, "news:1") == 1000
    assert await broadcast(sessions, residents, "news:1") == 0  # the same keys: no new rows

    statuses = await wait_until_delivered(sessions, "news:1")
    assert statuses == {"sent": 995, "skipped": 5}
    sent = await client.sent()
    received = per_chat(sent)
    assert set(received.values()) == {1}
    assert set(received) == {r.telegram_id for r in residents[5:]}
    language = {r.telegram_id: r.language for r in residents}
    for action in sent:
        text = plain(action["message"])
        assert ("Good news" in text) == (language[action["chat_id"]] == "en"), text
    assert (await client.stats())["violations"] == {"global": 0, "chat": 0, "group": 0}


async def test_faults_are_survived_and_blocked_people_are_skipped_next_time(
    bot: BotProcess, client, sessions
) -> None:
    residents = await seed_residents(sessions, client, 200)
    blocked = residents[:10]
    for resident in blocked:
        await client.add_fault("403", chat_id=resident.telegram_id)
    await client.add_fault("429", method="sendMessage", times=3, retry_after=1)
    await client.add_fault("5xx", method="sendMessage", times=6, status=502)
    await client.add_fault("slow", method="sendMessage", times=10, delay=0.3)

    await broadcast(sessions, residents, "news:2")
    statuses = await wait_until_delivered(sessions, "news:2")
    assert statuses == {"sent": 190, "unreachable": 10}
    received = per_chat(await client.sent())
    assert set(received) == {r.telegram_id for r in residents[10:]}
    assert set(received.values()) == {1}
    async with sessions() as session:
        marked = (
            await session.scalars(
                select(Person.telegram_id).where(Person.unreachable_at.is_not(None))
            )
        ).all()
    assert sorted(marked) == sorted(r.telegram_id for r in blocked)

    await client.clear_faults()
    calls_before = (await client.stats())["calls"]["sendMessage"]
    await broadcast(sessions, residents, "news:3")
    statuses = await wait_until_delivered(sessions, "news:3")
    assert statuses == {"sent": 190, "skipped": 10}
    assert (await client.stats())["calls"]["sendMessage"] - calls_before == 190


async def test_a_group_chat_that_became_a_supergroup_is_followed(
    bot: BotProcess, client, sessions
) -> None:
    chat = await client.create_chat("کارگروه", "group")
    await client.set_bot_status(chat["id"], by_user_id=1, status="member")
    migrated = await client.migrate_chat(chat["id"])
    async with transaction(sessions) as session:
        await outbox.enqueue(session, [Outgoing("group:1", chat["id"], NEWS, language="both")])
    assert await wait_until_delivered(sessions) == {"sent": 1}
    async with sessions() as session:
        row = await session.scalar(select(Delivery))
    assert row is not None and row.chat_id == migrated["id"]
    text = plain((await client.messages(migrated["id"], sender="bot"))[-1])
    assert "باغچهٔ محله" in text and "Good news" in text
    assert row.status == DeliveryStatus.SENT
