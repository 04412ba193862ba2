"""The last router: whatever no feature handled still gets a clear answer."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.people.models import Person, Role
from bot.people.service import OnboardingStep, onboarding_step
from bot.telegram.app import Hamgam
from bot.telegram.filters import PrivateChat
from handlers.menu import menu_keyboard
from handlers.onboarding import continue_onboarding

router = Router(name="fallback")


@router.message(PrivateChat())
async def not_understood(
    message: Message,
    person: Person,
    roles: frozenset[Role],
    raw_state: str | None,
    hamgam: Hamgam,
) -> None:
    if onboarding_step(person) is not OnboardingStep.DONE:
        await continue_onboarding(message, person, roles, hamgam)
    elif raw_state is not None:
        if message.text and message.text.startswith("/"):
            await message.answer(
                _("Please answer the question above first, or send /cancel to stop.")
            )
        else:
            await message.answer(_("Please answer the question above with text, or send /cancel."))
    elif message.text and message.text.startswith("/"):
        await message.answer(
            _("I don't know that command. Here is what I can do:"),
            reply_markup=menu_keyboard(roles),
        )
    else:
        await message.answer(
            _("I didn't understand that. Please use the menu or /help."),
            reply_markup=menu_keyboard(roles),
        )


@router.callback_query()
async def expired_button(query: CallbackQuery) -> None:
    await query.answer(_("This button has expired."), show_alert=True)
