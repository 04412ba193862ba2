"""sendPoll and stopPoll: native Telegram polls sent by the bot."""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.errors import bad_request
from bot.sandbox.formatting import render
from bot.sandbox.methods.base import Call, MethodRegistry, commit_send, inline_markup
from bot.sandbox.models import Poll
from bot.sandbox.params import Params
from bot.sandbox.state import SandboxState

methods = MethodRegistry()

QUESTION_LIMIT = 300
OPTION_LIMIT = 100
MAX_OPTIONS = 12


def _question(params: Params) -> str:
    question = render(
        params.get_str("question") or "",
        params.get_str("question_parse_mode"),
        params.get_json("question_entities"),
    ).plain
    if not question:
        raise bad_request("poll question must be non-empty")
    if len(question) > QUESTION_LIMIT:
        raise bad_request(f"poll question length must not exceed {QUESTION_LIMIT}")
    return question


def _options(params: Params) -> list[str]:
    """Options given as strings or InputPollOption objects ({"text": ...})."""
    raw = params.get_json("options")
    if not isinstance(raw, list):
        raise bad_request("can't parse options JSON object")
    texts: list[str] = []
    for option in raw:
        if isinstance(option, dict):
            text = render(
                str(option.get("text") or ""),
                option.get("text_parse_mode"),
                option.get("text_entities"),
            ).plain
        else:
            text = str(option).strip()
        if not text:
            raise bad_request("poll options must be non-empty")
        if len(text) > OPTION_LIMIT:
            raise bad_request(f"poll options length must not exceed {OPTION_LIMIT}")
        texts.append(text)
    if len(texts) < 2:
        raise bad_request("poll must have at least 2 option")
    if len(texts) > MAX_OPTIONS:
        raise bad_request(f"poll can't have more than {MAX_OPTIONS} options")
    return texts


@methods.method("sendPoll")
async def send_poll(state: SandboxState, call: Call) -> dict[str, Any]:
    params = call.params
    chat = state.writable_chat(params.get_str("chat_id"))
    question, options = _question(params), _options(params)
    kind = params.get_str("type") or "regular"
    if kind not in ("regular", "quiz"):
        raise bad_request("poll type is invalid")
    correct = params.get_int("correct_option_id")
    if kind == "quiz" and (correct is None or not 0 <= correct < len(options)):
        raise bad_request("wrong correct option ID")
    open_period = params.get_int("open_period")
    poll = Poll(
        id=str(5_000_000_000 + state.new_id()),
        question=question,
        options=options,
        is_anonymous=params.get_bool("is_anonymous", default=True),
        type=kind,
        allows_multiple_answers=params.get_bool("allows_multiple_answers"),
        correct_option_id=correct,
        open_period=open_period,
        close_date=params.get_int("close_date")
        or (int(time.time()) + open_period if open_period else None),
        is_closed=params.get_bool("is_closed"),
    )
    message = commit_send(state, call, chat, poll=poll)
    state.polls[poll.id] = message
    return message.to_api()


@methods.method("stopPoll")
async def stop_poll(state: SandboxState, call: Call) -> dict[str, Any]:
    chat = state.writable_chat(call.params.get_str("chat_id"))
    message = state.message(chat, call.params.require_int("message_id"))
    if message is None or message.poll is None:
        raise bad_request("message with poll to stop not found")
    if message.poll.is_closed:
        raise bad_request("poll has already been closed")
    markup = inline_markup(call.params)
    message.poll.is_closed = True
    message.reply_markup = markup
    call.message = message
    return message.poll.to_api()
