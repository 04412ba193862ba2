"""The outbox: every message out, once, in its reader's language, within Telegram's limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.db import create_engine, session_factory, transaction
from bot.delivery import outbox
from bot.delivery.content import Content, Media
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


async def test_charts_arrive_as_one_album_uploaded_once_and_a_429_is_retried_whole(
    bot: BotProcess, client, sessions, tmp_path: Path
) -> None:
    charts = []
    for n in range(3):
        path = tmp_path / f"chart{n}.png"
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([n]))
        charts.append(Media("photo", path=str(path), file_name=path.name))
    report = Content(text=NEWS.text, album=charts)
    first, second = await seed_residents(sessions, client, 2)  # one Persian, one English
    await client.add_fault("429", method="sendMediaGroup", times=1, retry_after=1)
    await broadcast(sessions, [first], "report:1", report)
    assert await wait_until_delivered(sessions, "report:1") == {"sent": 1}
    await broadcast(sessions, [second], "report:2", report)
    assert await wait_until_delivered(sessions, "report:2") == {"sent": 1}

    stats = await client.stats()
    assert stats["calls"]["sendMediaGroup"] == 3 and stats["errors"] == {"429": 1}
    albums = []
    for resident in (first, second):
        inbox = await client.messages(resident.telegram_id, sender="bot")
        assert len(inbox) == 3 and all(message["photo"] for message in inbox)
        assert len({message["media_group_id"] for message in inbox}) == 1
        assert inbox[0]["media_group_id"] is not None
        caption = plain(inbox[0])
        assert ("Good news" in caption) == (resident.language == "en"), caption
        assert [plain(message) for message in inbox[1:]] == ["", ""]
        albums.append(inbox)
    file_ids = [[message["photo"][0]["file_id"] for message in inbox] for inbox in albums]
    assert file_ids[0] == file_ids[1]  # uploaded for the first resident only
    *_, to_second = await client.sent()
    assert "attach://" not in json.dumps(to_second["params"]["media"])
    async with sessions() as session:
        recorded = dict(
            (await session.execute(select(Delivery.chat_id, Delivery.message_id))).all()
        )
    assert recorded == {
        r.telegram_id: inbox[0]["message_id"]
        for r, inbox in zip((first, second), albums, strict=True)
    }
