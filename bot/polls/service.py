"""Quick polls: posting (rows for the outbox are the caller's), votes, closing on time.

Closing is a status change plus one stopPoll row per sent poll message, all in one
transaction, so a restart neither misses a close nor stops a poll twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, clock
from bot.db import upsert
from bot.delivery import outbox
from bot.delivery.content import Content
from bot.delivery.models import Delivery, DeliveryStatus
from bot.groups.models import Group
from bot.people.audience import Audience, recipients
from bot.people.models import Person
from bot.polls.models import PollStatus, PollTarget, PollVote, QuickPoll

MAX_OPTIONS = 10


@dataclass(frozen=True)
class Destination:
    chat_id: int
    person_id: int | None  # None for a group chat


async def create(
    session: AsyncSession,
    *,
    question: dict[str, str],
    options: list[dict[str, str]],
    multiple: bool,
    target: PollTarget,
    audience: Audience | None,
    closes_at: datetime,
    author_id: int | None,
) -> tuple[QuickPoll, list[Destination]]:
    """The poll and where it goes: every linked group chat, or each person of the audience."""
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise ValueError("a poll has two to ten options")
    poll = QuickPoll(
        author_id=author_id,
        question=question,
        options=options,
        multiple=multiple,
        target=target.value,
        audience=audience.to_json() if audience else None,
        status=PollStatus.OPEN.value,
        closes_at=closes_at,
        created_at=clock.now(),
    )
    session.add(poll)
    await session.flush()
    if target is PollTarget.CHATS:
        chats = await session.scalars(select(Group.chat_id).where(Group.chat_id.is_not(None)))
        destinations = [Destination(chat_id, None) for chat_id in chats if chat_id is not None]
    else:
        assert audience is not None
        rows = await session.execute(recipients(audience))
        destinations = [Destination(telegram_id, pid) for pid, telegram_id, _lang in rows]
    audit.record(
        session,
        author_id,
        "poll.create",
        f"poll:{poll.id}",
        sent_to=target.value,
        destinations=len(destinations),
    )
    return poll, destinations


async def poll_of(session: AsyncSession, telegram_poll_id: str) -> QuickPoll | None:
    """Our poll behind one of Telegram's (each sent message has its own Telegram poll)."""
    batch = await session.scalar(
        select(Delivery.batch).where(Delivery.poll_id == telegram_poll_id).limit(1)
    )
    if batch is None or not batch.startswith("poll:"):
        return None
    return await session.get(QuickPoll, int(batch.split(":")[1]))


async def vote(
    session: AsyncSession, telegram_poll_id: str, voter_telegram_id: int, options: list[int]
) -> QuickPoll | None:
    """Stores (or, with no options, withdraws) a vote; None when the poll is not ours or closed."""
    poll = await poll_of(session, telegram_poll_id)
    if poll is None or poll.status != PollStatus.OPEN:
        return None
    chosen = sorted({option for option in options if 0 <= option < len(poll.options)})
    if not chosen:
        await session.execute(
            delete(PollVote).where(
                PollVote.poll_id == poll.id, PollVote.voter_telegram_id == voter_telegram_id
            )
        )
        return poll
    person_id = await session.scalar(
        select(Person.id).where(Person.telegram_id == voter_telegram_id)
    )
    now = clock.now()
    await session.execute(
        upsert(session, PollVote)
        .values(
            poll_id=poll.id,
            voter_telegram_id=voter_telegram_id,
            person_id=person_id,
            options=chosen,
            voted_at=now,
        )
        .on_conflict_do_update(
            index_elements=["poll_id", "voter_telegram_id"],
            set_={"options": chosen, "voted_at": now, "person_id": person_id},
        )
    )
    return poll


async def close_due(session: AsyncSession, now: datetime) -> list[QuickPoll]:
    """Polls past their closing time: closed once, each sent poll message stopped through the
    outbox; copies not sent yet are not sent at all."""
    due = (
        await session.scalars(
            select(QuickPoll).where(QuickPoll.status == PollStatus.OPEN, QuickPoll.closes_at <= now)
        )
    ).all()
    for poll in due:
        await close(session, poll, now)
    return list(due)


async def close(
    session: AsyncSession, poll: QuickPoll, now: datetime, actor_id: int | None = None
) -> None:
    poll.status, poll.closed_at = PollStatus.CLOSED.value, now
    await outbox.cancel(session, poll.batch)
    sent = await session.execute(
        select(Delivery.id, Delivery.chat_id, Delivery.message_id, Delivery.person_id).where(
            Delivery.batch == poll.batch,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.message_id.is_not(None),
            Delivery.poll_id.is_not(None),
        )
    )
    await outbox.enqueue(
        session,
        [
            outbox.Outgoing(
                f"{poll.batch}:{delivery_id}:stop",
                chat_id,
                Content(text={}, stops_poll=message_id),
                person_id=person_id,
                batch=f"{poll.batch}:stop",
            )
            for delivery_id, chat_id, message_id, person_id in sent
        ],
    )
    if actor_id is not None:
        audit.record(session, actor_id, "poll.close", f"poll:{poll.id}")
    await session.flush()


@dataclass(frozen=True)
class Tally:
    poll: QuickPoll
    voters: int
    counts: list[int]  # per option
    names: list[list[str]]  # per option: voters known by name


async def tally(session: AsyncSession, poll: QuickPoll) -> Tally:
    counts: Counter[int] = Counter()
    names: list[list[str]] = [[] for _ in poll.options]
    voters = 0
    for options, name in await session.execute(
        select(PollVote.options, Person.display_name)
        .outerjoin(Person, Person.id == PollVote.person_id)
        .where(PollVote.poll_id == poll.id)
        .order_by(PollVote.voted_at)
    ):
        voters += 1
        for option in options:
            if 0 <= option < len(poll.options):
                counts[option] += 1
                if name:
                    names[option].append(name)
    return Tally(poll, voters, [counts[i] for i in range(len(poll.options))], names)


async def recent(session: AsyncSession, limit: int = 10) -> list[QuickPoll]:
    return list(
        (await session.scalars(select(QuickPoll).order_by(QuickPoll.id.desc()).limit(limit))).all()
    )
