"""Shared measurement in the bot: staff define indicators (/newindicator), members of the
owning group report values (/report_value), everyone sees /progress with trend charts; staff
also see who reported what and every correction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import charts
from bot.delivery.content import pick
from bot.groups import service as groups
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.i18n.normalize import is_skip, normalize_text, parse_decimal, read_bilingual
from bot.indicators import service as indicators
from bot.indicators.models import Direction, Frequency, Indicator, Source
from bot.people import service as people
from bot.people.models import Person, Role
from bot.telegram.filters import PrivateChat, Typed
from bot.telegram.guards import Onboarded, RequireRole
from handlers.forms import keyboard
from handlers.locale import current_language, number

router = Router(name="indicators")
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())
staff_router = Router(name="indicators.staff")
staff_router.message.filter(PrivateChat(), Onboarded())
staff_router.callback_query.filter(PrivateChat(), Onboarded())
staff_router.message.middleware(RequireRole(Role.STAFF))
staff_router.callback_query.middleware(RequireRole(Role.STAFF))

NAME_MAX, UNIT_MAX, DESCRIPTION_MAX = 120, 30, 400
CHARTS_SHOWN = 10
FREQUENCY_NAMES = {
    Frequency.WEEKLY: N_("Every week"),
    Frequency.MONTHLY: N_("Every month"),
    Frequency.QUARTERLY: N_("Every season"),
}


class IndicatorButton(CallbackData, prefix="ind"):
    action: str
    indicator: int = 0
    value: str = ""


class NewIndicator(StatesGroup):
    name = State()
    unit = State()
    description = State()
    baseline = State()
    target = State()


class ReportValue(StatesGroup):
    value = State()


def period_label(indicator: Indicator, start: date, language: str) -> str:
    frequency = Frequency(indicator.frequency)
    if frequency is Frequency.WEEKLY:
        return _("week of {day}").format(day=fmt.day(start, language))
    return fmt.period(start, frequency is Frequency.QUARTERLY, language)


def value_text(indicator: Indicator, value: Decimal, language: str) -> str:
    unit = pick(indicator.unit, language)
    return f"{fmt.number(value, language)} {escape(unit)}".strip()


# Defining an indicator (staff)


@staff_router.message(Command("newindicator"))
async def new_indicator(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(NewIndicator.name)
    await message.answer(
        _("The indicator's name, as «Persian / English»? For example: {example}").format(
            example="خانواده‌های عضو صندوق محله / Families in the neighbourhood fund"
        )
    )


@staff_router.message(StateFilter(NewIndicator.name), Typed())
async def name_typed(message: Message, state: FSMContext) -> None:
    if (name := read_bilingual(message.text or "", NAME_MAX)) is None:
        await message.answer(
            _("Please write the name in up to {limit} characters, as «Persian / English».").format(
                limit=number(NAME_MAX)
            )
        )
        return
    await state.update_data({"name": name})
    await state.set_state(NewIndicator.unit)
    await message.answer(_("Its unit, as «Persian / English»? For example: خانوار / households"))


@staff_router.message(StateFilter(NewIndicator.unit), Typed())
async def unit_typed(message: Message, state: FSMContext) -> None:
    if (unit := read_bilingual(message.text or "", UNIT_MAX)) is None:
        await message.answer(
            _("Please write the unit in up to {limit} characters.").format(limit=number(UNIT_MAX))
        )
        return
    await state.update_data({"unit": unit})
    await state.set_state(NewIndicator.description)
    await message.answer(_("A short description, as «Persian / English», or «-» for none."))


@staff_router.message(StateFilter(NewIndicator.description), Typed())
async def description_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    description = {} if is_skip(typed) else read_bilingual(typed, DESCRIPTION_MAX)
    if description is None:
        await message.answer(
            _("Please write it in up to {limit} characters.").format(limit=number(DESCRIPTION_MAX))
        )
        return
    await state.update_data({"description": description})
    await state.set_state(NewIndicator.baseline)
    await message.answer(_("The baseline: what is its value now (a number)?"))


async def _number(message: Message) -> Decimal | None:
    value = parse_decimal(message.text or "")
    if value is None:
        await message.answer(_("Please answer with a number, for example 12."))
    return value


@staff_router.message(StateFilter(NewIndicator.baseline), Typed())
async def baseline_typed(message: Message, state: FSMContext) -> None:
    if (value := await _number(message)) is None:
        return
    await state.update_data({"baseline": str(value)})
    await state.set_state(NewIndicator.target)
    await message.answer(
        _("The target: what value does the initiative want it to reach (a number)?")
    )


@staff_router.message(StateFilter(NewIndicator.target), Typed())
async def target_typed(message: Message, state: FSMContext) -> None:
    if (value := await _number(message)) is None:
        return
    if value == Decimal((await state.get_data())["baseline"]):
        await message.answer(_("The target must differ from the baseline."))
        return
    await state.update_data({"target": str(value)})
    await state.set_state(None)
    await message.answer(
        _("How often is it reported?"),
        reply_markup=keyboard(
            [
                [(_(label), IndicatorButton(action="frequency", value=frequency.value))]
                for frequency, label in FREQUENCY_NAMES.items()
            ]
        ),
    )


@staff_router.callback_query(IndicatorButton.filter(F.action == "frequency"))
async def frequency_chosen(
    query: CallbackQuery,
    callback_data: IndicatorButton,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    if "target" not in await state.get_data() or callback_data.value not in set(Frequency):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await state.update_data({"frequency": callback_data.value})
    language = current_language()
    await message.edit_text(
        _("Which group owns it (its members report the values)?"),
        reply_markup=keyboard(
            [
                [
                    (
                        summary.group.name(language)[:40],
                        IndicatorButton(action="owner", value=str(summary.group.id)),
                    )
                ]
                for summary in await groups.summaries(session)
            ]
            + [[(_("Only staff report it"), IndicatorButton(action="owner", value="0"))]]
        ),
    )


@staff_router.callback_query(IndicatorButton.filter(F.action == "owner"))
async def owner_chosen(
    query: CallbackQuery,
    callback_data: IndicatorButton,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
) -> None:
    data = await state.get_data()
    if "frequency" not in data or not callback_data.value.isdigit():
        await query.answer(_("This button has expired."), show_alert=True)
        return
    baseline, target = Decimal(data["baseline"]), Decimal(data["target"])
    created = await indicators.create(
        session,
        name=data["name"],
        description=data["description"],
        unit=data["unit"],
        baseline=baseline,
        target=target,
        direction=Direction.UP if target > baseline else Direction.DOWN,
        frequency=Frequency(data["frequency"]),
        group_id=int(callback_data.value) or None,
        author_id=person.id,
    )
    await state.clear()
    await query.answer()
    language = current_language()
    await message.edit_text(
        _("📏 Indicator #{id} is set: {name}, from {baseline} to {target}.").format(
            id=fmt.number(created.id, language),
            name=escape(pick(created.name, language)),
            baseline=value_text(created, baseline, language),
            target=value_text(created, target, language),
        )
    )


# Reporting a value


@router.message(Command("report_value"))
async def choose_indicator(
    message: Message,
    session: AsyncSession,
    person: Person,
    roles: frozenset[Role],
    state: FSMContext,
) -> None:
    await state.clear()
    language = current_language()
    mine = await indicators.reportable_by(session, person.id, Role.STAFF in roles)
    if not mine:
        await message.answer(
            _(
                "There is no indicator for you to report. Staff define indicators with"
                " /newindicator."
            )
        )
        return
    await message.answer(
        _("Which indicator?"),
        reply_markup=keyboard(
            [
                [
                    (
                        pick(item.name, language)[:60],
                        IndicatorButton(action="report", indicator=item.id),
                    )
                ]
                for item in mine
            ]
        ),
    )


async def _mine(
    query: CallbackQuery,
    session: AsyncSession,
    person: Person,
    roles: frozenset[Role],
    indicator_id: int,
) -> Indicator | None:
    """The indicator, if this person may report it (a forged button may name another)."""
    allowed = await indicators.reportable_by(session, person.id, Role.STAFF in roles)
    found = next((item for item in allowed if item.id == indicator_id), None)
    if found is None:
        await query.answer(
            _("Only members of the group that owns it can report it."), show_alert=True
        )
    return found


@router.callback_query(IndicatorButton.filter(F.action == "report"))
async def choose_period(
    query: CallbackQuery,
    callback_data: IndicatorButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    roles: frozenset[Role],
) -> None:
    if (indicator := await _mine(query, session, person, roles, callback_data.indicator)) is None:
        return
    await query.answer()
    language = current_language()
    frequency = Frequency(indicator.frequency)
    current = indicators.period_start(frequency, indicators.today())
    previous = indicators.previous_period(frequency, current)
    await message.edit_text(
        _("For which period is the value of «{name}»?").format(
            name=escape(pick(indicator.name, language))
        ),
        reply_markup=keyboard(
            [
                [
                    (
                        period_label(indicator, start, language),
                        IndicatorButton(
                            action="period", indicator=indicator.id, value=start.isoformat()
                        ),
                    )
                ]
                for start in (current, previous)
            ]
        ),
    )


@router.callback_query(IndicatorButton.filter(F.action == "period"))
async def ask_value(
    query: CallbackQuery,
    callback_data: IndicatorButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    roles: frozenset[Role],
    state: FSMContext,
) -> None:
    if (indicator := await _mine(query, session, person, roles, callback_data.indicator)) is None:
        return
    frequency = Frequency(indicator.frequency)
    current = indicators.period_start(frequency, indicators.today())
    allowed = {current.isoformat(), indicators.previous_period(frequency, current).isoformat()}
    if callback_data.value not in allowed:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await state.set_state(ReportValue.value)
    await state.set_data({"indicator": indicator.id, "period": callback_data.value})
    await message.answer(
        _("What is the value, in {unit}?").format(
            unit=escape(pick(indicator.unit, current_language()))
        )
    )


@router.message(StateFilter(ReportValue.value), Typed())
async def value_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
    roles: frozenset[Role],
) -> None:
    if (value := await _number(message)) is None:
        return
    data = await state.get_data()
    await state.clear()
    # Between the period and the value the person may have left the owning group, lost the
    # staff role, or the indicator may be gone (the state outlives restarts): ask again.
    indicator_id = int(data["indicator"])
    indicator = await indicators.reportable(session, person.id, Role.STAFF in roles, indicator_id)
    if indicator is None:
        await message.answer(
            _("That indicator no longer exists.")
            if await session.get(Indicator, indicator_id) is None
            else _(
                "You can no longer report this indicator: only members of the group that owns "
                "it can. Nothing was saved."
            )
        )
        return
    period = date.fromisoformat(data["period"])
    reported = await indicators.report(
        session, indicator, value, period=period, source=Source.REPORT, person_id=person.id
    )
    language = current_language()
    saved = _("✅ Saved: {value} for {period}.").format(
        value=value_text(indicator, value, language),
        period=period_label(indicator, period, language),
    )
    if reported.replaced is not None:
        saved += "\n" + _(
            "It replaces the earlier value, {value}, which stays in the history."
        ).format(value=value_text(indicator, reported.replaced, language))
    await message.answer(saved)


# Progress


@router.message(Command("progress"))
async def progress(message: Message, session: AsyncSession, roles: frozenset[Role]) -> None:
    language = current_language()
    found = await indicators.standings(session)
    if not found:
        await message.answer(_("No indicators yet."))
        return
    lines = [_("📈 <b>Progress on our shared indicators</b>")]
    for standing in found:
        item = standing.indicator
        baseline, target = Decimal(item.baseline), Decimal(item.target)
        line = f"\n<b>{escape(pick(item.name, language))}</b>\n"
        if standing.latest is None:
            line += _("no value reported yet")
        else:
            assert standing.progress is not None
            period = period_label(item, standing.series[-1][0], language)
            line += _("{latest} ({period}) · baseline {baseline} · target {target}").format(
                latest=value_text(item, standing.latest, language),
                period=period,
                baseline=value_text(item, baseline, language),
                target=value_text(item, target, language),
            )
            line += "\n" + _("{share} of the way to the target").format(
                share=fmt.percent(max(standing.progress, 0), language)
            )
            if standing.improving is not None:
                line += " " + ("↗️" if standing.improving else "↘️")
        lines.append(line)
    staff = Role.STAFF in roles
    await message.answer(
        "\n".join(lines),
        reply_markup=keyboard(
            [
                [
                    (
                        _("🕘 History: {name}").format(name=pick(s.indicator.name, language)[:40]),
                        IndicatorButton(action="history", indicator=s.indicator.id),
                    )
                ]
                for s in found
                if s.series
            ]
        )
        if staff
        else None,
    )
    for standing in [s for s in found if s.series][:CHARTS_SHOWN]:
        png = trend_chart(standing, language)
        await message.answer_photo(
            BufferedInputFile(png, f"indicator-{standing.indicator.id}.png"),
            caption=escape(pick(standing.indicator.name, language))[:1000],
        )


def trend_chart(standing: indicators.Standing, language: str) -> bytes:
    item = standing.indicator
    moments = [indicators.as_moment(day) for day, _value in standing.series]
    values = [float(value) for _day, value in standing.series]
    ends = [moments[0], moments[-1]]
    return charts.line_chart(
        [
            charts.Series(pick(item.name, language), list(zip(moments, values, strict=True))),
            charts.Series(_("baseline"), [(moment, float(item.baseline)) for moment in ends]),
            charts.Series(_("target"), [(moment, float(item.target)) for moment in ends]),
        ],
        language,
        pick(item.name, language),
        y_label=pick(item.unit, language),
    )


@staff_router.callback_query(IndicatorButton.filter(F.action == "history"))
async def show_history(
    query: CallbackQuery, callback_data: IndicatorButton, message: Message, session: AsyncSession
) -> None:
    indicator = await session.get(Indicator, callback_data.indicator)
    if indicator is None:
        await query.answer(_("That indicator no longer exists."), show_alert=True)
        return
    await query.answer()
    language = current_language()
    rows = await indicators.history(session, indicator.id)
    names = await people.names_of(session, (row.reported_by for row in rows))
    lines = [
        _("🕘 <b>{name}</b>: every value reported").format(
            name=escape(pick(indicator.name, language))
        )
    ]
    for row in rows[:40]:
        lines.append(
            "• "
            + _("{period}: {value} — {who}, {when}").format(
                period=period_label(indicator, row.period_start, language),
                value=value_text(indicator, Decimal(row.value), language),
                who=escape(names.get(row.reported_by or 0, "—")),
                when=fmt.moment(row.reported_at, language),
            )
        )
    await message.answer("\n".join(lines))
