"""Backbone staff set up groups and invite links; residents join; roles are enforced."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit.models import AuditEntry
from bot.groups.models import Group, Membership
from bot.people.models import Person as PersonRow
from bot.people.models import Role
from tests.e2e.harness import buttons, granted, plain

INVITE = re.compile(r"https://t\.me/(\w+)\?start=([\w-]+)")


async def count(session: AsyncSession, model: type) -> int:
    session.expire_all()
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def create_group(staff_member, name_fa: str, name_en: str) -> str:
    """Creates a working group through the bot and returns its invite code."""
    await staff_member.send("/newgroup")
    await staff_member.send(name_fa)
    reply = await staff_member.send(name_en)
    assert "ساخته شد" in reply.text
    reply = await staff_member.press("🔗 لینک دعوت تازه")
    match = INVITE.search(reply.text)
    assert match, reply.text
    assert match.group(1) == "hamgam_sandbox_bot"
    return match.group(2)


async def test_staff_create_a_group_and_a_resident_joins_by_invite_link(
    staff, person, session
) -> None:
    reza = await staff()
    code = await create_group(reza, "کارگروه فضای سبز", "Green spaces")

    sara = await person("Sara", "en")
    reply = await sara.send(f"/start {code}")
    assert "Please choose your language" in reply.text
    await sara.press("English")
    reply = await sara.press("✅ I agree")
    assert "You have joined «Green spaces»" in reply.text

    row = await session.scalar(select(PersonRow).where(PersonRow.telegram_id == sara.user_id))
    assert row is not None
    assert list(await session.scalars(granted(row))) == []  # a member, not a resident
    assert await count(session, Membership) == 1

    reply = await reza.press("👤 اعضا")
    assert "Sara" in reply.text

    reply = await sara.send(f"/start {code}")
    assert "already a member of «Green spaces»" in reply.text
    assert await count(session, Membership) == 1

    actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert actions[-2:] == ["group.create", "group.invite.create"]


async def test_an_onboarded_resident_joins_at_once_and_a_revoked_link_fails(
    staff, resident, session
) -> None:
    reza = await staff()
    code = await create_group(reza, "کارگروه آموزش", "Education")
    maryam = await resident()
    reply = await maryam.send(f"/start {code}")
    assert "عضو «کارگروه آموزش» شدید" in reply.text

    await reza.press("🚫 باطل کردن لینک دعوت")
    neda = await resident("ندا")
    reply = await neda.send(f"/start {code}")
    assert "این لینک دعوت دیگر معتبر نیست" in reply.text
    assert await count(session, Membership) == 1


async def test_a_resident_trying_staff_commands_is_refused_in_their_language(
    resident, staff, session
) -> None:
    await staff()
    maryam = await resident()
    john = await resident("John", "en", "English")
    groups_before = await count(session, Group)
    for command in ("/groups", "/newgroup", "/staff", "/announce", "/announcements"):
        reply = await maryam.send(command)
        assert reply.text == "این کار فقط در اختیار کارکنان سازمان پشتیبان است.", command
        reply = await john.send(command)
        assert reply.text == "Only the backbone staff can do that.", command
    # Pressing a staff button by its data does not help either.
    for data in (
        "grp:new_wg:0",
        "grp:open:1",
        "grp:invite:1",
        "staff:add:0:",
        "menu:groups",
        "ann:cancel:1",
    ):
        reply = await maryam.tap(data, (await maryam.last())["message_id"])
        assert reply.answer and "کارکنان سازمان پشتیبان" in reply.answer["text"], data
    reply = await maryam.send("نام تازه")
    assert "متوجه نشدم" in reply.text
    assert await count(session, Group) == groups_before
    denied = await session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "denied")
    )
    assert denied == 16


async def test_staff_link_a_group_chat_and_the_link_follows_a_migration(
    staff, resident, client, session
) -> None:
    reza = await staff()
    await create_group(reza, "کارگروه ایمنی", "Safety")
    maryam = await resident()
    chat = await client.create_chat(type="group", title="ایمنی محله")
    added = await client.set_bot_status(chat["id"], by_user_id=reza.user_id, status="member")
    greeting = [a for a in added["actions"] if a["method"] == "sendMessage"]
    assert greeting and "/link" in plain(greeting[0]["message"])

    reply = await maryam.send("/link", chat_id=chat["id"])
    assert "کارکنان سازمان پشتیبان" in reply.text
    reply = await reza.send("/link", chat_id=chat["id"])
    assert buttons(reply.messages[-1]) == ["کارگروه ایمنی"]
    reply = await maryam.press("کارگروه ایمنی", chat_id=chat["id"])
    assert reply.answer and "کارکنان" in reply.answer["text"]
    reply = await reza.press("کارگروه ایمنی", chat_id=chat["id"])
    assert "این گفتگو اکنون به «کارگروه ایمنی» متصل است" in reply.text

    group = await session.scalar(select(Group))
    assert group is not None and group.chat_id == chat["id"]

    migrated = await client.migrate_chat(chat["id"])
    session.expire_all()
    group = await session.scalar(select(Group))
    assert group is not None and group.chat_id == migrated["id"]

    await client.set_bot_status(migrated["id"], by_user_id=reza.user_id, status="kicked")
    session.expire_all()
    assert (await session.scalar(select(Group))).chat_id is None


async def test_staff_add_staff_by_id_typed_in_persian_digits(staff, resident, session) -> None:
    reza = await staff()
    neda = await resident("ندا")
    await reza.send("/staff")
    await reza.press("➕ افزودن کارمند")
    reply = await reza.send("شناسه")
    assert "این شناسهٔ تلگرام نیست" in reply.text
    digits = str(neda.user_id).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    reply = await reza.send(digits)
    assert "به کارکنان سازمان پشتیبان اضافه شد" in reply.text
    reply = await neda.send("/groups")
    assert "هنوز هیچ گروهی" in reply.text

    await reza.press(f"✖ {neda.first_name}")
    reply = await reza.press("✔ بله، حذف شود")
    assert reply.answer and "حذف شد" in reply.answer["text"]
    reply = await neda.send("/groups")
    assert "در اختیار کارکنان سازمان پشتیبان است" in reply.text
    row = await session.scalar(select(PersonRow).where(PersonRow.telegram_id == reza.user_id))
    assert row is not None and Role.STAFF in list(await session.scalars(granted(row)))


async def test_bad_group_names_are_refused_and_nothing_is_stored(staff, session) -> None:
    reza = await staff()
    await reza.send("/newgroup")
    reply = await reza.send("\u200f\u200e\u202b")
    assert "نام خالی است" in reply.text
    reply = await reza.send("ب" * 5000)
    assert "خیلی بلند است" in reply.text
    assert "۶۴" in reply.text
    reply = await reza.send("<b>کارگروه</b> & «نان»")
    assert "نام انگلیسی" in reply.text
    reply = await reza.send("/cancel")
    assert "لغو شد" in reply.text
    assert await count(session, Group) == 0

    await reza.send("/newgroup")
    await reza.send("كارگروه يك ٣")  # Arabic letters and digits, as some keyboards type them
    await reza.send("Group <one>")
    group = await session.scalar(select(Group))
    assert group is not None
    assert group.name_fa == "کارگروه یک ۳"
    assert group.name_en == "Group <one>"


async def test_staff_rename_a_group_and_remove_a_member(staff, resident, session) -> None:
    reza = await staff()
    code = await create_group(reza, "کارگروه آب", "Water")
    maryam = await resident()
    await maryam.send(f"/start {code}")
    await reza.press("✏️ تغییر نام")
    await reza.send("کارگروه آب و فاضلاب")
    reply = await reza.send("Water and sewage")
    assert "نام تغییر کرد" in reply.text
    assert "کارگروه آب و فاضلاب" in reply.text and "Water and sewage" in reply.text
    group = await session.scalar(select(Group))
    assert group is not None and group.name_en == "Water and sewage"

    await reza.press("👤 اعضا")
    reply = await reza.press("✖ مریم")
    assert reply.answer and reply.answer["text"] == "حذف شد."
    assert "هنوز عضوی ندارد" in reply.text
    assert await count(session, Membership) == 0
    actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert actions[-2:] == ["group.rename", "group.member.remove"]
