"""Creating groups, inviting people into them and linking them to Telegram group chats."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.groups.models import Group, GroupKind, Membership
from bot.i18n.normalize import normalize_text
from bot.people.models import Person

NAME_MAX = 64
INVITE_PREFIX = "g"  # deep-link payloads are [A-Za-z0-9_-]{1,64}; the prefix names the kind


class GroupProblem(StrEnum):
    NAME_EMPTY = "name_empty"
    NAME_TOO_LONG = "name_too_long"
    COMMITTEE_EXISTS = "committee_exists"
    NOT_FOUND = "not_found"


class GroupError(Exception):
    def __init__(self, problem: GroupProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class JoinOutcome(StrEnum):
    JOINED = "joined"
    ALREADY_MEMBER = "already_member"
    INVALID_CODE = "invalid_code"


@dataclass(frozen=True)
class GroupSummary:
    group: Group
    member_count: int


def clean_name(raw: str) -> str:
    """A group name as it will be stored, or GroupError saying what is wrong with it."""
    name = " ".join(normalize_text(raw).split())
    if not name:
        raise GroupError(GroupProblem.NAME_EMPTY)
    if len(name) > NAME_MAX:
        raise GroupError(GroupProblem.NAME_TOO_LONG)
    return name


async def get(session: AsyncSession, group_id: int) -> Group:
    group = await session.get(Group, group_id)
    if group is None:
        raise GroupError(GroupProblem.NOT_FOUND)
    return group


async def create(
    session: AsyncSession, kind: GroupKind, name_fa: str, name_en: str, actor_id: int | None
) -> Group:
    if kind is GroupKind.STEERING_COMMITTEE and await session.scalar(
        select(Group.id).where(Group.kind == GroupKind.STEERING_COMMITTEE)
    ):
        raise GroupError(GroupProblem.COMMITTEE_EXISTS)
    group = Group(kind=kind, name_fa=clean_name(name_fa), name_en=clean_name(name_en))
    session.add(group)
    await session.flush()
    audit.record(
        session,
        actor_id,
        "group.create",
        f"group:{group.id}",
        kind=kind.value,
        name_fa=group.name_fa,
        name_en=group.name_en,
    )
    return group


async def rename(
    session: AsyncSession, group_id: int, name_fa: str, name_en: str, actor_id: int | None
) -> Group:
    group = await get(session, group_id)
    before = {"name_fa": group.name_fa, "name_en": group.name_en}
    group.name_fa, group.name_en = clean_name(name_fa), clean_name(name_en)
    audit.record(
        session,
        actor_id,
        "group.rename",
        f"group:{group.id}",
        before=before,
        name_fa=group.name_fa,
        name_en=group.name_en,
    )
    await session.flush()
    return group


async def summaries(session: AsyncSession) -> list[GroupSummary]:
    """Every group with its member count, the steering committee first."""
    counts = (
        select(Membership.group_id, func.count().label("members"))
        .group_by(Membership.group_id)
        .subquery()
    )
    rows = await session.execute(
        select(Group, func.coalesce(counts.c.members, 0))
        .outerjoin(counts, counts.c.group_id == Group.id)
        .order_by(Group.kind.desc(), Group.id)
    )
    return [GroupSummary(group, members) for group, members in rows]


async def members(session: AsyncSession, group_id: int) -> list[Person]:
    result = await session.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.group_id == group_id)
        .order_by(Membership.joined_at, Person.id)
    )
    return list(result)


async def new_invite(session: AsyncSession, group_id: int, actor_id: int | None) -> str:
    """A fresh invite code; the previous one, if any, stops working."""
    group = await get(session, group_id)
    group.invite_code = INVITE_PREFIX + secrets.token_urlsafe(12)
    audit.record(session, actor_id, "group.invite.create", f"group:{group.id}")
    await session.flush()
    return group.invite_code


async def revoke_invite(session: AsyncSession, group_id: int, actor_id: int | None) -> None:
    group = await get(session, group_id)
    group.invite_code = None
    audit.record(session, actor_id, "group.invite.revoke", f"group:{group.id}")
    await session.flush()


async def group_for_invite(session: AsyncSession, code: str) -> Group | None:
    if not code.startswith(INVITE_PREFIX):
        return None
    return await session.scalar(select(Group).where(Group.invite_code == code))


async def join(
    session: AsyncSession, person: Person, code: str
) -> tuple[JoinOutcome, Group | None]:
    group = await group_for_invite(session, code)
    if group is None:
        return JoinOutcome.INVALID_CODE, None
    if await session.get(Membership, (person.id, group.id)):
        return JoinOutcome.ALREADY_MEMBER, group
    session.add(Membership(person_id=person.id, group_id=group.id))
    await session.flush()
    return JoinOutcome.JOINED, group


async def remove_member(
    session: AsyncSession, group_id: int, person_id: int, actor_id: int | None
) -> bool:
    membership = await session.get(Membership, (person_id, group_id))
    if membership is None:
        return False
    await session.delete(membership)
    audit.record(session, actor_id, "group.member.remove", f"group:{group_id}", person_id=person_id)
    await session.flush()
    return True


async def for_chat(session: AsyncSession, chat_id: int) -> Group | None:
    return await session.scalar(select(Group).where(Group.chat_id == chat_id))


async def link_chat(
    session: AsyncSession, group_id: int, chat_id: int, actor_id: int | None
) -> Group:
    """Link a Telegram group chat to a group; a chat serves one group at a time."""
    group = await get(session, group_id)
    await session.execute(update(Group).where(Group.chat_id == chat_id).values(chat_id=None))
    group.chat_id = chat_id
    audit.record(session, actor_id, "group.link", f"group:{group.id}", chat_id=chat_id)
    await session.flush()
    return group


async def unlink_chat(session: AsyncSession, chat_id: int, actor_id: int | None) -> Group | None:
    group = await for_chat(session, chat_id)
    if group is not None:
        group.chat_id = None
        audit.record(session, actor_id, "group.unlink", f"group:{group.id}", chat_id=chat_id)
        await session.flush()
    return group


async def follow_chat_migration(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> None:
    """A group chat upgraded to a supergroup gets a new id; the link follows it."""
    await session.execute(
        update(Group).where(Group.chat_id == old_chat_id).values(chat_id=new_chat_id)
    )


async def by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Group]:
    """The groups with these ids (for naming them in figures), by id."""
    rows = await session.scalars(select(Group).where(Group.id.in_(list(ids))))
    return {group.id: group for group in rows}
