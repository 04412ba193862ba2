"""/announce, /announcements, and the progress of announcements being sent."""

from __future__ import annotations

import logging
from dataclasses import asdict
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.announcements import service as announcements
from bot.announcements.models import Announcement, AnnouncementStatus
from bot.announcements.service import Progress, TextError, TextProblem
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.content import Content, Media, render
from bot.delivery.outbox import Outgoing
from bot.i18n import LANGUAGES
from bot.i18n import format as fmt
from bot.i18n.normalize import MomentError, is_skip, parse_moment
from bot.people import audience as audiences
from bot.people.audience import Audience
from bot.people.models import Person, Role
from bot.telegram.app import Hamgam
from bot.telegram.filters import Attachment, PrivateChat, Typed
from bot.telegram.guards import Onboarded, RequireRole
from handlers import audience as audience_picker
from handlers.locale import current_language, in_each_language, number

router = Router(name="announcements")
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())
router.message.middleware(RequireRole(Role.STAFF))
router.callback_query.middleware(RequireRole(Role.STAFF))
log = logging.getLogger(__name__)


class AnnounceForm(StatesGroup):
    text_fa = State()
    text_en = State()
    media = State()
    review = State()
    schedule = State()


class Announce(CallbackData, prefix="ann"):
    action: str
    value: str = ""


def _button(builder: InlineKeyboardBuilder, text: str, action: str, value: str = "") -> None:
    builder.button(text=text, callback_data=Announce(action=action, value=value))


def text_problem(error: TextError) -> str:
    if error.problem is TextProblem.EMPTY:
        return _("The text is empty. Please send the announcement as text.")
    return _("That is too long. Please keep it to {limit} characters at most.").format(
        limit=number(error.limit)
    )


@router.message(Command("announce"))
async def start(message: Message, state: FSMContext) -> None:
    await state.set_state(AnnounceForm.text_fa)
    await state.set_data({})
    await message.answer(
        _("📣 <b>New announcement</b>\nSend the text in Persian (or «-» for English only).")
    )


