"""What can happen to a person: arriving, choosing a language, consenting, leaving, roles."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, clock, conversations
from bot.announcements.models import Announcement
from bot.background import service as background
from bot.checkins import service as checkins
from bot.delivery import outbox
from bot.groups.models import Group, GroupKind, Membership
from bot.i18n.normalize import normalize_text
from bot.people.models import GRANTED_ROLES, Person, PersonRole, PersonTag, Role
from bot.polls.models import PollVote
from bot.surveys import service as surveys

_ROLE_OF_GROUP_KIND = {
    GroupKind.WORKING_GROUP: Role.MEMBER,
    GroupKind.STEERING_COMMITTEE: Role.COMMITTEE,
}


class OnboardingStep(StrEnum):
    LANGUAGE = "language"
    CONSENT = "consent"
    DONE = "done"


def onboarding_step(person: Person) -> OnboardingStep:
    """Where a person is in onboarding, read from what is stored (so a restart loses nothing)."""
    if person.language is None:
        return OnboardingStep.LANGUAGE
    if person.consented_at is None:
        return OnboardingStep.CONSENT
    return OnboardingStep.DONE


def _new_person(session: AsyncSession, telegram_id: int) -> Person:
    # Empty collections up front: loading them lazily later is not possible under asyncio.
    person = Person(telegram_id=telegram_id, role_grants=[], tag_links=[])
    session.add(person)
    return person


async def loaded(session: AsyncSession, person: Person, *collections: str) -> Person:
    """The person with their role grants or tag links ("role_grants", "tag_links") loaded."""
    unloaded = [name for name in collections if name in inspect(person).unloaded]
    if unloaded:
        await session.refresh(person, unloaded)
    return person


# The roles granted to a person and the kinds of their groups, as "a,b" strings, read with
# the person: every update needs both, and one statement is cheaper than three.
_GRANTED = (
    select(func.aggregate_strings(PersonRole.role, ","))
    .where(PersonRole.person_id == Person.id)
    .scalar_subquery()
)
_GROUP_KINDS = (
    select(func.aggregate_strings(Group.kind, ","))
    .join(Membership, Membership.group_id == Group.id)
    .where(Membership.person_id == Person.id)
    .scalar_subquery()
)


def _roles(granted: str | None, group_kinds: str | None) -> frozenset[Role]:
    derived = {
        _ROLE_OF_GROUP_KIND[GroupKind(kind)] for kind in (group_kinds or "").split(",") if kind
    }
    return frozenset({Role(role) for role in (granted or "").split(",") if role} | derived)


async def find(session: AsyncSession, telegram_id: int) -> Person | None:
    return await session.scalar(select(Person).where(Person.telegram_id == telegram_id))


# Built once: for a statement this size, building it anew costs more than running it.
_WITH_ROLES = select(Person, _GRANTED, _GROUP_KINDS).where(
    Person.telegram_id == bindparam("telegram_id")
)


async def find_with_roles(
    session: AsyncSession, telegram_id: int
) -> tuple[Person | None, frozenset[Role]]:
    row = (await session.execute(_WITH_ROLES, {"telegram_id": telegram_id})).first()
    return (None, frozenset()) if row is None else (row[0], _roles(row[1], row[2]))


async def with_more_than_everyone(
    session: AsyncSession,
) -> list[tuple[Person, frozenset[Role]]]:
    """People who can be written to and whose roles give them more than everyone has: staff,
    and members of a working group or the steering committee."""
    rows = await session.execute(
        select(Person, _GRANTED, _GROUP_KINDS).where(
            Person.telegram_id.is_not(None),
            or_(
                Person.id.in_(select(PersonRole.person_id).where(PersonRole.role == Role.STAFF)),
                Person.id.in_(select(Membership.person_id)),
            ),
        )
    )
    return [(person, _roles(granted, kinds)) for person, granted, kinds in rows]


async def arrive(
    session: AsyncSession, telegram_id: int, display_name: str, username: str | None
) -> tuple[Person, frozenset[Role]]:
    """The person behind a private update and their roles; created on first contact and
    kept up to date."""
    person, roles = await find_with_roles(session, telegram_id)
    if person is None:
        person = _new_person(session, telegram_id)
    # Set only when changed: an unchanged person then costs the update no flush.
    display_name = display_name[:128]
    if person.display_name != display_name:
        person.display_name = display_name
    if person.username != username:
        person.username = username
    if person.id is None:
        await session.flush()
    return person, roles


def choose_language(person: Person, language: str) -> None:
    person.language = language


def consent(person: Person) -> None:
    if person.consented_at is None:
        person.consented_at = clock.now()


def opt_out(person: Person) -> None:
    person.opted_out_at = clock.now()


def mark_unreachable(person: Person) -> None:
    """Telegram said 403: the person blocked the bot. Nothing is sent until they come back."""
    if person.unreachable_at is None:
        person.unreachable_at = clock.now()


def mark_reachable(person: Person) -> None:
    person.unreachable_at = None


def opt_in(person: Person) -> None:
    """/start after /stop, or after having blocked the bot: the person can be reached again."""
    person.opted_out_at = None
    mark_reachable(person)


async def forget(session: AsyncSession, person: Person) -> list[int]:
    """Delete what identifies the person and what they typed; their row stays, anonymous, under
    the figures they gave (participation, numbers, choices, RSVPs, indicator values, reach).
    Returns the closed check-in rounds they took part in: the caller composes the summaries
    stored for those again, as the database now stands."""
    telegram_id = person.telegram_id
    await session.execute(delete(Membership).where(Membership.person_id == person.id))
    await audit.forget(session, person.id)
    await outbox.forget_recipient(session, person.id, telegram_id)
    await background.forget(session, person.id)
    await surveys.forget(session, person.id)
    rounds = await checkins.forget(session, person.id)
    if telegram_id is not None:
        await conversations.forget(session, telegram_id)
        # votes stay counted, under the anonymous row
        await session.execute(
            update(PollVote)
            .where(PollVote.voter_telegram_id == telegram_id)
            .values(voter_telegram_id=-person.id, person_id=person.id)
        )
        await session.execute(
            update(Announcement)
            .where(Announcement.progress_chat_id == telegram_id)
            .values(progress_chat_id=None, progress_message_id=None)
        )
    await loaded(session, person, "role_grants", "tag_links")
    person.role_grants.clear()
    person.tag_links.clear()
    person.telegram_id = None
    person.display_name = None
    person.username = None
    person.area = None
    person.language = None
    person.forgotten_at = clock.now()
    await session.flush()
    return rounds


async def roles_of(session: AsyncSession, person: Person) -> frozenset[Role]:
    """Every role a person holds: the ones granted to them and the ones their groups give."""
    row = (
        await session.execute(
            select(_GRANTED, _GROUP_KINDS).select_from(Person).where(Person.id == person.id)
        )
    ).one()
    return _roles(row[0], row[1])


async def grant(session: AsyncSession, person: Person, role: Role) -> bool:
    if role not in GRANTED_ROLES:
        raise ValueError(f"{role} follows from group membership and cannot be granted")
    await loaded(session, person, "role_grants")
    if any(existing.role == role for existing in person.role_grants):
        return False
    person.role_grants.append(PersonRole(role=role))
    return True


async def revoke(session: AsyncSession, person: Person, role: Role) -> bool:
    await loaded(session, person, "role_grants")
    for existing in person.role_grants:
        if existing.role == role:
            person.role_grants.remove(existing)
            return True
    return False


async def add_staff(session: AsyncSession, telegram_id: int, actor_id: int | None) -> Person:
    """Make someone backbone staff, even before they have started the bot."""
    person = await find(session, telegram_id)
    if person is None:
        person = _new_person(session, telegram_id)
        await session.flush()
    if await grant(session, person, Role.STAFF):
        audit.record(session, actor_id, "staff.add", f"person:{person.id}", telegram_id=telegram_id)
    await session.flush()
    return person


class StaffRemoval(StrEnum):
    REMOVED = "removed"
    NOT_STAFF = "not_staff"
    LAST_ACTIVE = "last_active"  # they are the last staff member who can use the bot


def _active() -> Any:
    """Staff who can act in the bot: they have started it and agreed to the privacy note."""
    return and_(
        Person.telegram_id.is_not(None),
        Person.consented_at.is_not(None),
    )


async def _staff_grants(session: AsyncSession) -> list[tuple[int, bool]]:
    """(Telegram id, active) of every staff member, with their grants locked on PostgreSQL, so
    two staff removing each other at once cannot both pass the last-one check."""
    rows = await session.execute(
        select(Person.telegram_id, _active())
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == Role.STAFF)
        .with_for_update(of=PersonRole)
    )
    return [(telegram_id, bool(active)) for telegram_id, active in rows]


async def active_staff_count(session: AsyncSession) -> int:
    return sum(active for _telegram_id, active in await _staff_grants(session))


async def can_remove_staff(session: AsyncSession, telegram_id: int) -> StaffRemoval:
    """Whether the bot may take this person's staff role: never from the last staff member who
    has started the bot, or nobody could manage Hamgam from Telegram any more."""
    grants = await _staff_grants(session)
    if not any(staff_id == telegram_id for staff_id, _active_ in grants):
        return StaffRemoval.NOT_STAFF
    others_active = sum(active for staff_id, active in grants if staff_id != telegram_id)
    return StaffRemoval.REMOVED if others_active else StaffRemoval.LAST_ACTIVE


async def remove_staff(
    session: AsyncSession, telegram_id: int, actor_id: int | None, *, keep_one_active: bool = True
) -> StaffRemoval:
    """Take the staff role away. The bot keeps one active staff member (`keep_one_active`);
    the shell operator, who can always add staff again, may remove anyone."""
    if keep_one_active:
        verdict = await can_remove_staff(session, telegram_id)
        if verdict is not StaffRemoval.REMOVED:
            return verdict
    person = await find(session, telegram_id)
    if person is None or not await revoke(session, person, Role.STAFF):
        return StaffRemoval.NOT_STAFF
    audit.record(session, actor_id, "staff.remove", f"person:{person.id}", telegram_id=telegram_id)
    await session.flush()
    return StaffRemoval.REMOVED


async def staff(session: AsyncSession) -> list[Person]:
    result = await session.scalars(
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == Role.STAFF)
        .order_by(Person.id)
    )
    return list(result)


async def describe(
    session: AsyncSession,
    telegram_id: int,
    area: str | None,
    add_tags: tuple[str, ...],
    remove_tags: tuple[str, ...],
    actor_id: int | None,
) -> Person | None:
    """Set a person's neighbourhood area and tags, for targeted engagement."""
    person = await find(session, telegram_id)
    if person is None:
        return None
    await loaded(session, person, "tag_links")
    if area is not None:
        person.area = " ".join(normalize_text(area).split())[:64] or None
    wanted = {" ".join(normalize_text(tag).split())[:32] for tag in add_tags} - {""}
    unwanted = {normalize_text(tag) for tag in remove_tags}
    person.tag_links = [link for link in person.tag_links if link.tag not in unwanted]
    present = {link.tag for link in person.tag_links}
    person.tag_links += [PersonTag(tag=tag) for tag in sorted(wanted - present)]
    audit.record(
        session,
        actor_id,
        "person.describe",
        f"person:{person.id}",
        area=person.area,
        tags=person.tags,
    )
    await session.flush()
    return person


async def names_of(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    """Display names by person id (people who used /forget have none)."""
    wanted = {person_id for person_id in ids if person_id is not None}
    rows = await session.execute(
        select(Person.id, Person.display_name).where(Person.id.in_(wanted))
    )
    return {person_id: name or "—" for person_id, name in rows}
