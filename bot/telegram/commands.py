"""The command menus Telegram shows, per language and per role."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from aiogram.utils.i18n import I18n

from bot.i18n import LANGUAGES, N_
from bot.people import service as people

if TYPE_CHECKING:
    from bot.telegram.app import Hamgam

log = logging.getLogger(__name__)

EVERYONE: list[tuple[str, str]] = [
    ("start", N_("Start, or show the menu")),
    ("help", N_("What I can do for you")),
    ("language", N_("Change the language")),
    ("privacy", N_("What is stored and who sees it")),
    ("stop", N_("Stop receiving messages")),
    ("mycheckins", N_("My check-ins and answers")),
    ("away", N_("Away for a while, or back")),
    ("surveys", N_("Open surveys for me")),
    ("meetings", N_("My meetings")),
    ("progress", N_("Progress on our shared indicators")),
    ("report_value", N_("Report an indicator's value")),
    ("forget", N_("Delete my data")),
]
STAFF: list[tuple[str, str]] = [
    ("groups", N_("Working groups and the steering committee")),
    ("newgroup", N_("Create a working group")),
    ("staff", N_("Backbone staff")),
    ("announce", N_("Write an announcement")),
    ("announcements", N_("Recent and scheduled announcements")),
    ("checkins", N_("Check-ins and participation")),
    ("newsurvey", N_("Make a survey")),
    ("results", N_("Survey results")),
    ("newmeeting", N_("Invite to a meeting")),
    ("newindicator", N_("Define a shared indicator")),
    ("report", N_("The backbone's report for a period")),
    ("digest", N_("The progress digest: on, off, how often")),
    ("export", N_("Export the data as CSV or Excel")),
    ("poll", N_("Post a quick poll")),
    ("polls", N_("Quick polls and their votes")),
    ("cancel", N_("Cancel what I am doing")),
]
GROUP_CHAT: list[tuple[str, str]] = [
    ("link", N_("Link this chat to a group (staff)")),
    ("unlink", N_("Unlink this chat (staff)")),
]


def _commands(i18n: I18n, entries: list[tuple[str, str]], language: str) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=i18n.gettext(text, locale=language))
        for name, text in entries
    ]


async def sync_commands(hamgam: Hamgam) -> None:
    bot, i18n = hamgam.bot, hamgam.i18n
    for language in LANGUAGES:
        code = None if language == "fa" else language  # Persian is what everyone else sees
        await bot.set_my_commands(
            _commands(i18n, EVERYONE, language), BotCommandScopeDefault(), language_code=code
        )
        await bot.set_my_commands(
            _commands(i18n, GROUP_CHAT, language),
            BotCommandScopeAllGroupChats(),
            language_code=code,
        )
    async with hamgam.sessions() as session:
        for person in await people.staff(session):
            if person.telegram_id is not None:
                await set_staff_commands(bot, i18n, person.telegram_id, person.language, True)


async def set_staff_commands(
    bot: Bot, i18n: I18n, chat_id: int, language: str | None, is_staff: bool
) -> None:
    """Staff see their extra commands in their own chat; a removed staff member stops seeing
    them. A staff member who has not started the bot yet gets them at the next start."""
    scope = BotCommandScopeChat(chat_id=chat_id)
    language = language or "fa"
    try:
        if is_staff:
            await bot.set_my_commands(_commands(i18n, EVERYONE + STAFF, language), scope)
        else:
            await bot.delete_my_commands(scope)
    except TelegramAPIError as error:
        log.info("Staff commands for chat %s not set: %s", chat_id, error.message)