@router.message(StateFilter(AnnounceForm.text_fa, AnnounceForm.text_en), Typed())
async def text(message: Message, state: FSMContext, raw_state: str) -> None:
    english = raw_state == AnnounceForm.text_en.state
    if is_skip(message.text or ""):
        if english and not (await state.get_data()).get("text_fa"):
            await message.answer(_("The announcement needs a text in at least one language."))
        elif english:
            await skip_english_text(message, state)
        else:
            await state.update_data({"text_fa": None})
            await state.set_state(AnnounceForm.text_en)
            await message.answer(_("Now the English text."))
        return
    try:
        cleaned = announcements.clean_text(message.text or "", with_media=False)
    except TextError as error:
        await message.answer(text_problem(error))
        return
    if english:
        await state.update_data({"text_en": cleaned})
        await ask_media(message, state)
        return
    await state.update_data({"text_fa": cleaned})
    await state.set_state(AnnounceForm.text_en)
    builder = InlineKeyboardBuilder()
    _button(builder, _("Skip: use the Persian text"), "skip_en")
    await message.answer(
        _("Now the English text, or skip it (or send «-») and everyone reads the Persian."),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(StateFilter(AnnounceForm.text_en), Announce.filter(F.action == "skip_en"))
async def skip_english(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    if not (await state.get_data()).get("text_fa"):  # a button from an earlier announcement
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await skip_english_text(message, state)


async def skip_english_text(message: Message, state: FSMContext) -> None:
    await state.update_data({"text_en": None})
    await ask_media(message, state)


async def ask_media(message: Message, state: FSMContext) -> None:
    await state.set_state(AnnounceForm.media)
    builder = InlineKeyboardBuilder()
    _button(builder, _("No attachment"), "no_media")
    await message.answer(
        _("Attach a photo or a document? Send it now, or press «No attachment»."),
        reply_markup=builder.as_markup(),
    )


@router.message(StateFilter(AnnounceForm.media), Attachment())
async def media(message: Message, state: FSMContext, session: AsyncSession) -> None:
    data = await state.get_data()
    try:
        for key in ("text_fa", "text_en"):
            if data.get(key):
                announcements.clean_text(data[key], with_media=True)
    except TextError as error:
        await message.answer(
            text_problem(error) + "\n" + _("Send /announce to start again with a shorter text.")
        )
        return
    if message.photo:
        attached = Media(kind="photo", file_id=message.photo[-1].file_id)
    else:
        assert message.document is not None
        attached = Media(
            kind="document", file_id=message.document.file_id, file_name=message.document.file_name
        )
    await state.update_data({"media": asdict(attached)})
    await ask_audience(message, state)


@router.message(StateFilter(AnnounceForm.media))
async def media_expected(message: Message) -> None:
    await message.answer(_("Please send a photo or a document, or press «No attachment»."))


@router.callback_query(StateFilter(AnnounceForm.media), Announce.filter(F.action == "no_media"))
async def no_media(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    await query.answer()
    await state.update_data({"media": None})
    await ask_audience(message, state)


async def ask_audience(message: Message, state: FSMContext) -> None:
    await audience_picker.ask(message, state, "announcement", _("Who should receive it?"))


async def _preview(message: Message, content: Content, language: str, i18n: I18n) -> None:
    """The announcement exactly as a reader in this language will receive it."""
    rendered = render(content, language)
    with i18n.use_locale(language):
        if content.media is None:
            await message.answer(rendered.text)
        elif content.media.kind == "photo":
            await message.answer_photo(content.media.file_id or "", caption=rendered.text)
        else:
            await message.answer_document(content.media.file_id or "", caption=rendered.text)


def _review_keyboard(pin: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    _button(builder, _("✅ Send now"), "send")
    _button(builder, _("🕒 Schedule…"), "schedule")
    _button(
        builder,
        _("📌 Also post and pin in group chats: yes")
        if pin
        else _("📌 Also post and pin in group chats: no"),
        "pin",
    )
    _button(builder, _("✖ Cancel"), "discard")
    builder.adjust(2, 1, 1)
    return builder.as_markup()


@audience_picker.chosen("announcement")
async def review(
    message: Message, state: FSMContext, session: AsyncSession, audience: Audience
) -> None:
    i18n = get_i18n()
    data = await state.update_data({"audience": audience.to_json(), "pin": False})
    await state.set_state(AnnounceForm.review)
    content = announcements.compose(data.get("text_fa"), data.get("text_en"), data.get("media"))
    for language in LANGUAGES:
        await message.answer(
            _("Preview for Persian readers:")
            if language == "fa"
            else _("Preview for English readers:")
        )
        await _preview(message, content, language, i18n)
    recipients = await audiences.count(session, audience)
    await message.answer(
        _("It will go to {count} people.").format(count=number(recipients)),
        reply_markup=_review_keyboard(False),
    )


@router.callback_query(StateFilter(AnnounceForm.review), Announce.filter(F.action == "pin"))
async def toggle_pin(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    data = await state.update_data({"pin": not data.get("pin")})
    await query.answer()
    await message.edit_reply_markup(reply_markup=_review_keyboard(bool(data["pin"])))


@router.callback_query(StateFilter(AnnounceForm.review), Announce.filter(F.action == "discard"))
async def discard(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    await query.answer()
    await state.clear()
    await message.edit_text(_("The announcement was discarded."))


async def _create(
    data: dict[str, Any], session: AsyncSession, person: Person, scheduled_at: Any = None
) -> Announcement:
    return await announcements.create(
        session,
        person.id,
        data.get("text_fa"),
        data.get("text_en"),
        Audience.from_json(data["audience"]),
        media=Media(**data["media"]) if data.get("media") else None,
        scheduled_at=scheduled_at,
        post_in_group_chats=bool(data.get("pin")),
    )


@router.callback_query(StateFilter(AnnounceForm.review), Announce.filter(F.action == "send"))
async def send_now(
    query: CallbackQuery,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
) -> None:
    await query.answer()
    announcement = await _create(await state.get_data(), session, person)
    await state.clear()
    await message.edit_reply_markup(reply_markup=None)
    progress = await message.answer(_("📣 Sending is starting…"))
    announcement.progress_chat_id = progress.chat.id
    announcement.progress_message_id = progress.message_id
    await session.commit()
    hamgam.nudge()


@router.callback_query(StateFilter(AnnounceForm.review), Announce.filter(F.action == "schedule"))
async def ask_schedule(query: CallbackQuery, message: Message, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(AnnounceForm.schedule)
    example = (
        fmt.localize_digits("1405/09/15 18:30", "fa")
        if current_language() == "fa"
        else ("2026-12-06 18:30")
    )
    await message.answer(
        _("When should it go out? Type the date and time, for example {example}").format(
            example=example
        )
    )


@router.message(StateFilter(AnnounceForm.schedule), Typed())
async def schedule(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
) -> None:
    tz = hamgam.settings.tz
    try:
        moment = parse_moment(message.text or "", tz)
    except MomentError as error:
        if error.impossible:
            await message.answer(_("There is no such day in the calendar. Please check the date."))
        else:
            await message.answer(_("I could not read that. Please type it like the example."))
        return
    if moment <= clock.now():
        await message.answer(_("That moment has passed. Please choose a time in the future."))
        return
    announcement = await _create(await state.get_data(), session, person, moment)
    await state.clear()
    builder = InlineKeyboardBuilder()
    _button(builder, _("✖ Cancel this announcement"), "cancel", str(announcement.id))
    await message.answer(
        _("🕒 Scheduled for {moment}.").format(moment=fmt.moment(moment, current_language(), tz)),
        reply_markup=builder.as_markup(),
    )


@router.message(Command("announcements"))
async def list_announcements(message: Message, session: AsyncSession, hamgam: Hamgam) -> None:
    recent = await announcements.recent(session)
    if not recent:
        await message.answer(_("There are no announcements yet. Send /announce to write one."))
        return
    language = current_language()
    lines = [_("<b>Recent announcements</b>")]
    builder = InlineKeyboardBuilder()
    for announcement, progress in recent:
        when = fmt.moment(
            announcement.started_at or announcement.scheduled_at, language, hamgam.settings.tz
        )
        title = escape(
            fmt.excerpt(
                (announcement.text_fa if language == "fa" else announcement.text_en)
                or announcement.text_fa
                or announcement.text_en
                or "",
                40,
            )
        )
        lines.append(f"\n<b>#{number(announcement.id)}</b> · {when}\n{title}")
        lines.append(status_line(announcement, progress))
        if announcement.status == AnnouncementStatus.SCHEDULED:
            _button(
                builder,
                _("✖ Cancel #{id}").format(id=number(announcement.id)),
                "cancel",
                str(announcement.id),
            )
    builder.adjust(1)
    await message.answer("\n".join(lines), reply_markup=builder.as_markup())


def status_line(announcement: Announcement, progress: Progress) -> str:
    if announcement.status == AnnouncementStatus.SCHEDULED:
        return _("🕒 scheduled")
    if announcement.status == AnnouncementStatus.CANCELLED:
        return _("✖ cancelled") + " · " + figures(progress)
    return figures(progress)


def figures(progress: Progress) -> str:
    """Where the announcement stands, in sentences; a count of nobody is left out."""
    sentences = [
        _("✅ It has reached {sent} of {total} people.").format(
            sent=number(progress.sent), total=number(progress.total)
        )
    ]
    if progress.failed:
        sentences.append(
            ngettext(
                "Sending failed for {failed} person.",
                "Sending failed for {failed} people.",
                progress.failed,
            ).format(failed=number(progress.failed))
        )
    if unreachable := progress.unreachable + progress.skipped:
        sentences.append(
            ngettext(
                "{unreachable} person could not be reached.",
                "{unreachable} people could not be reached.",
                unreachable,
            ).format(unreachable=number(unreachable))
        )
    return " ".join(sentences)


@router.callback_query(Announce.filter(F.action == "cancel"))
async def cancel(
    query: CallbackQuery,
    callback_data: Announce,
    message: Message,
    session: AsyncSession,
    person: Person,
) -> None:
    cancelled = callback_data.value.isdigit() and await announcements.cancel(
        session, int(callback_data.value), person.id
    )
    if cancelled:
        await query.answer(_("Cancelled: it will not be sent."), show_alert=True)
        await message.edit_reply_markup(reply_markup=None)
    else:
        await query.answer(_("It can no longer be cancelled."), show_alert=True)


class ProgressReporter:
    """Starts announcements whose time has come, keeps each sender's progress message up to
    date, and tells them when it is done. Everything it knows is read from the database."""

    def __init__(self, hamgam: Hamgam) -> None:
        self.hamgam = hamgam
        self._shown: dict[int, str] = {}

    async def run(self) -> None:
        with self.hamgam.i18n.context():
            await self._run()

    async def _run(self) -> None:
        hamgam = self.hamgam
        async with transaction(hamgam.sessions) as session:
            if await announcements.start_due(session, clock.now()):
                hamgam.sender.wake()
        async with transaction(hamgam.sessions) as session:
            for announcement in await announcements.sending(session):
                progress = await announcements.progress(session, announcement)
                author = await session.get(Person, announcement.author_id or -1)
                language = (author.language if author else None) or "fa"
                if progress.done:
                    announcements.finish(announcement)
                    if author is not None and author.telegram_id is not None:
                        await outbox.enqueue(
                            session, [self._summary(announcement, progress, author)]
                        )
                        hamgam.sender.wake()
                await self._show(announcement, progress, language)

    def _summary(self, announcement: Announcement, progress: Progress, author: Person) -> Outgoing:
        texts = in_each_language(
            lambda _language: (
                _("📣 Announcement #{id} has been sent.").format(id=number(announcement.id))
                + "\n"
                + figures(progress)
            )
        )
        assert author.telegram_id is not None
        return Outgoing(
            f"{announcement.batch}:summary",
            author.telegram_id,
            Content(text=texts),
            person_id=author.id,
        )

    async def _show(self, announcement: Announcement, progress: Progress, language: str) -> None:
        if announcement.progress_chat_id is None or announcement.progress_message_id is None:
            return
        with self.hamgam.i18n.use_locale(language):
            head = (
                _("📣 Announcement #{id} is sent.")
                if progress.done
                else _("📣 Announcement #{id} is being sent…")
            ).format(id=number(announcement.id))
            text = head + "\n" + figures(progress)
            if self._shown.get(announcement.id) == text:
                return
            self._shown[announcement.id] = text
            bot: Bot = self.hamgam.bot
            try:
                await bot.edit_message_text(
                    text,
                    chat_id=announcement.progress_chat_id,
                    message_id=announcement.progress_message_id,
                )
            except TelegramAPIError as error:  # deleted, too old: progress is in /announcements
                log.info("Progress of announcement %s not shown: %s", announcement.id, error)
        if progress.done:
            self._shown.pop(announcement.id, None)
