"""The command menus Telegram shows, per language and per role, and the list /help shows."""

from __future__ import annotations

import logging
from collections.abc import Set
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
from bot.people.models import Role

if TYPE_CHECKING:
    from bot.telegram.app import Hamgam

log = logging.getLogger(__name__)

EVERYONE: list[tuple[str, str]] = [
    ("start", N_("Start, or show the menu")),
    ("help", N_("What I can do for you")),
    ("language", N_("Change the language")),
    ("privacy", N_("What is stored and who sees it")),
    ("stop", N_("Stop receiving messages")),
    ("surveys", N_("Surveys open to me")),
    ("meetings", N_("My meetings")),
    ("progress", N_("Progress on our shared indicators")),
    ("forget", N_("Delete my data")),
]
# For people in a working group or the steering committee, whose groups have check-ins and
# indicators, and for staff, who may report any indicator.
GROUP_MEMBERS: list[tuple[str, str]] = [
    ("mycheckins", N_("My check-ins and answers")),
    ("away", N_("Away for a while, or back")),
    ("report_value", N_("Report an indicator's value")),
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
    ("digest", N_("The progress digest: on or off, and how often")),
    ("export", N_("Export the data as CSV or Excel")),
    ("poll", N_("Post a quick poll")),
    ("polls", N_("Quick polls and their votes")),
    ("cancel", N_("Cancel what I am doing")),
]
GROUP_CHAT: list[tuple[str, str]] = [
    ("link", N_("Link this chat to a group (staff)")),
    ("unlink", N_("Unlink this chat (staff)")),
]


def private_commands(roles: Set[Role]) -> list[tuple[str, str]]:
    """What a person can do in their own chat, by their roles: /help and the menu list this."""
    entries = list(EVERYONE)
    if roles & {Role.MEMBER, Role.COMMITTEE, Role.STAFF}:
        entries += GROUP_MEMBERS
    if Role.STAFF in roles:
        entries += STAFF
    return entries


def has_own_menu(roles: Set[Role]) -> bool:
    return private_commands(roles) != EVERYONE


def _commands(i18n: I18n, entries: list[tuple[str, str]], language: str) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=i18n.gettext(text, locale=language))
        for name, text in entries
    ]


async def sync_commands(hamgam: Hamgam) -> None:
    """Everyone's menus, then their own for those with more to do, since roles can change
    while the bot is down (from the shell or STAFF_IDS). A call each, hundreds at city size:
    start-up runs this in a task instead of waiting (Telegram shows the menus set before)."""
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
        menus = [
            (person.telegram_id, person.language, roles)
            for person, roles in await people.with_more_than_everyone(session)
        ]
    for telegram_id, language, roles in menus:
        assert telegram_id is not None
        await set_person_commands(bot, i18n, telegram_id, language, roles)


async def set_person_commands(
    bot: Bot, i18n: I18n, chat_id: int, language: str | None, roles: Set[Role]
) -> None:
    """A person's own menu in their chat, after their roles or language change: the default
    one (nothing of their own) unless their roles give them more. Someone made staff before
    starting the bot gets theirs at the next start."""
    scope = BotCommandScopeChat(chat_id=chat_id)
    try:
        if has_own_menu(roles):
            entries = _commands(i18n, private_commands(roles), language or "fa")
            await bot.set_my_commands(entries, scope)
        else:
            await bot.delete_my_commands(scope)
    except TelegramAPIError as error:
        log.info("Commands for chat %s not set: %s", chat_id, error.message)
