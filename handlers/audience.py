"""Choosing who receives something (an announcement, a survey): one picker for every feature.

A feature asks with `ask(message, state, purpose)` and registers what follows with
`@chosen(purpose)`; the picker keeps its choices in the conversation state, so it survives a
restart like any other step. Once chosen, the picker's message says who is in the audience:
how many under each role and, for a small audience, their names on request.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.groups import service as groups
from bot.groups.models import GroupKind
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.people import audience as audiences
from bot.people.audience import NAMES_UP_TO, Audience, AudienceKind, Composition
from bot.people.models import Role
from bot.telegram.filters import PrivateChat
from bot.telegram.guards import Onboarded, RequireRole
from handlers.locale import current_language, number

router = Router(name="audience")
router.callback_query.filter(PrivateChat(), Onboarded())
router.callback_query.middleware(RequireRole(Role.STAFF))

Then = Callable[[Message, FSMContext, AsyncSession, Audience], Awaitable[None]]
_NEXT: dict[str, Then] = {}


class Choosing(StatesGroup):
    audience = State()


class Pick(CallbackData, prefix="aud"):
    action: str  # kind, pick, done, names
    value: str = ""


SHOWN_KEY = "audience_shown"  # the audience the picker's message describes, for «names»
KIND_NAMES = {
    AudienceKind.EVERYONE: N_("Everyone"),
    AudienceKind.RESIDENTS: N_("Residents"),
    AudienceKind.COMMITTEE: N_("Steering committee"),
    AudienceKind.GROUPS: N_("Working groups: {chosen}"),
    AudienceKind.AREAS: N_("Residents of the areas: {chosen}"),
    AudienceKind.TAGS: N_("Residents tagged: {chosen}"),
}


def chosen(purpose: str) -> Callable[[Then], Then]:
    """Registers the step that follows once an audience is chosen for `purpose`."""

    def register(then: Then) -> Then:
        _NEXT[purpose] = then
        return then

    return register


def _button(builder: InlineKeyboardBuilder, text: str, action: str, value: str = "") -> None:
    builder.button(text=text, callback_data=Pick(action=action, value=value))


async def ask(message: Message, state: FSMContext, purpose: str, question: str) -> None:
    await state.set_state(Choosing.audience)
    await state.update_data({"audience_for": purpose})
    builder = InlineKeyboardBuilder()
    _button(builder, _("Everyone"), "kind", AudienceKind.EVERYONE)
    _button(builder, _("Residents"), "kind", AudienceKind.RESIDENTS)
    _button(builder, _("Steering committee"), "kind", AudienceKind.COMMITTEE)
    _button(builder, _("Working groups…"), "kind", AudienceKind.GROUPS)
    _button(builder, _("Residents of some areas…"), "kind", AudienceKind.AREAS)
    _button(builder, _("Residents with some tags…"), "kind", AudienceKind.TAGS)
    builder.adjust(2)
    await message.answer(question, reply_markup=builder.as_markup())


async def _choices(session: AsyncSession, kind: AudienceKind, language: str) -> list[list[str]]:
    """[value, label] pairs a staff member picks from for a targeted audience."""
    if kind is AudienceKind.GROUPS:
        return [
            [str(s.group.id), s.group.name(language)]
            for s in await groups.summaries(session)
            if s.group.kind == GroupKind.WORKING_GROUP
        ]
    if kind is AudienceKind.AREAS:
        return [[area, area] for area in await audiences.known_areas(session)]
    return [[tag, tag] for tag in await audiences.known_tags(session)]


def _picker(data: dict[str, Any]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    picked = set(data.get("picked", []))
    for index, (_value, label) in enumerate(data["choices"]):
        mark = "☑" if index in picked else "☐"
        _button(builder, f"{mark} {label[:40]}", "pick", str(index))
    _button(builder, _("Done"), "done")
    builder.adjust(1)
    return builder.as_markup()


def _role_count(role: Role, count: int) -> str:
    if role is Role.STAFF:
        text = ngettext("{count} backbone staff member", "{count} backbone staff members", count)
    elif role is Role.COMMITTEE:
        text = ngettext(
            "{count} steering committee member", "{count} steering committee members", count
        )
    elif role is Role.MEMBER:
        text = ngettext("{count} working group member", "{count} working group members", count)
    else:
        text = ngettext("{count} resident", "{count} residents", count)
    return text.format(count=number(count))


def composition_text(heading: str, composition: Composition) -> str:
    """Who an audience reaches, by role, with their names when they were asked for."""
    language = current_language()
    total = composition.total
    lines = [
        ngettext(
            "👥 <b>{audience}</b>: {count} person", "👥 <b>{audience}</b>: {count} people", total
        ).format(audience=escape(heading), count=number(total))
    ]
    for role, count in composition.by_role.items():
        line = "• " + _role_count(role, count)
        if composition.names is not None:
            line += ": " + escape(fmt.listing(composition.names[role], language))
        lines.append(line)
    return "\n".join(lines)


async def _show(
    message: Message, state: FSMContext, session: AsyncSession, audience: Audience, heading: str
) -> None:
    """Turns the picker's message into what was chosen and who is in it."""
    composition = await audiences.composition(session, audience)
    # The button names this very message's audience: one from an older picker expires.
    token = secrets.token_hex(4)
    await state.update_data(
        {SHOWN_KEY: {"audience": audience.to_json(), "heading": heading, "token": token}}
    )
    builder = InlineKeyboardBuilder()
    if 0 < composition.total <= NAMES_UP_TO:
        _button(builder, _("👥 Show the names"), "names", token)
    await message.edit_text(
        composition_text(heading, composition), reply_markup=builder.as_markup()
    )


