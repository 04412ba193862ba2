"""The menu under the welcome and help messages, fitted to the person's roles."""

from __future__ import annotations

from collections.abc import Set

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.people.models import Role


class MenuAction(CallbackData, prefix="menu"):
    action: str


def menu_keyboard(roles: Set[Role]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if Role.STAFF in roles:
        builder.button(text=_("👥 Groups"), callback_data=MenuAction(action="groups"))
        builder.button(text=_("🛡 Staff"), callback_data=MenuAction(action="staff"))
    builder.button(text=_("❓ Help"), callback_data=MenuAction(action="help"))
    builder.button(text=_("🌐 Language"), callback_data=MenuAction(action="language"))
    builder.button(text=_("🔒 Privacy"), callback_data=MenuAction(action="privacy"))
    builder.adjust(2)
    return builder.as_markup()
