"""Indicators: defining them, reporting values for a period (corrections keep history), and
where each stands against its baseline and target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from persiantools.jdatetime import JalaliDate
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, clock
from bot.groups.models import Membership
from bot.i18n.format import TEHRAN
from bot.indicators.models import Direction, Frequency, Indicator, IndicatorValue, Source

SATURDAY = 5  # the Iranian week starts on Saturday


def period_start(frequency: Frequency, day: date) -> date:
    """The first day of the week (from Saturday), Jalali month or Jalali season holding `day`."""
    if frequency is Frequency.WEEKLY:
        return day - timedelta(days=(day.weekday() - SATURDAY) % 7)
    jalali = JalaliDate(day)
    month = jalali.month if frequency is Frequency.MONTHLY else (jalali.month - 1) // 3 * 3 + 1
    return JalaliDate(jalali.year, month, 1).to_gregorian()


def previous_period(frequency: Frequency, start: date) -> date:
    return period_start(frequency, start - timedelta(days=1))


def today() -> date:
    return clock.now().astimezone(TEHRAN).date()


async def create(
    session: AsyncSession,
    *,
    name: dict[str, str],
    description: dict[str, str],
    unit: dict[str, str],
    baseline: Decimal,
    target: Decimal,
    direction: Direction,
    frequency: Frequency,
    group_id: int | None,
    author_id: int | None,
) -> Indicator:
    if baseline == target:
        raise ValueError("the target differs from the baseline")
    indicator = Indicator(
        name=name,
        description=description,
        unit=unit,
        baseline=str(baseline),
        target=str(target),
        direction=direction.value,
        frequency=frequency.value,
        group_id=group_id,
        author_id=author_id,
        created_at=clock.now(),
    )
    session.add(indicator)
    await session.flush()
    audit.record(session, author_id, "indicator.create", f"indicator:{indicator.id}")
    return indicator


@dataclass(frozen=True)
class Reported:
    value: IndicatorValue
    replaced: Decimal | None  # the value it corrects, if the period had one


async def report(
    session: AsyncSession,
    indicator: Indicator,
    value: Decimal,
    *,
    period: date,
    source: Source,
    person_id: int | None,
) -> Reported:
    """A value for a period; a second one for the same period is a correction."""
    previous = await latest_for(session, indicator.id, period)
    row = IndicatorValue(
        indicator_id=indicator.id,
        period_start=period,
        value=str(value),
        source=source.value,
        reported_by=person_id,
        reported_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        person_id,
        "indicator.correct" if previous is not None else "indicator.report",
        f"indicator:{indicator.id}",
        period=period.isoformat(),
        value=str(value),
    )
    return Reported(row, Decimal(previous.value) if previous is not None else None)


async def latest_for(
    session: AsyncSession, indicator_id: int, period: date
) -> IndicatorValue | None:
    return await session.scalar(
        select(IndicatorValue)
        .where(IndicatorValue.indicator_id == indicator_id, IndicatorValue.period_start == period)
        .order_by(IndicatorValue.reported_at.desc(), IndicatorValue.id.desc())
        .limit(1)
    )


async def reportable_by(session: AsyncSession, person_id: int, staff: bool) -> list[Indicator]:
    """Indicators this person may report: those their groups own (staff: all of them)."""
    query = select(Indicator).order_by(Indicator.id)
    if not staff:
        query = query.where(
            Indicator.group_id.in_(
                select(Membership.group_id).where(Membership.person_id == person_id)
            )
        )
    return list((await session.scalars(query)).all())


async def reportable(
    session: AsyncSession, person_id: int, staff: bool, indicator_id: int
) -> Indicator | None:
    """The indicator if this person may report it now: it still exists and (but for staff)
    they are still a member of the group that owns it."""
    indicator = await session.get(Indicator, indicator_id)
    if indicator is None or staff:
        return indicator
    member = await session.get(Membership, (person_id, indicator.group_id or 0))
    return indicator if member is not None else None


async def all_indicators(session: AsyncSession) -> list[Indicator]:
    return list((await session.scalars(select(Indicator).order_by(Indicator.id))).all())


@dataclass(frozen=True)
class Standing:
    """Where an indicator stands: its series (latest value per period) and progress."""

    indicator: Indicator
    series: list[tuple[date, Decimal]]  # oldest first

    @property
    def latest(self) -> Decimal | None:
        return self.series[-1][1] if self.series else None

    @property
    def progress(self) -> float | None:
        """The share of the way from baseline to target (may pass 1 or fall below 0)."""
        if self.latest is None:
            return None
        baseline, target = Decimal(self.indicator.baseline), Decimal(self.indicator.target)
        return float((self.latest - baseline) / (target - baseline))

    @property
    def improving(self) -> bool | None:
        if len(self.series) < 2:
            return None
        change = self.series[-1][1] - self.series[-2][1]
        up = Direction(self.indicator.direction) is Direction.UP
        return change > 0 if up else change < 0


async def standings(
    session: AsyncSession, since: date | None = None, until: date | None = None
) -> list[Standing]:
    """Every indicator with its latest value per period (corrections replace, history stays)."""
    indicators = await all_indicators(session)
    query = select(IndicatorValue).order_by(
        IndicatorValue.indicator_id,
        IndicatorValue.period_start,
        IndicatorValue.reported_at,
        IndicatorValue.id,
    )
    if since is not None:
        query = query.where(IndicatorValue.period_start >= since)
    if until is not None:
        query = query.where(IndicatorValue.period_start <= until)
    latest: dict[int, dict[date, Decimal]] = {}
    for row in await session.scalars(query):
        latest.setdefault(row.indicator_id, {})[row.period_start] = Decimal(row.value)
    return [
        Standing(indicator, sorted(latest.get(indicator.id, {}).items()))
        for indicator in indicators
    ]


async def history(session: AsyncSession, indicator_id: int) -> list[IndicatorValue]:
    """Every value ever reported, corrections included, newest first (staff only)."""
    return list(
        (
            await session.scalars(
                select(IndicatorValue)
                .where(IndicatorValue.indicator_id == indicator_id)
                .order_by(IndicatorValue.reported_at.desc(), IndicatorValue.id.desc())
            )
        ).all()
    )


def as_moment(day: date) -> datetime:
    """A period's start as a moment, for charts."""
    return datetime.combine(day, datetime.min.time(), TEHRAN)
