"""Staff adding and removing backbone staff from within the bot."""

from __future__ import annotations

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
from bot.telegram.commands import set_staff_commands
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
    action: str
    telegram_id: int = 0


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
    await set_staff_commands(bot, i18n, telegram_id, added.language, True)
    await message.answer(_("Added to the backbone staff."))
    await list_staff(message, session)


@router.callback_query(StaffAction.filter(F.action == "remove"))
async def remove_staff(
    query: CallbackQuery,
    callback_data: StaffAction,
    message: Message,
    session: AsyncSession,
    person: Person,
    bot: Bot,
    i18n: I18n,
) -> None:
    if len(await people.staff(session)) <= 1:
        await query.answer(_("The last staff member cannot be removed."), show_alert=True)
        return
    removed = await people.remove_staff(session, callback_data.telegram_id, person.id)
    if not removed:
        await query.answer(_("They are no longer staff."))
    else:
        await query.answer(_("Removed from the backbone staff."))
        await set_staff_commands(bot, i18n, callback_data.telegram_id, None, False)
    text, keyboard = await staff_overview(session)
    await message.edit_text(text, reply_markup=keyboard)
