"""The one place where roles, onboarding and button ownership are checked."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.people.models import Person, Role
from bot.people.service import OnboardingStep, onboarding_step
from bot.telegram.middlewares import Handler


class RequireRole(BaseMiddleware):
    """Lets a handler run only for people holding the role; everyone else is told so in their
    language, nothing changes, and the attempt is written to the audit log."""

    def __init__(self, role: Role) -> None:
        self.role = role

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if self.role in data["roles"]:
            return await handler(event, data)
        person: Person | None = data["person"]
        session: AsyncSession = data["session"]
        if person is not None:
            what = event.text if isinstance(event, Message) else getattr(event, "data", None)
            audit.record(session, person.id, "denied", what and what[:128], role=self.role.value)
        text = _("Only the backbone staff can do that.")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        elif isinstance(event, Message):
            await event.reply(text)
        return None


class Onboarded(Filter):
    """Features open once a person has chosen a language and read the privacy note."""

    async def __call__(self, event: TelegramObject, person: Person | None = None) -> bool:
        return person is not None and onboarding_step(person) is OnboardingStep.DONE


class ButtonGuard(BaseMiddleware):
    """Refuses a button press Telegram would never send (on a message in someone else's private
    chat, or from someone the bot does not know, for instance after /forget) and one on a
    message too old to touch; handlers then get the pressed message as `message`."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, CallbackQuery)
        message = event.message
        if not isinstance(message, Message):  # inline, or older than Telegram lets us edit
            await event.answer(_("This button has expired."), show_alert=True)
            return None
        if message.chat.type == "private" and message.chat.id != event.from_user.id:
            await event.answer(_("This button is not yours."), show_alert=True)
            return None
        if data["person"] is None and message.chat.type == "private":
            await event.answer(_("This button has expired. Send /start to begin."), show_alert=True)
            return None
        data["message"] = message
        return await handler(event, data)
