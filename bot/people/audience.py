"""Who receives something: everyone, residents, the steering committee, working groups, or
residents of some areas or with some tags (targeted engagement). Only people who agreed to the
privacy note and can be written to are ever counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, func, select
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


def _residents() -> Any:
    return Person.id.in_(select(PersonRole.person_id).where(PersonRole.role == Role.RESIDENT))


def recipients(audience: Audience) -> Select[tuple[int, int, str | None]]:
    """(person id, Telegram id, language) of everyone the audience reaches, each once."""
    query = select(Person.id, Person.telegram_id, Person.language).where(reachable())
    match audience.kind:
        case AudienceKind.EVERYONE:
            pass
        case AudienceKind.RESIDENTS:
            query = query.where(_residents())
        case AudienceKind.COMMITTEE:
            query = query.where(
                Person.id.in_(
                    select(Membership.person_id)
                    .join(Group, Group.id == Membership.group_id)
                    .where(Group.kind == GroupKind.STEERING_COMMITTEE)
                )
            )
        case AudienceKind.GROUPS:
            query = query.where(
                Person.id.in_(
                    select(Membership.person_id).where(Membership.group_id.in_(audience.group_ids))
                )
            )
        case AudienceKind.AREAS:
            query = query.where(_residents(), Person.area.in_(audience.areas))
        case AudienceKind.TAGS:
            query = query.where(
                _residents(),
                Person.id.in_(select(PersonTag.person_id).where(PersonTag.tag.in_(audience.tags))),
            )
    return query.order_by(Person.id)


async def count(session: AsyncSession, audience: Audience) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(recipients(audience).subquery())) or 0
    )


async def known_areas(session: AsyncSession) -> list[str]:
    rows = await session.scalars(
        select(Person.area).where(Person.area.is_not(None)).distinct().order_by(Person.area)
    )
    return [area for area in rows if area]


async def known_tags(session: AsyncSession) -> list[str]:
    rows = await session.scalars(select(PersonTag.tag).distinct().order_by(PersonTag.tag))
    return list(rows)