async def _then(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    audience: Audience,
    chosen: Sequence[str] = (),
) -> None:
    heading = _(KIND_NAMES[audience.kind]).format(chosen=fmt.listing(chosen, current_language()))
    await _show(message, state, session, audience, heading)
    then = _NEXT[(await state.get_data())["audience_for"]]
    await state.update_data({"choices": None, "picked": None, "kind": None})
    await then(message, state, session, audience)


@router.callback_query(StateFilter(Choosing.audience), Pick.filter(F.action == "kind"))
async def kind_chosen(
    query: CallbackQuery,
    callback_data: Pick,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    language: str,
) -> None:
    try:
        kind = AudienceKind(callback_data.value)
    except ValueError:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    if kind in (AudienceKind.EVERYONE, AudienceKind.RESIDENTS, AudienceKind.COMMITTEE):
        await query.answer()
        await _then(message, state, session, Audience(kind))
        return
    choices = await _choices(session, kind, language)
    if not choices:
        await query.answer(
            {
                AudienceKind.GROUPS: _("There are no working groups yet."),
                AudienceKind.AREAS: _("No resident has an area yet."),
                AudienceKind.TAGS: _("No resident has a tag yet."),
            }[kind],
            show_alert=True,
        )
        return
    await query.answer()
    await state.update_data({"kind": kind.value, "choices": choices, "picked": []})
    await message.edit_text(
        _("Choose one or more, then press «Done»."), reply_markup=_picker(await state.get_data())
    )


@router.callback_query(StateFilter(Choosing.audience), Pick.filter(F.action == "pick"))
async def toggle_choice(
    query: CallbackQuery, callback_data: Pick, message: Message, state: FSMContext
) -> None:
    data = await state.get_data()
    if (
        not data.get("choices")
        or not callback_data.value.isdigit()
        or int(callback_data.value) >= len(data["choices"])
    ):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    picked = set(data.get("picked") or []) ^ {int(callback_data.value)}
    data = await state.update_data({"picked": sorted(picked)})
    await query.answer()
    await message.edit_reply_markup(reply_markup=_picker(data))


@router.callback_query(StateFilter(Choosing.audience), Pick.filter(F.action == "done"))
async def choices_done(
    query: CallbackQuery, message: Message, state: FSMContext, session: AsyncSession
) -> None:
    data = await state.get_data()
    if not data.get("choices"):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    picked = [data["choices"][index] for index in data.get("picked") or []]
    values = [value for value, _label in picked]
    if not values:
        await query.answer(_("Choose at least one."), show_alert=True)
        return
    await query.answer()
    kind = AudienceKind(data["kind"])
    audience = Audience(
        kind,
        group_ids=tuple(int(v) for v in values) if kind is AudienceKind.GROUPS else (),
        areas=tuple(values) if kind is AudienceKind.AREAS else (),
        tags=tuple(values) if kind is AudienceKind.TAGS else (),
    )
    await _then(message, state, session, audience, [label for _value, label in picked])


@router.callback_query(Pick.filter(F.action == "names"))
async def show_names(
    query: CallbackQuery,
    callback_data: Pick,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    """The names behind the counts, for a small audience, while its feature is still open."""
    shown = (await state.get_data()).get(SHOWN_KEY)
    if not shown or shown["token"] != callback_data.value:
        await query.answer(_("This button has expired."), show_alert=True)
        return
    audience = Audience.from_json(shown["audience"])
    composition = await audiences.composition(session, audience, with_names=True)
    if composition.names is None:
        await query.answer(
            _("There are more than {count} people now, too many to list by name.").format(
                count=number(NAMES_UP_TO)
            ),
            show_alert=True,
        )
        return
    await query.answer()
    await message.edit_text(composition_text(shown["heading"], composition))


@router.callback_query(Pick.filter())
async def stale(query: CallbackQuery) -> None:
    await query.answer(_("This button has expired."), show_alert=True)
