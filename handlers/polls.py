"""Quick polls: staff post a native Telegram poll to linked group chats or privately to an
audience; votes (poll_answer) are stored; the poll is stopped at its closing time."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    PollAnswer,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.content import POLL_OPTION_MAX, POLL_QUESTION_MAX, Content, Poll, pick
from bot.delivery.outbox import Outgoing
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.i18n.normalize import is_skip, normalize_text, read_bilingual_lines
from bot.people.audience import Audience
from bot.people.models import Person, Role
from bot.polls import service as polls
from bot.polls.models import PollStatus, PollTarget, QuickPoll
from bot.telegram.app import Hamgam
from bot.telegram.filters import PrivateChat, Typed
from bot.telegram.guards import Onboarded, RequireRole
from handlers import audience as audience_picker
from handlers.forms import keyboard, too_long
from handlers.locale import current_language, number

votes = Router(name="polls.votes")  # poll_answer updates: anyone, from any chat
router = Router(name="polls")
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())
router.message.middleware(RequireRole(Role.STAFF))
router.callback_query.middleware(RequireRole(Role.STAFF))

CLOSE_AFTER = {
    1: N_("In an hour"),
    24: N_("In a day"),
    72: N_("In three days"),
    168: N_("In a week"),
}


class PollForm(StatesGroup):
    question_fa = State()
    question_en = State()
    options = State()


class PollAdmin(CallbackData, prefix="pol"):
    action: str
    value: str = ""


def _keyboard(rows: list[list[tuple[str, str, str]]]) -> InlineKeyboardMarkup:
    """Rows of (label, action, value)."""
    return keyboard(
        [
            [(text, PollAdmin(action=action, value=value)) for text, action, value in row]
            for row in rows
        ]
    )


@votes.poll_answer()
async def voted(poll_answer: PollAnswer, session: AsyncSession) -> None:
    if poll_answer.user is None:  # a vote on behalf of a chat: not one of our people
        return
    await polls.vote(session, poll_answer.poll_id, poll_answer.user.id, poll_answer.option_ids)


@router.message(Command("poll"))
async def new_poll(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(PollForm.question_fa)
    await message.answer(_("The poll's question in Persian? (or «-» for English only)"))


@router.message(StateFilter(PollForm.question_fa), Typed())
async def question_fa_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    if not is_skip(typed) and len(typed) > POLL_QUESTION_MAX:
        await too_long(message, POLL_QUESTION_MAX)
        return
    await state.update_data({"fa": "" if is_skip(typed) else typed})
    await state.set_state(PollForm.question_en)
    await message.answer(_("And in English? (or «-» to keep it only in Persian)"))


@router.message(StateFilter(PollForm.question_en), Typed())
async def question_en_typed(message: Message, state: FSMContext) -> None:
    typed = normalize_text(message.text or "")
    data = await state.get_data()
    if is_skip(typed) and not data.get("fa"):
        await message.answer(_("The question needs a text in at least one language."))
        return
    if not is_skip(typed) and len(typed) > POLL_QUESTION_MAX:
        await too_long(message, POLL_QUESTION_MAX)
        return
    question = {
        k: v for k, v in (("fa", data.get("fa", "")), ("en", typed)) if v and not is_skip(v)
    }
    await state.update_data({"question": question})
    await state.set_state(PollForm.options)
    await message.answer(
        _(
            "Send the options, one per line (two to ten). To give both languages, write"
            " «Persian / English» on a line."
        )
    )


@router.message(StateFilter(PollForm.options), Typed())
async def options_typed(message: Message, state: FSMContext) -> None:
    options = read_bilingual_lines(message.text or "", POLL_OPTION_MAX, 2, polls.MAX_OPTIONS)
    if options is None:
        await message.answer(
            _(
                "Please send two to ten options, one per line, each up to {limit} characters."
            ).format(limit=number(POLL_OPTION_MAX))
        )
        return
    await state.update_data({"options": options})
    await state.set_state(None)
    await message.answer(
        _("Can people choose more than one?"),
        reply_markup=_keyboard(
            [[(_("One answer"), "multiple", "0"), (_("Several answers"), "multiple", "1")]]
        ),
    )


@router.callback_query(PollAdmin.filter(F.action == "multiple"))
async def multiple_chosen(
    query: CallbackQuery, callback_data: PollAdmin, message: Message, state: FSMContext
) -> None:
    if "options" not in await state.get_data():
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await state.update_data({"multiple": callback_data.value == "1"})
    await message.edit_text(
        _("Where should the poll go?"),
        reply_markup=_keyboard(
            [
                [(_("💬 The linked group chats"), "where", PollTarget.CHATS.value)],
                [(_("👤 Privately, to people I choose…"), "where", PollTarget.PRIVATE.value)],
            ]
        ),
    )


@router.callback_query(PollAdmin.filter(F.action == "where"))
async def target_chosen(
    query: CallbackQuery,
    callback_data: PollAdmin,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    if "multiple" not in await state.get_data() or callback_data.value not in set(PollTarget):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await state.update_data({"target": callback_data.value})
    if callback_data.value == PollTarget.PRIVATE:
        await audience_picker.ask(message, state, "poll", _("Who should receive it?"))
        return
    await _ask_close(message)


@audience_picker.chosen("poll")
async def audience_chosen(
    message: Message, state: FSMContext, session: AsyncSession, audience: Audience
) -> None:
    await state.update_data({"audience": audience.to_json()})
    await state.set_state(None)
    await _ask_close(message)


async def _ask_close(message: Message) -> None:
    choices = [(_(label), "close_in", str(hours)) for hours, label in CLOSE_AFTER.items()]
    await message.answer(
        _("When does it close?"), reply_markup=_keyboard([choices[:2], choices[2:]])
    )


@router.callback_query(PollAdmin.filter(F.action == "close_in"))
async def post(
    query: CallbackQuery,
    callback_data: PollAdmin,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
) -> None:
    data = await state.get_data()
    if "target" not in data or callback_data.value not in map(str, CLOSE_AFTER):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    target = PollTarget(data["target"])
    poll, destinations = await polls.create(
        session,
        question=data["question"],
        options=data["options"],
        multiple=bool(data["multiple"]),
        target=target,
        audience=Audience.from_json(data["audience"]) if data.get("audience") else None,
        closes_at=clock.now() + timedelta(hours=int(callback_data.value)),
        author_id=person.id,
    )
    if not destinations:
        await query.answer(
            _("No group chat is linked yet: add me to a group and send /link there.")
            if target is PollTarget.CHATS
            else _("Nobody in that audience can receive messages."),
            show_alert=True,
        )
        await session.rollback()
        return
    content = Content(text={}, poll=Poll(poll.question, poll.options, poll.multiple))
    await outbox.enqueue(
        session,
        [
            Outgoing(
                f"{poll.batch}:{place.chat_id}",
                place.chat_id,
                content,
                person_id=place.person_id,
                batch=poll.batch,
                language="both" if place.person_id is None else None,
            )
            for place in destinations
        ],
    )
    await state.clear()
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await message.answer(
        ngettext(
            "✅ The poll goes to {count} chat and closes {closes}. See the votes with /polls.",
            "✅ The poll goes to {count} chats and closes {closes}. See the votes with /polls.",
            len(destinations),
        ).format(
            count=number(len(destinations)),
            closes=fmt.moment(poll.closes_at, current_language()),
        )
    )
    hamgam.sender.wake()


@router.message(Command("polls"))
async def list_polls(message: Message, session: AsyncSession) -> None:
    language = current_language()
    found = await polls.recent(session)
    if not found:
        await message.answer(_("There are no polls yet. Post one with /poll."))
        return
    for poll in found:
        tally = await polls.tally(session, poll)
        await message.answer(
            tally_text(tally, language),
            reply_markup=_keyboard([[(_("🛑 Close it now"), "stop", str(poll.id))]])
            if poll.status == PollStatus.OPEN
            else None,
        )


def tally_text(tally: polls.Tally, language: str) -> str:
    poll = tally.poll
    voters = fmt.number(tally.voters, language)
    lines = [
        f"📊 <b>{escape(pick(poll.question, language))}</b>",
        ngettext(
            "{voters} person has voted; voting is open until {moment}.",
            "{voters} people have voted; voting is open until {moment}.",
            tally.voters,
        ).format(voters=voters, moment=fmt.moment(poll.closes_at, language))
        if poll.status == PollStatus.OPEN
        else ngettext(
            "{voters} person voted; voting has closed.",
            "{voters} people voted; voting has closed.",
            tally.voters,
        ).format(voters=voters),
    ]
    for option, count, names in zip(poll.options, tally.counts, tally.names, strict=True):
        share = fmt.percent(count / tally.voters if tally.voters else 0, language)
        line = f"• {escape(pick(option, language))}: {fmt.number(count, language)} ({share})"
        if names:
            line += f" — {escape(fmt.listing(names[:10], language))}"
        lines.append(line)
    return "\n".join(lines)


@router.callback_query(PollAdmin.filter(F.action == "stop"))
async def stop_now(
    query: CallbackQuery,
    callback_data: PollAdmin,
    message: Message,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
) -> None:
    poll = (
        await session.get(QuickPoll, int(callback_data.value))
        if callback_data.value.isdigit()
        else None
    )
    if poll is None or poll.status != PollStatus.OPEN:
        await query.answer(_("This poll is not open."), show_alert=True)
        return
    await polls.close(session, poll, clock.now(), person.id)
    await query.answer(_("Closed."))
    await message.edit_text(tally_text(await polls.tally(session, poll), current_language()))
    hamgam.sender.wake()


class PollClock:
    """Closes polls whose time has come (stopPoll rows go through the outbox)."""

    def __init__(self, hamgam: Hamgam) -> None:
        self.hamgam = hamgam

    async def run(self) -> None:
        async with transaction(self.hamgam.sessions) as session:
            closed = await polls.close_due(session, clock.now())
        if closed:
            self.hamgam.sender.wake()
