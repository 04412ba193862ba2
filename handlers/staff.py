"""Staff adding and removing backbone staff from within the bot."""

from __future__ import annotations

import secrets
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n.normalize import parse_int
from bot.people import service as people
from bot.people.models import Person, Role
from bot.people.service import StaffRemoval
from bot.telegram.commands import set_person_commands
from bot.telegram.filters import PrivateChat, Typed
from bot.telegram.guards import Onboarded, RequireRole
from handlers.menu import MenuAction

router = Router(name="staff")
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())
router.message.middleware(RequireRole(Role.STAFF))
router.callback_query.middleware(RequireRole(Role.STAFF))

TELEGRAM_ID_MAX = 2**53  # Telegram promises user ids fit in 52 bits


class StaffForm(StatesGroup):
    telegram_id = State()


class StaffAction(CallbackData, prefix="staff"):
    action: str  # add, remove (asks), yes, no
    telegram_id: int = 0
    token: str = ""


REMOVAL_KEY = "staff_removal"  # the removal asked about last: {"telegram_id", "token"}


async def staff_overview(session: AsyncSession) -> tuple[str, InlineKeyboardMarkup]:
    members = await people.staff(session)
    lines = [_("<b>Backbone staff</b>")]
    builder = InlineKeyboardBuilder()
    for member in members:
        name = member.display_name or _("(has not started the bot yet)")
        lines.append(f"• {escape(name)} — <code>{member.telegram_id}</code>")
        builder.button(
            text=_("✖ {name}").format(name=name[:30]),
            callback_data=StaffAction(action="remove", telegram_id=member.telegram_id or 0),
        )
    builder.button(text=_("➕ Add staff"), callback_data=StaffAction(action="add"))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


@router.message(Command("staff"))
async def list_staff(message: Message, session: AsyncSession) -> None:
    text, keyboard = await staff_overview(session)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(MenuAction.filter(F.action == "staff"))
async def list_staff_from_menu(
    query: CallbackQuery, message: Message, session: AsyncSession
) -> None:
    await query.answer()
    await list_staff(message, session)


@router.callback_query(StaffAction.filter(F.action == "add"))
async def ask_for_staff(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(StaffForm.telegram_id)
    await message.answer(
        _(
            "Send the Telegram id (a number) of the person to add as staff."
            " They can see it, for example, with @userinfobot."
        )
    )


@router.message(StateFilter(StaffForm.telegram_id), Typed())
async def add_staff(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
    bot: Bot,
    i18n: I18n,
) -> None:
    telegram_id = parse_int(message.text or "")
    if telegram_id is None or not 0 < telegram_id < TELEGRAM_ID_MAX:
        await message.answer(
            _("That is not a Telegram id. Please send only the number, for example 123456789.")
        )
        return
    added = await people.add_staff(session, telegram_id, person.id)
    await state.clear()
    roles = await people.roles_of(session, added)
    await set_person_commands(bot, i18n, telegram_id, added.language, roles)
    await message.answer(_("Added to the backbone staff."))
    await list_staff(message, session)


async def _refuse(query: CallbackQuery, message: Message, verdict: StaffRemoval) -> None:
    if verdict is StaffRemoval.NOT_STAFF:
        await query.answer(_("They are no longer staff."), show_alert=True)
        return
    # Whoever presses is active, so only the last active one removing themselves comes here.
    await query.answer()
    await message.answer(
        _(
            "You are the only staff member who has started the bot: without you nobody could"
            " manage Hamgam from Telegram. Please add another staff member and ask them to start"
            " the bot first; then you can step down."
        )
    )


async def _name_of(session: AsyncSession, telegram_id: int) -> str:
    found = await people.find(session, telegram_id)
    return (found.display_name if found else None) or str(telegram_id)


@router.callback_query(StaffAction.filter(F.action == "remove"))
async def ask_to_remove_staff(
    query: CallbackQuery,
    callback_data: StaffAction,
    message: Message,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    """Asks first. The answer's button carries a one-time token kept in the conversation, so
    it works once, only here, and only for the question it answers."""
    telegram_id = callback_data.telegram_id
    verdict = await people.can_remove_staff(session, telegram_id)
    if verdict is not StaffRemoval.REMOVED:
        await _refuse(query, message, verdict)
        return
    await query.answer()
    token = secrets.token_hex(4)
    await state.update_data({REMOVAL_KEY: {"telegram_id": telegram_id, "token": token}})
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✔ Yes, remove"),
        callback_data=StaffAction(action="yes", telegram_id=telegram_id, token=token),
    )
    builder.button(text=_("Cancel"), callback_data=StaffAction(action="no", token=token))
    await message.edit_text(
        _(
            "Remove {name} from the backbone staff? They will no longer be able to set up"
            " groups, send announcements or read reports."
        ).format(name=escape(await _name_of(session, telegram_id))),
        reply_markup=builder.as_markup(),
    )


async def _pending(state: FSMContext, callback_data: StaffAction) -> bool:
    """True once, for the answer to the question asked last (the token is then spent)."""
    data = await state.get_data()
    pending = data.get(REMOVAL_KEY) or {}
    if not callback_data.token or pending.get("token") != callback_data.token:
        return False
    await state.update_data({REMOVAL_KEY: None})
    return callback_data.action == "no" or pending.get("telegram_id") == callback_data.telegram_id


@router.callback_query(StaffAction.filter(F.action == "no"))
async def keep_staff(
    query: CallbackQuery,
    callback_data: StaffAction,
    message: Message,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    if not await _pending(state, callback_data):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer(_("Nothing changed."))
    text, keyboard = await staff_overview(session)
    await message.edit_text(text, reply_markup=keyboard)


@router.callback_query(StaffAction.filter(F.action == "yes"))
async def remove_staff(
    query: CallbackQuery,
    callback_data: StaffAction,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
) -> None:
    if not await _pending(state, callback_data):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    telegram_id = callback_data.telegram_id
    verdict = await people.remove_staff(session, telegram_id, person.id)
    if verdict is StaffRemoval.REMOVED:
        await query.answer(_("Removed from the backbone staff."))
        removed = await people.find(session, telegram_id)
        assert removed is not None
        roles = await people.roles_of(session, removed)
        await set_person_commands(bot, i18n, telegram_id, removed.language, roles)
    else:
        await _refuse(query, message, verdict)
    text, keyboard = await staff_overview(session)
    await message.edit_text(text, reply_markup=keyboard)
