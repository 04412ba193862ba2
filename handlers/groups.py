"""Staff managing groups: create, rename, members, invite links; linking Telegram group chats."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, ChatMemberUpdated, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.groups import service as groups
from bot.groups.models import Group, GroupKind
from bot.groups.service import NAME_MAX, GroupError, GroupProblem
from bot.people import service as people
from bot.people.models import Person, Role
from bot.telegram.commands import set_person_commands
from bot.telegram.filters import GroupChat, PrivateChat, Typed
from bot.telegram.guards import Onboarded, RequireRole
from handlers.locale import number
from handlers.menu import MenuAction

router = Router(name="groups")
router.message.middleware(RequireRole(Role.STAFF))
router.callback_query.middleware(RequireRole(Role.STAFF))

private = Router(name="groups.private")
private.message.filter(PrivateChat(), Onboarded())
private.callback_query.filter(PrivateChat(), Onboarded())
chats = Router(name="groups.chats")
chats.message.filter(GroupChat())
chats.callback_query.filter(GroupChat())
router.include_routers(private, chats)

# Updates about the bot's own membership need no staff role, so they live outside `router`.
membership = Router(name="groups.membership")


class GroupForm(StatesGroup):
    name_fa = State()
    name_en = State()


class GroupAction(CallbackData, prefix="grp"):
    action: str
    group_id: int = 0


class MemberRemoval(CallbackData, prefix="grpm"):
    group_id: int
    person_id: int


class LinkChoice(CallbackData, prefix="link"):
    group_id: int


def problem_text(problem: GroupProblem) -> str:
    return {
        GroupProblem.NAME_EMPTY: _("The name is empty. Please send the name as text."),
        GroupProblem.NAME_TOO_LONG: _(
            "That name is too long; please keep it under {limit} characters."
        ).format(limit=number(NAME_MAX)),
        GroupProblem.COMMITTEE_EXISTS: _("There is already a steering committee."),
        GroupProblem.NOT_FOUND: _("That group no longer exists."),
    }[problem]


def kind_text(kind: str) -> str:
    if kind == GroupKind.STEERING_COMMITTEE:
        return _("steering committee")
    return _("working group")


async def groups_overview(session: AsyncSession, language: str) -> tuple[str, InlineKeyboardMarkup]:
    summaries = await groups.summaries(session)
    builder = InlineKeyboardBuilder()
    if not summaries:
        text = _("There are no groups yet.")
    else:
        lines = [_("<b>Groups</b>")]
        for summary in summaries:
            group = summary.group
            linked = " 💬" if group.chat_id else ""
            lines.append(
                # The id is what the command line asks for (hamgam checkin add --group ID).
                ngettext(
                    "• #{id} {name} ({kind}): {count} member",
                    "• #{id} {name} ({kind}): {count} members",
                    summary.member_count,
                ).format(
                    id=number(group.id),
                    name=escape(group.name(language)),
                    kind=kind_text(group.kind),
                    count=number(summary.member_count),
                )
                + linked
            )
            builder.button(
                text=group.name(language)[:40],
                callback_data=GroupAction(action="open", group_id=group.id),
            )
        text = "\n".join(lines)
    builder.button(text=_("➕ New working group"), callback_data=GroupAction(action="new_wg"))
    if not any(s.group.kind == GroupKind.STEERING_COMMITTEE for s in summaries):
        builder.button(
            text=_("➕ New steering committee"), callback_data=GroupAction(action="new_sc")
        )
    builder.adjust(1)
    return text, builder.as_markup()


def group_card(
    group: Group, member_count: int, bot_username: str
) -> tuple[str, InlineKeyboardMarkup]:
    language_names = f"{escape(group.name_fa)}\n{escape(group.name_en)}"
    lines = [
        f"<b>{language_names}</b>",
        _("Kind: {kind}").format(kind=kind_text(group.kind)),
        _("Members: {count}").format(count=number(member_count)),
    ]
    lines.append(_("Linked group chat: yes") if group.chat_id else _("Linked group chat: no"))
    if group.invite_code:
        link = f"https://t.me/{bot_username}?start={group.invite_code}"
        lines.append(_("Invite link: {link}").format(link=link))
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🔗 New invite link"), callback_data=GroupAction(action="invite", group_id=group.id)
    )
    if group.invite_code:
        builder.button(
            text=_("🚫 Revoke invite link"),
            callback_data=GroupAction(action="revoke", group_id=group.id),
        )
    builder.button(
        text=_("👤 Members"), callback_data=GroupAction(action="members", group_id=group.id)
    )
    builder.button(
        text=_("✏️ Rename"), callback_data=GroupAction(action="rename", group_id=group.id)
    )
    builder.button(text=_("« All groups"), callback_data=GroupAction(action="list"))
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()


async def _show_card(
    message: Message, session: AsyncSession, group_id: int, bot_username: str, edit: bool
) -> None:
    group = await groups.get(session, group_id)
    count = len(await groups.members(session, group_id))
    text, keyboard = group_card(group, count, bot_username)
    if edit:
        await message.edit_text(text, reply_markup=keyboard)
    else:
        await message.answer(text, reply_markup=keyboard)


@private.message(Command("groups"))
async def list_groups(message: Message, session: AsyncSession, language: str) -> None:
    text, keyboard = await groups_overview(session, language)
    await message.answer(text, reply_markup=keyboard)


@private.callback_query(MenuAction.filter(F.action == "groups"))
async def list_groups_from_menu(
    query: CallbackQuery, message: Message, session: AsyncSession, language: str
) -> None:
    await query.answer()
    await list_groups(message, session, language)


@private.message(Command("newgroup"))
async def new_group(message: Message, state: FSMContext) -> None:
    await state.set_state(GroupForm.name_fa)
    await state.set_data({"kind": GroupKind.WORKING_GROUP.value})
    await message.answer(_("What is the new working group called in Persian?"))


@private.callback_query(GroupAction.filter(F.action.in_({"new_wg", "new_sc"})))
async def new_group_from_button(
    query: CallbackQuery, callback_data: GroupAction, message: Message, state: FSMContext
) -> None:
    await query.answer()
    kind = (
        GroupKind.STEERING_COMMITTEE
        if callback_data.action == "new_sc"
        else (GroupKind.WORKING_GROUP)
    )
    await state.set_state(GroupForm.name_fa)
    await state.set_data({"kind": kind.value})
    if kind is GroupKind.STEERING_COMMITTEE:
        await message.answer(_("What is the steering committee called in Persian?"))
    else:
        await message.answer(_("What is the new working group called in Persian?"))


@private.message(StateFilter(GroupForm.name_fa), Typed())
async def group_name_fa(message: Message, state: FSMContext) -> None:
    try:
        name = groups.clean_name(message.text or "")
    except GroupError as error:
        await message.answer(problem_text(error.problem))
        return
    await state.update_data({"name_fa": name})
    await state.set_state(GroupForm.name_en)
    await message.answer(_("And in English?"))


@private.message(StateFilter(GroupForm.name_en), Typed())
async def group_name_en(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
    bot_username: str,
) -> None:
    data = await state.get_data()
    try:
        if "group_id" in data:
            group = await groups.rename(
                session, data["group_id"], data["name_fa"], message.text or "", person.id
            )
            await message.answer(_("Renamed."))
        else:
            group = await groups.create(
                session, GroupKind(data["kind"]), data["name_fa"], message.text or "", person.id
            )
            await message.answer(_("Created. Share an invite link so that members can join."))
    except GroupError as error:
        await message.answer(problem_text(error.problem))
        if error.problem in (GroupProblem.NAME_EMPTY, GroupProblem.NAME_TOO_LONG):
            return
        await state.clear()
        return
    await state.clear()
    await _show_card(message, session, group.id, bot_username, edit=False)


@private.callback_query(GroupAction.filter())
async def group_action(
    query: CallbackQuery,
    callback_data: GroupAction,
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    language: str,
    bot_username: str,
) -> None:
    action, group_id = callback_data.action, callback_data.group_id
    try:
        if action == "list":
            text, keyboard = await groups_overview(session, language)
            await message.edit_text(text, reply_markup=keyboard)
        elif action == "open":
            await _show_card(message, session, group_id, bot_username, edit=True)
        elif action == "invite":
            await groups.new_invite(session, group_id, person.id)
            await _show_card(message, session, group_id, bot_username, edit=True)
        elif action == "revoke":
            await groups.revoke_invite(session, group_id, person.id)
            await _show_card(message, session, group_id, bot_username, edit=True)
            await query.answer(_("The old invite link no longer works."))
            return
        elif action == "members":
            await _show_members(message, session, group_id, language)
        elif action == "rename":
            group = await groups.get(session, group_id)
            await state.set_state(GroupForm.name_fa)
            await state.set_data({"group_id": group.id})
            await message.answer(
                _("Current names: {fa} / {en}\nWhat should it be called in Persian?").format(
                    fa=escape(group.name_fa), en=escape(group.name_en)
                )
            )
        else:
            await query.answer(_("This button has expired."), show_alert=True)
            return
    except GroupError as error:
        await query.answer(problem_text(error.problem), show_alert=True)
        return
    await query.answer()


async def _show_members(
    message: Message, session: AsyncSession, group_id: int, language: str
) -> None:
    group = await groups.get(session, group_id)
    members = await groups.members(session, group_id)
    builder = InlineKeyboardBuilder()
    if not members:
        text = _("«{group}» has no members yet.").format(group=escape(group.name(language)))
    else:
        lines = [_("<b>Members of «{group}»</b>").format(group=escape(group.name(language)))]
        for member in members:
            name = member.display_name or _("(deleted)")
            handle = f" @{member.username}" if member.username else ""
            lines.append(f"• {escape(name)}{escape(handle)}")
            builder.button(
                text=_("✖ {name}").format(name=name[:30]),
                callback_data=MemberRemoval(group_id=group.id, person_id=member.id),
            )
        text = "\n".join(lines)
    builder.button(text=_("« Back"), callback_data=GroupAction(action="open", group_id=group.id))
    builder.adjust(1)
    await message.edit_text(text, reply_markup=builder.as_markup())


@private.callback_query(MemberRemoval.filter())
async def remove_member(
    query: CallbackQuery,
    callback_data: MemberRemoval,
    message: Message,
    session: AsyncSession,
    person: Person,
    language: str,
    bot: Bot,
    i18n: I18n,
) -> None:
    removed = await groups.remove_member(
        session, callback_data.group_id, callback_data.person_id, person.id
    )
    await query.answer(_("Removed.") if removed else _("They are no longer a member."))
    former = await session.get(Person, callback_data.person_id)
    if removed and former is not None and former.telegram_id is not None:
        roles = await people.roles_of(session, former)
        await set_person_commands(bot, i18n, former.telegram_id, former.language, roles)
    try:
        await _show_members(message, session, callback_data.group_id, language)
    except GroupError as error:
        await message.edit_text(problem_text(error.problem))


@chats.message(Command("link"))
async def link_chat(message: Message, session: AsyncSession, language: str) -> None:
    summaries = await groups.summaries(session)
    if not summaries:
        await message.reply(_("There are no groups yet. Create one in a private chat with me."))
        return
    builder = InlineKeyboardBuilder()
    for summary in summaries:
        builder.button(
            text=summary.group.name(language)[:40],
            callback_data=LinkChoice(group_id=summary.group.id),
        )
    builder.adjust(1)
    await message.reply(
        _("Which group does this chat belong to?"), reply_markup=builder.as_markup()
    )


@chats.callback_query(LinkChoice.filter())
async def link_chosen(
    query: CallbackQuery,
    callback_data: LinkChoice,
    message: Message,
    session: AsyncSession,
    person: Person,
    language: str,
) -> None:
    try:
        group = await groups.link_chat(session, callback_data.group_id, message.chat.id, person.id)
    except GroupError as error:
        await query.answer(problem_text(error.problem), show_alert=True)
        return
    await query.answer()
    await message.edit_text(
        _("This chat is now linked to «{group}».").format(group=escape(group.name(language)))
    )


@chats.message(Command("unlink"))
async def unlink_chat(message: Message, session: AsyncSession, person: Person) -> None:
    group = await groups.unlink_chat(session, message.chat.id, person.id)
    if group is None:
        await message.reply(_("This chat is not linked to any group."))
    else:
        await message.reply(_("This chat is no longer linked."))


@membership.my_chat_member(GroupChat())
async def bot_membership_changed(
    update: ChatMemberUpdated, session: AsyncSession, bot: Bot
) -> None:
    status = update.new_chat_member.status
    if status in ("left", "kicked"):
        await groups.unlink_chat(session, update.chat.id, None)
    elif update.old_chat_member.status in ("left", "kicked"):
        await bot.send_message(
            update.chat.id,
            _(
                "Hello! I am Hamgam. A member of the backbone staff can send /link here to link"
                " this chat to a group."
            ),
        )


async def _migrated(message: Message) -> bool:
    return message.migrate_to_chat_id is not None


@membership.message(_migrated)
async def chat_migrated(message: Message, session: AsyncSession) -> None:
    assert message.migrate_to_chat_id is not None
    await groups.follow_chat_migration(session, message.chat.id, message.migrate_to_chat_id)
