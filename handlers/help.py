"""/help: what this person can do, in their language."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.people.models import Role
from bot.telegram.commands import GROUP_CHAT, private_commands
from handlers.menu import MenuAction, menu_keyboard

router = Router(name="help")


def help_text(roles: frozenset[Role], private: bool) -> str:
    entries = private_commands(roles) if private else GROUP_CHAT
    lines = [_("<b>What I can do for you</b>")]
    lines += [f"/{command} — {_(description)}" for command, description in entries]
    return "\n".join(lines)


@router.message(Command("help"))
async def show_help(message: Message, roles: frozenset[Role]) -> None:
    private = message.chat.type == "private"
    await message.answer(
        help_text(roles, private), reply_markup=menu_keyboard(roles) if private else None
    )


@router.callback_query(MenuAction.filter(F.action == "help"))
async def help_from_menu(query: CallbackQuery, message: Message, roles: frozenset[Role]) -> None:
    await query.answer()
    await message.answer(help_text(roles, True), reply_markup=menu_keyboard(roles))
