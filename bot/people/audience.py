"""Who receives something: everyone, residents, the steering committee, working groups, or
residents of some areas or with some tags (targeted engagement). Only people who agreed to the
privacy note and can be written to are ever counted.

Residents are everyone but the backbone staff, however they came (by /start or by a group's
invite link): staff run the initiative, the rest of its people live in the neighbourhood. The
README's table "Audiences" says the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.groups.models import Group, GroupKind, Membership
from bot.people.models import Person, PersonRole, PersonTag, Role


class AudienceKind(StrEnum):
    EVERYONE = "everyone"
    RESIDENTS = "residents"
    COMMITTEE = "committee"
    GROUPS = "groups"
    AREAS = "areas"
    TAGS = "tags"


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    group_ids: tuple[int, ...] = field(default=())
    areas: tuple[str, ...] = field(default=())
    tags: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "group_ids": list(self.group_ids),
            "areas": list(self.areas),
            "tags": list(self.tags),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        return cls(
            AudienceKind(data["kind"]),
            tuple(int(g) for g in data.get("group_ids") or ()),
            tuple(str(a) for a in data.get("areas") or ()),
            tuple(str(t) for t in data.get("tags") or ()),
        )


def reachable() -> Any:
    """People who may receive messages that are not replies."""
    return and_(
        Person.telegram_id.is_not(None),
        Person.consented_at.is_not(None),
        Person.opted_out_at.is_(None),
        Person.unreachable_at.is_(None),
    )


def _staff() -> Any:
    return Person.id.in_(select(PersonRole.person_id).where(PersonRole.role == Role.STAFF))


def _in_groups(kind: GroupKind) -> Any:
    return Person.id.in_(
        select(Membership.person_id)
        .join(Group, Group.id == Membership.group_id)
        .where(Group.kind == kind)
    )


def _residents() -> Any:
    return ~_staff()


def _conditions(audience: Audience) -> list[Any]:
    """Who is in the audience, besides being reachable."""
    match audience.kind:
        case AudienceKind.EVERYONE:
            return []
        case AudienceKind.RESIDENTS:
            return [_residents()]
        case AudienceKind.COMMITTEE:
            return [_in_groups(GroupKind.STEERING_COMMITTEE)]
        case AudienceKind.GROUPS:
            return [
                Person.id.in_(
                    select(Membership.person_id).where(Membership.group_id.in_(audience.group_ids))
                )
            ]
        case AudienceKind.AREAS:
            return [_residents(), Person.area.in_(audience.areas)]
        case AudienceKind.TAGS:
            return [
                _residents(),
                Person.id.in_(select(PersonTag.person_id).where(PersonTag.tag.in_(audience.tags))),
            ]


def recipients(audience: Audience) -> Select[tuple[int, int, str | None]]:
    """(person id, Telegram id, language) of everyone the audience reaches, each once."""
    return (
        select(Person.id, Person.telegram_id, Person.language)
        .where(reachable(), *_conditions(audience))
        .order_by(Person.id)
    )


async def count(session: AsyncSession, audience: Audience) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(recipients(audience).subquery())) or 0
    )


# Each person is shown under one role, the first of these they hold, so the counts add up.
SHOWN_ROLES = (Role.STAFF, Role.COMMITTEE, Role.MEMBER, Role.RESIDENT)
NAMES_UP_TO = 30  # an audience this small can be listed by name in its preview


def _shown_role() -> Any:
    return case(
        (_staff(), Role.STAFF.value),
        (_in_groups(GroupKind.STEERING_COMMITTEE), Role.COMMITTEE.value),
        (_in_groups(GroupKind.WORKING_GROUP), Role.MEMBER.value),
        else_=Role.RESIDENT.value,
    )


@dataclass(frozen=True)
class Composition:
    """Who an audience reaches: how many under each role, in SHOWN_ROLES order, and their names
    when there are at most NAMES_UP_TO of them (and they were asked for)."""

    by_role: dict[Role, int]
    names: dict[Role, list[str]] | None = None

    @property
    def total(self) -> int:
        return sum(self.by_role.values())


async def composition(
    session: AsyncSession, audience: Audience, *, with_names: bool = False
) -> Composition:
    people = (
        select(Person.display_name.label("name"), _shown_role().label("role"))
        .where(reachable(), *_conditions(audience))
        .subquery()
    )
    rows = (
        await session.execute(select(people.c.role, func.count()).group_by(people.c.role))
    ).all()
    found = {Role(role): int(n) for role, n in rows}
    by_role = {role: found[role] for role in SHOWN_ROLES if found.get(role)}
    if not with_names or sum(by_role.values()) > NAMES_UP_TO:
        return Composition(by_role)
    names: dict[Role, list[str]] = {role: [] for role in by_role}
    for name, role in await session.execute(select(people.c.name, people.c.role)):
        names[Role(role)].append(name or "—")
    return Composition(by_role, {role: sorted(listed) for role, listed in names.items()})


async def known_areas(session: AsyncSession) -> list[str]:
    rows = await session.scalars(
        select(Person.area).where(Person.area.is_not(None)).distinct().order_by(Person.area)
    )
    return [area for area in rows if area]


async def known_tags(session: AsyncSession) -> list[str]:
    rows = await session.scalars(select(PersonTag.tag).distinct().order_by(PersonTag.tag))
    return list(rows)
