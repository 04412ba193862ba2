"""/start, the language choice, the privacy note and consent, /language, /privacy.

Where a person is in onboarding is read from their stored row, so a restart between any two
steps changes nothing for them.
"""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.groups import service as groups
from bot.groups.service import JoinOutcome
from bot.i18n import LANGUAGES
from bot.people import service as people
from bot.people.models import Person, Role
from bot.people.service import OnboardingStep, onboarding_step
from bot.telegram.app import Hamgam
from bot.telegram.commands import has_own_menu, set_person_commands
from bot.telegram.filters import PrivateChat
from handlers.locale import number
from handlers.menu import MenuAction, menu_keyboard

router = Router(name="onboarding")
router.message.filter(PrivateChat())

# Each language is offered in its own name, the same in both catalogs by design.
LANGUAGE_NAMES = {"fa": "فارسی", "en": "English"}
INVITE_KEY = "invite"


class LanguageChoice(CallbackData, prefix="lang"):
    language: str


class Consent(CallbackData, prefix="consent"):
    pass


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in LANGUAGES:
        builder.button(text=LANGUAGE_NAMES[code], callback_data=LanguageChoice(language=code))
    return builder.as_markup()


def privacy_text(least: int) -> str:
    """`least`: ANONYMOUS_MIN_RESPONSES, the fewest answers an anonymous survey mixes and shows."""
    return _(
        "🔒 <b>Privacy</b>\n"
        "Hamgam keeps your Telegram name and id, the language you chose, the groups you belong"
        " to and the answers you give.\n"
        "The backbone staff of the initiative see them to plan and report on the"
        " neighbourhood's work; reports show totals, not your name.\n"
        "<b>Anonymous surveys</b> store your answers without your name or any time, and add"
        " them to the results only mixed with at least {others} other people's, so no order or"
        " timing points to you. Staff see totals only where at least {least} answers stand"
        " behind them, and written answers in alphabetical order. Who took part is forgotten"
        " when the survey closes.\n"
        "/stop stops every message except replies to you.\n"
        "/forget deletes your name, Telegram id and username, your groups and area, and"
        " everything you wrote. Only anonymous figures stay: that you took part, the numbers"
        " and choices you gave, your replies to meeting invitations, indicator values, and how"
        " many messages reached you."
    ).format(others=number(least - 1), least=number(least))


async def ask_language(message: Message) -> None:
    await message.answer(
        _(
            "Hello! I'm Hamgam, the bot of our neighbourhood initiative.\n"
            "Please choose your language:"
        ),
        reply_markup=language_keyboard(),
    )


async def ask_consent(message: Message, least: int) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ I agree"), callback_data=Consent())
    await message.answer(
        _(
            "Welcome to Hamgam! 👋\n"
            "Hamgam keeps our neighbourhood initiative in step: check-ins with working groups,"
            " residents' surveys, progress news and meeting reminders."
        )
        + "\n\n"
        + privacy_text(least)
        + "\n\n"
        + _("Press «I agree» to continue."),
        reply_markup=builder.as_markup(),
    )


async def continue_onboarding(
    message: Message,
    person: Person,
    roles: frozenset[Role],
    hamgam: Hamgam,
    *,
    back_from_stop: bool = False,
) -> None:
    """Show whatever the person still has to do, or the menu when they are done: one welcome,
    which says so when they come back after /stop."""
    step = onboarding_step(person)
    if step is OnboardingStep.LANGUAGE:
        await ask_language(message)
    elif step is OnboardingStep.CONSENT:
        await ask_consent(message, hamgam.settings.anonymous_min_responses)
    else:
        name = escape(person.display_name or "")
        await message.answer(
            _(
                "Welcome back, {name}! You will receive messages from Hamgam again."
                " What would you like to do?"
            ).format(name=name)
            if back_from_stop
            else _("Welcome back, {name}! What would you like to do?").format(name=name),
            reply_markup=menu_keyboard(roles),
        )


