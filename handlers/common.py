"""/cancel, which works in every conversation."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.people.models import Role
from bot.telegram.filters import PrivateChat
from handlers.menu import menu_keyboard

router = Router(name="common")
router.message.filter(PrivateChat())


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext, roles: frozenset[Role]) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    await message.answer(
        _("Cancelled.") if had_state else _("There is nothing to cancel."),
        reply_markup=menu_keyboard(roles),
    )
