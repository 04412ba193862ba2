"""How Bot API methods are declared, and the steps most sends share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.sandbox.errors import bad_request, too_many_requests
from bot.sandbox.formatting import Rendered, render
from bot.sandbox.markup import validate_reply_markup
from bot.sandbox.models import Chat, StoredMessage
from bot.sandbox.params import Params
from bot.sandbox.state import SandboxState

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


@dataclass
class Call:
    """One Bot API call in progress; handlers note the chat/message they touched."""

    method: str
    params: Params
    chat_id: int | None = None
    message: StoredMessage | None = None  # an album's first message
    album: list[StoredMessage] = field(default_factory=list)  # all of an album's messages


Handler = Callable[[SandboxState, Call], Awaitable[Any]]
H = TypeVar("H", bound=Handler)


class MethodRegistry:
    """Bot API methods by name; lookups are case-insensitive like Telegram's."""

    def __init__(self) -> None:
        self._methods: dict[str, tuple[str, Handler]] = {}

    def method(self, name: str) -> Callable[[H], H]:
        def register(handler: H) -> H:
            self._methods[name.lower()] = (name, handler)
            return handler

        return register

    def get(self, name: str) -> tuple[str, Handler] | None:
        """The canonical method name and its handler."""
        return self._methods.get(name.lower())

    def include(self, *others: MethodRegistry) -> MethodRegistry:
        for other in others:
            self._methods.update(other._methods)
        return self


def message_text(params: Params) -> Rendered:
    """sendMessage/editMessageText ``text``, parsed and checked like Telegram."""
    rendered = render(
        params.get_str("text") or "", params.get_str("parse_mode"), params.get_json("entities")
    )
    if not rendered.plain:
        raise bad_request("message text is empty")
    if len(rendered.plain) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return rendered


def caption(params: Params) -> Rendered | None:
    """A media ``caption``, parsed; None when absent or blank."""
    return measured_caption(
        params.get_str("caption") or "",
        params.get_str("parse_mode"),
        params.get_json("caption_entities"),
    )


def measured_caption(text: str, parse_mode: str | None, entities: Any) -> Rendered | None:
    """A caption parsed and measured as Telegram measures it; None when blank."""
    rendered = render(text, parse_mode, entities)
    if not rendered.plain:
        return None
    if len(rendered.plain) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return rendered


def reply_markup(params: Params) -> dict[str, Any] | None:
    return validate_reply_markup(params.get_json("reply_markup"))


def inline_markup(params: Params) -> dict[str, Any] | None:
    """reply_markup of an edit: only inline keyboards can be edited in."""
    markup = reply_markup(params)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def replied_message(state: SandboxState, chat: Chat, params: Params) -> StoredMessage | None:
    """The message a send replies to (reply_parameters or legacy reply_to_message_id)."""
    reply = params.get_json("reply_parameters") or {}
    if not isinstance(reply, dict):
        raise bad_request("can't parse reply parameters JSON object")
    message_id = reply.get("message_id") or params.get_int("reply_to_message_id")
    if not message_id:
        return None
    if reply.get("chat_id") not in (None, chat.id):
        raise bad_request("reply to messages in other chats is not emulated")
    found = state.message(chat, int(message_id))
    allow_missing = reply.get("allow_sending_without_reply") or params.get_bool(
        "allow_sending_without_reply"
    )
    if found is None and not allow_missing:
        raise bad_request("message to be replied not found")
    return found


def commit_send(state: SandboxState, call: Call, chat: Chat, **fields: Any) -> StoredMessage:
    """Validate the common parts, count the send against the limits (429 when enforced)
    and store the bot's message."""
    fields["reply_to"] = replied_message(state, chat, call.params)
    fields["reply_markup"] = reply_markup(call.params)
    count_send(state, chat)
    message = state.new_message(chat, state.bot, **fields)
    call.message = message
    return message


def count_send(state: SandboxState, chat: Chat) -> None:
    """Count one send to ``chat`` against the limits (429 when they are enforced)."""
    verdict = state.meter.check(chat.id, chat.is_group)
    if not verdict.ok and state.meter.limits.enforce:
        raise too_many_requests(verdict.retry_after)
    state.meter.record(chat.id)