async def _join_pending_group(
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
) -> bool:
    """Use an invite code kept from /start; True when the person is now in a group (and their
    menu has what members can do)."""
    code = (await state.get_data()).get(INVITE_KEY)
    if not code:
        return False
    await state.update_data({INVITE_KEY: None})
    outcome, group = await groups.join(session, person, code)
    language = person.language or "fa"
    if outcome is JoinOutcome.INVALID_CODE or group is None:
        await message.answer(
            _("That invite link is no longer valid. Please ask the backbone staff for a new one.")
        )
        return False
    name = escape(group.name(language))
    if outcome is JoinOutcome.JOINED:
        await message.answer(_("You have joined «{group}». 🎉").format(group=name))
        if person.telegram_id is not None:
            roles = await people.roles_of(session, person)
            await set_person_commands(bot, i18n, person.telegram_id, language, roles)
    else:
        await message.answer(_("You are already a member of «{group}».").format(group=name))
    return True


@router.message(CommandStart())
async def start(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    person: Person,
    roles: frozenset[Role],
    state: FSMContext,
    hamgam: Hamgam,
    bot: Bot,
    i18n: I18n,
) -> None:
    await state.set_state(None)
    back_from_stop = person.opted_out_at is not None
    if back_from_stop or person.unreachable_at is not None:
        people.opt_in(person)
    if command.args:
        await state.update_data({INVITE_KEY: command.args.strip()[:64]})
    if onboarding_step(person) is OnboardingStep.DONE and await _join_pending_group(
        message, session, person, state, bot, i18n
    ):
        roles = await people.roles_of(session, person)
    await continue_onboarding(message, person, roles, hamgam, back_from_stop=back_from_stop)


@router.callback_query(LanguageChoice.filter(F.language.in_(LANGUAGES)))
async def choose_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    message: Message,
    person: Person,
    roles: frozenset[Role],
    i18n: I18n,
    hamgam: Hamgam,
) -> None:
    language = callback_data.language
    first_time = person.language is None
    people.choose_language(person, language)
    with i18n.use_locale(language):
        await query.answer()
        await message.edit_text(
            _("Language: {language} ✓").format(language=LANGUAGE_NAMES[language])
        )
        if first_time or onboarding_step(person) is not OnboardingStep.DONE:
            await continue_onboarding(message, person, roles, hamgam)
        else:
            await message.answer(
                _("Done. I will speak English with you from now on."),
                reply_markup=menu_keyboard(roles),
            )
        if has_own_menu(roles) and person.telegram_id is not None:
            await set_person_commands(query.bot, i18n, person.telegram_id, language, roles)


@router.callback_query(Consent.filter())
async def give_consent(
    query: CallbackQuery,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
) -> None:
    await query.answer()
    step = onboarding_step(person)
    if step is OnboardingStep.LANGUAGE:
        await ask_language(message)
        return
    if step is OnboardingStep.CONSENT:
        people.consent(person)
        if message.reply_markup is not None:
            await message.edit_reply_markup(reply_markup=None)
        if not await _join_pending_group(message, session, person, state, bot, i18n):
            # Whoever comes without an invite is a resident of the neighbourhood.
            await people.grant(session, person, Role.RESIDENT)
        await session.flush()
    roles = await people.roles_of(session, person)
    await message.answer(
        _("You're all set! Here is what you can do:"), reply_markup=menu_keyboard(roles)
    )


@router.message(Command("language"))
async def change_language(message: Message) -> None:
    await message.answer(_("Please choose your language:"), reply_markup=language_keyboard())


@router.callback_query(MenuAction.filter(F.action == "language"))
async def change_language_from_menu(query: CallbackQuery, message: Message) -> None:
    await query.answer()
    await change_language(message)


@router.message(Command("privacy"))
async def privacy(message: Message, hamgam: Hamgam) -> None:
    await message.answer(privacy_text(hamgam.settings.anonymous_min_responses))


@router.callback_query(MenuAction.filter(F.action == "privacy"))
async def privacy_from_menu(query: CallbackQuery, message: Message, hamgam: Hamgam) -> None:
    await query.answer()
    await privacy(message, hamgam)
