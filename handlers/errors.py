"""Whatever escapes a handler is logged, counted and answered; it never reaches the person as
silence."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import ErrorEvent, User
from aiogram.utils.i18n import gettext as _
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.db import transaction
from bot.i18n import language_from_code
from bot.people import service as people
from bot.telegram.app import Hamgam

router = Router(name="errors")
log = logging.getLogger(__name__)


@router.errors()
async def unexpected_error(
    event: ErrorEvent, hamgam: Hamgam, event_from_user: User | None = None
) -> None:
    if _database_unavailable(event.exception):
        # The database could not take the update (locked too long, or gone for a moment).
        # Apologising would acknowledge the update and lose it; failing instead makes Telegram
        # deliver it again (webhook), and nothing of it was stored.
        log.warning(
            "Database unavailable for update %s: %s", event.update.update_id, event.exception
        )
        raise event.exception
    if isinstance(event.exception, TelegramForbiddenError):
        # The person blocked the bot while we were answering: nothing more can reach them.
        await _mark_unreachable(hamgam, event_from_user)
        return
    hamgam.failures.append(event.exception)
    log.exception("Unhandled error in update %s", event.update.update_id, exc_info=event.exception)
    update = event.update
    user = event_from_user
    try:
        # The per-update middlewares have exited by now: look the language up afresh.
        async with hamgam.sessions() as session:
            person = await people.find(session, user.id) if user else None
        language = (person.language if person else None) or language_from_code(
            user.language_code if user else None
        )
        with hamgam.i18n.context(), hamgam.i18n.use_locale(language):
            text = _("Sorry, something went wrong on our side. Please try again in a moment.")
            if update.callback_query:
                await update.callback_query.answer(text, show_alert=True)
            elif update.message and update.message.chat.type == "private":
                await update.message.answer(text)
    except Exception:  # the apology itself failing must not hide the original error
        log.exception("Could not tell the person about the error")


def _database_unavailable(error: BaseException) -> bool:
    """Locked too long, or the connection gone (a server restart, a dropped link)."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


async def _mark_unreachable(hamgam: Hamgam, user: User | None) -> None:
    if user is None:
        return
    async with transaction(hamgam.sessions) as session:
        person = await people.find(session, user.id)
        if person is not None:
            people.mark_unreachable(person)
