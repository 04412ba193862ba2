"""When the progress digest goes, and what it holds (composed by the bot in each language)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from persiantools.jdatetime import JalaliDate
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, clock
from bot.i18n.format import TEHRAN
from bot.people.audience import Audience, recipients
from bot.reports import summary
from bot.reports.models import Digest, DigestFrequency

SENT_AT = time(9, 0)  # Tehran morning
SATURDAY = 5


def next_moment(frequency: DigestFrequency, after: datetime) -> datetime:
    """The next Saturday morning, or the next first morning of a Jalali month, after `after`."""
    day = after.astimezone(TEHRAN).date()
    while True:
        moment = datetime.combine(day, SENT_AT, TEHRAN)
        jalali = JalaliDate(day)
        due = day.weekday() == SATURDAY if frequency is DigestFrequency.WEEKLY else jalali.day == 1
        if due and moment > after:
            return moment
        day += timedelta(days=1)


async def current(session: AsyncSession) -> Digest | None:
    return await session.scalar(select(Digest).order_by(Digest.id).limit(1))


async def configure(
    session: AsyncSession,
    frequency: DigestFrequency | None,
    audience: Audience | None,
    actor_id: int | None,
) -> Digest | None:
    """Switch the digest on (or change it), or off with frequency None."""
    digest = await current(session)
    if frequency is None:
        if digest is not None:
            digest.next_at = None
        audit.record(session, actor_id, "digest.stop", "digest")
        return digest
    assert audience is not None
    if digest is None:
        digest = Digest(frequency=frequency.value, audience=audience.to_json())
        session.add(digest)
    digest.frequency, digest.audience = frequency.value, audience.to_json()
    digest.next_at = next_moment(frequency, clock.now())
    digest.updated_at = clock.now()
    audit.record(session, actor_id, "digest.set", "digest", frequency=frequency.value)
    await session.flush()
    return digest


@dataclass(frozen=True)
class DueDigest:
    moment: datetime  # the time it was due: part of each row's key, so it goes once
    report: summary.Report
    readers: list[tuple[int, int, str | None]]  # person id, Telegram id, language


async def due(session: AsyncSession, now: datetime) -> DueDigest | None:
    """The digest when its time has come: moved on to its next time at once (so it goes once,
    also across a restart), with the report for the period it covers and its readers."""
    digest = await current(session)
    if digest is None or digest.next_at is None or digest.next_at > now:
        return None
    moment = digest.next_at
    frequency = DigestFrequency(digest.frequency)
    since = digest.last_sent_at or (
        now - (timedelta(days=7) if frequency is DigestFrequency.WEEKLY else timedelta(days=31))
    )
    report = await summary.build(session, since, now)
    readers = (await session.execute(recipients(Audience.from_json(digest.audience)))).all()
    digest.last_sent_at, digest.next_at = now, next_moment(frequency, now)
    return DueDigest(moment, report, [tuple(row) for row in readers])
