"""Staff broadcast progress news: compose, preview, target, send now or later, follow it."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot import clock
from bot.announcements.models import Announcement, AnnouncementStatus
from bot.db import create_engine, session_factory, transaction
from bot.groups.models import Group, GroupKind, Membership
from bot.i18n.format import RLM, TEHRAN
from bot.people.models import Person
from tests.e2e.crowd import per_chat, seed_residents, wait_until_announced, wait_until_delivered
from tests.e2e.harness import BotProcess, buttons, plain

FA = "باغچهٔ محله کاشته شد! از همه ممنونیم 🌱"
EN = "The neighbourhood garden is planted! Thank you all 🌱"


@pytest.fixture
async def sessions(database_url: str):
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def compose(reza, fa: str = FA, en: str | None = EN) -> None:
    await reza.send("/announce")
    await reza.send(fa)
    if en is None:
        await reza.press("رد شدن: همان متن فارسی")
    else:
        await reza.send(en)
    await reza.press("بدون پیوست")


async def announcement_rows(sessions) -> list[Announcement]:
    async with sessions() as session:
        return list((await session.scalars(select(Announcement).order_by(Announcement.id))).all())


async def test_staff_announce_to_everyone_and_follow_the_progress(
    staff, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    residents = await seed_residents(sessions, client, 20)
    await compose(reza)
    reply = await reza.press("همه")
    texts = reply.texts
    assert "پیش‌نمایش برای خوانندگان فارسی‌زبان:" in texts
    assert FA in texts and EN in texts  # both previews, exactly as sent
    assert "۲۱ نفر" in texts[-1]  # twenty residents and Reza himself

    await reza.press("✅ ارسال فوری")
    statuses = await wait_until_announced(sessions, 1)
    assert statuses == {"sent": 21}
    received = per_chat(await client.sent())
    for resident in residents:
        assert received[resident.telegram_id] == 1
    english = next(r for r in residents if r.language == "en")
    assert plain((await client.messages(english.telegram_id, sender="bot"))[-1]) == EN

    await wait_until_delivered(sessions)  # the summary to Reza
    inbox = [plain(m) for m in await reza.inbox()]
    assert any(
        "اطلاعیهٔ شمارهٔ ۱ فرستاده شد" in text and "به ۲۱ نفر از ۲۱ نفر رسیده است" in text
        for text in inbox
    )
    progress = next(m for m in await reza.inbox() if "اطلاعیهٔ شمارهٔ ۱" in plain(m))
    assert progress["edited"] >= 1  # the «sending is starting» message, kept up to date
    assert "به ۲۱ نفر از ۲۱ نفر رسیده است." in plain(progress)
    assert "ناموفق" not in plain(progress)  # a count of nobody is not written out
    reply = await reza.send("/announcements")
    assert "به ۲۱ نفر از ۲۱ نفر رسیده است" in reply.text


async def test_posted_and_pinned_in_linked_group_chats(
    staff, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    chat = await client.create_chat("کارگروه سبز", "supergroup")
    await client.set_bot_status(chat["id"], by_user_id=reza.user_id, status="administrator")
    async with transaction(sessions) as session:
        session.add(
            Group(
                kind=GroupKind.WORKING_GROUP,
                name_fa="کارگروه سبز",
                name_en="Green",
                chat_id=chat["id"],
            )
        )
    await compose(reza)
    await reza.press("کمیتهٔ راهبری")
    reply = await reza.press("📌 انتشار و سنجاق در گروه‌های تلگرامی: خیر")
    assert "📌 انتشار و سنجاق در گروه‌های تلگرامی: بله" in [
        label for m in reply.messages for label in buttons(m)
    ]
    await reza.press("✅ ارسال فوری")
    assert await wait_until_announced(sessions, 1) == {"sent": 1}
    posted = (await client.messages(chat["id"], sender="bot"))[-1]
    assert FA in plain(posted) and EN in plain(posted)
    assert posted["pinned"]


async def test_skipped_english_and_a_photo(staff, bot: BotProcess, client, sessions) -> None:
    reza = await staff()
    residents = await seed_residents(sessions, client, 4)
    await reza.send("/announce")
    await reza.send(FA)
    await reza.press("رد شدن: همان متن فارسی")
    reply = await reza.send("not a photo")
    assert "عکس یا فایل بفرستید" in reply.text
    await client.send_message(reza.user_id, photo=b"\x89PNG fake garden photo")
    reply = await reza.press("ساکنان")
    previews = [m for m in reply.messages if m.get("photo")]
    assert len(previews) == 2 and all(plain(m) == FA for m in previews)
    await reza.press("✅ ارسال فوری")
    await wait_until_announced(sessions, 1)
    for resident in residents:
        last = (await client.messages(resident.telegram_id, sender="bot"))[-1]
        assert last["photo"] and plain(last) == FA  # English readers get the Persian text


async def test_targeted_audiences(staff, bot: BotProcess, client, sessions) -> None:
    reza = await staff()
    north = await seed_residents(sessions, client, 6, 200_000, area="شمال محله")
    youth = await seed_residents(sessions, client, 5, 300_000, tag="جوانان")
    await seed_residents(sessions, client, 7, 400_000)
    async with transaction(sessions) as session:
        group = Group(kind=GroupKind.WORKING_GROUP, name_fa="کارگروه سبز", name_en="Green")
        session.add(group)
        await session.flush()
        for resident in north[:2]:
            session.add(Membership(person_id=resident.person_id, group_id=group.id))
        await session.execute(
            update(Person).where(Person.id == north[5].person_id).values(opted_out_at=clock.now())
        )

    async def target(kind: str, choice: str) -> int:
        await compose(reza)
        await reza.press(kind)
        await reza.press(f"☐ {choice}")
        reply = await reza.press("تمام")
        # The previous announcement's progress message may be edited meanwhile: pick the count.
        count = next(text for text in reply.texts if "نفر فرستاده می‌شود" in text)
        return int("".join(c for c in count if c.isdigit()))

    assert await target("ساکنان محدوده‌های خاص…", "شمال محله") == 5  # one opted out
    await reza.press("✅ ارسال فوری")
    assert await target("ساکنان با برچسب‌های خاص…", "جوانان") == 5
    await reza.press("✅ ارسال فوری")
    assert await target("کارگروه‌ها…", "کارگروه سبز") == 2
    await reza.press("✅ ارسال فوری")
    for number in (1, 2, 3):
        await wait_until_announced(sessions, number)

    received = per_chat(await client.sent())
    assert {r.telegram_id for r in north[:5]} <= set(received)
    assert received[north[0].telegram_id] == 2  # the area and the working group
    assert north[5].telegram_id not in received  # opted out: nothing
    assert all(received[r.telegram_id] == 1 for r in youth)


async def test_scheduled_announcements_go_out_once_at_their_time(
    staff, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    residents = await seed_residents(sessions, client, 3)
    now = clock.now()
    in_an_hour = (now + timedelta(hours=1)).astimezone(TEHRAN)
    typed = in_an_hour.strftime("%Y-%m-%d %H:%M")

    await compose(reza)
    await reza.press("ساکنان")
    await reza.press("🕒 زمان‌بندی…")
    reply = await reza.send("۱۴۰۵/۱۲/۳۱ ۱۰:۰۰")
    assert "چنین روزی" in reply.text
    reply = await reza.send("۱۴۰۰/۰۱/۰۱ ۱۰:۰۰")
    assert "گذشته" in reply.text
    reply = await reza.send("فردا")
    assert "متوجه نشدم" in reply.text
    reply = await reza.send(typed)
    assert "زمان‌بندی شد" in reply.text

    await compose(reza, "این یکی لغو می‌شود", None)
    await reza.press("ساکنان")
    await reza.press("🕒 زمان‌بندی…")
    await reza.send(typed)
    reply = await reza.send("/announcements")
    await reza.press("✖ لغو شمارهٔ ۲")

    await bot.stop()  # the bot is down across the scheduled time
    clock.set_clock(lambda: datetime.now(UTC) + timedelta(hours=2))  # time moves on, later
    await bot.start()
    await wait_until_announced(sessions, 1)
    rows = await announcement_rows(sessions)
    assert [row.status for row in rows] == [AnnouncementStatus.DONE, AnnouncementStatus.CANCELLED]
    await wait_until_delivered(sessions)  # Reza's summary too
    received = per_chat(await client.sent())
    assert all(received[r.telegram_id] == 1 for r in residents)
    await bot.restart()
    await wait_until_delivered(sessions)
    assert per_chat(await client.sent()) == received  # nothing went out twice
    assert not any(
        "لغو می‌شود" in plain(action["message"])
        for action in await client.sent()
        if action["chat_id"] != reza.chat_id  # Reza saw it in the preview, nobody else
    )
    assert buttons(reply.messages[-1])  # the cancel button was offered


async def test_announce_from_the_command_line(
    bot: BotProcess, client, sessions, database_url: str, tmp_path
) -> None:
    residents = await seed_residents(sessions, client, 3)
    (tmp_path / "fa.txt").write_text(FA + "\n", encoding="utf-8")
    (tmp_path / "en.txt").write_text(EN, encoding="utf-8")
    env = dict(os.environ, DATABASE_URL=database_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "announce",
        "--fa",
        str(tmp_path / "fa.txt"),
        "--en",
        str(tmp_path / "en.txt"),
        "--audience",
        "residents",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    text = output.decode()
    assert process.returncode == 0, text
    assert "Announcement #1 for 3 people" in text
    assert "Sent 3, failed 0, unreachable 0, of 3." in text
    for resident in residents:
        last = plain((await client.messages(resident.telegram_id, sender="bot"))[-1])
        assert last == (EN if resident.language == "en" else FA)

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "announce",
        "--fa",
        str(tmp_path / "fa.txt"),
        "--at",
        "1400/01/01 10:00",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2 and "that moment has passed" in output.decode()


async def test_a_dash_leaves_a_language_out_as_in_every_bilingual_step(
    staff, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    await reza.send("/announce")
    await reza.send(FA)
    reply = await reza.send("-")  # the English: left out, not sent as «-»
    assert "بدون پیوست" in buttons(reply.messages[-1])
    await reza.press("بدون پیوست")
    reply = await reza.press("همه")
    assert "-" not in reply.texts and reply.texts.count(FA) == 2
    await reza.press("✅ ارسال فوری")

    await reza.send("/announce")
    reply = await reza.send("—")  # the Persian left out: English only
    assert "انگلیسی" in reply.text
    assert "رد شدن: همان متن فارسی" not in buttons(reply.messages[-1])
    reply = await reza.send("-")
    assert "دست‌کم به یک زبان" in reply.text
    await reza.send(EN)
    await reza.press("بدون پیوست")
    reply = await reza.press("همه")
    # Persian readers read the English (the line marks they get are not what is tested here).
    assert [text.lstrip(RLM) for text in reply.texts].count(EN) == 2
    await reza.press("✅ ارسال فوری")
    rows = await announcement_rows(sessions)
    assert [(row.text_fa, row.text_en) for row in rows] == [(FA, None), (None, EN)]


async def test_the_announcements_list_cuts_a_long_text_at_a_word_and_says_so(
    staff, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    long = "باغچهٔ محله کاشته شد و همسایه‌ها هر روز به درختان تازه آب می‌دهند"
    await compose(reza, long, None)
    await reza.press("همه")
    await reza.press("✅ ارسال فوری")
    await wait_until_announced(sessions, 1)
    reply = await reza.send("/announcements")
    shown = next(line for line in reply.text.split("\n") if line.startswith("باغچهٔ"))
    words = shown.removesuffix("…").split()
    assert shown.endswith("…") and words == long.split()[: len(words)]  # whole words only
