"""/stop (no more messages but replies) and /forget (delete my personal data)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.people import service as people
from bot.people.models import Person
from bot.telegram.filters import PrivateChat
from handlers.checkins import compose_summaries_again

router = Router(name="leave")
router.message.filter(PrivateChat())


class ForgetChoice(CallbackData, prefix="forget"):
    confirm: bool


@router.my_chat_member(PrivateChat())
async def blocked_or_unblocked(update: ChatMemberUpdated, person: Person | None) -> None:
    """Telegram tells us when a person blocks the bot (and unblocks it)."""
    if person is None:
        return
    if update.new_chat_member.status == "kicked":
        people.mark_unreachable(person)
    elif update.new_chat_member.status == "member":
        people.mark_reachable(person)


@router.message(Command("stop"))
async def stop(message: Message, person: Person) -> None:
    people.opt_out(person)
    await message.answer(
        _(
            "Done. I will not send you announcements, check-ins or reminders any more;"
            " I will only reply when you write to me. Send /start to come back."
        )
    )


@router.message(Command("forget"))
async def forget(message: Message) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🗑 Yes, delete my data"), callback_data=ForgetChoice(confirm=True))
    builder.button(text=_("Cancel"), callback_data=ForgetChoice(confirm=False))
    await message.answer(
        _(
            "This deletes your name, Telegram id and username, language, groups, roles and"
            " everything you wrote. The numbers and choices you gave stay only as anonymous"
            " figures. This cannot be undone.\n\nDelete your data?"
        ),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(ForgetChoice.filter())
async def forget_chosen(
    query: CallbackQuery,
    callback_data: ForgetChoice,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
) -> None:
    await query.answer()
    if not callback_data.confirm:
        await message.edit_text(_("Nothing was deleted."))
        return
    await state.clear()  # first: people.forget then deletes the conversation's row
    await compose_summaries_again(session, await people.forget(session, person))
    await message.edit_text(
        _(
            "Your personal data has been deleted. Goodbye! If you send /start again,"
            " you will start as a new person."
        )
    )
