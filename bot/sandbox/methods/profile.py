"""The bot's own profile: getMe, commands, menu button, name and descriptions."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.sandbox.errors import bad_request
from bot.sandbox.methods.base import Call, MethodRegistry
from bot.sandbox.params import Params
from bot.sandbox.state import SandboxState

methods = MethodRegistry()

COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
# setMy<suffix>/getMy<suffix> -> (parameter and result field, length limit)
BOT_TEXTS = {
    "Name": ("name", 64),
    "Description": ("description", 512),
    "ShortDescription": ("short_description", 120),
}


@methods.method("getMe")
async def get_me(state: SandboxState, call: Call) -> dict[str, Any]:
    return {
        **state.bot.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": True,  # group messages are all delivered
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@methods.method("logOut")
async def log_out(state: SandboxState, call: Call) -> bool:
    return True


@methods.method("close")
async def close(state: SandboxState, call: Call) -> bool:
    return True


def command_key(params: Params) -> tuple[str, str]:
    """Commands are stored per (scope, language_code), as Telegram does."""
    scope = params.get_json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True), params.get_str("language_code") or ""


@methods.method("setMyCommands")
async def set_my_commands(state: SandboxState, call: Call) -> bool:
    commands = call.params.get_json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not COMMAND_RE.fullmatch(
            str(command.get("command", ""))
        ):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise bad_request("command description must be non-empty")
    key = command_key(call.params)
    if commands:
        state.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
    else:
        state.commands.pop(key, None)
    return True


@methods.method("getMyCommands")
async def get_my_commands(state: SandboxState, call: Call) -> list[dict[str, Any]]:
    return state.commands.get(command_key(call.params), [])


@methods.method("deleteMyCommands")
async def delete_my_commands(state: SandboxState, call: Call) -> bool:
    state.commands.pop(command_key(call.params), None)
    return True


@methods.method("setChatMenuButton")
async def set_chat_menu_button(state: SandboxState, call: Call) -> bool:
    button = call.params.get_json("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
        raise bad_request("can't parse menu button JSON object")
    if call.params.has("chat_id"):
        state.chat(call.params.get_str("chat_id")).menu_button = button
    else:
        state.default_menu_button = button
    return True


@methods.method("getChatMenuButton")
async def get_chat_menu_button(state: SandboxState, call: Call) -> dict[str, Any]:
    if call.params.has("chat_id"):
        button = state.chat(call.params.get_str("chat_id")).menu_button
        if button is not None:
            return button
    return state.default_menu_button


def _register_bot_text(suffix: str, field: str, limit: int) -> None:
    """setMy<X>/getMy<X> pairs that store one text per language."""

    async def setter(state: SandboxState, call: Call) -> bool:
        text = call.params.get_str(field) or ""
        if len(text) > limit:
            raise bad_request(f"{field} is too long")
        state.bot_texts[field, call.params.get_str("language_code") or ""] = text
        return True

    async def getter(state: SandboxState, call: Call) -> dict[str, str]:
        language = call.params.get_str("language_code") or ""
        text = state.bot_texts.get((field, language)) or state.bot_texts.get((field, ""))
        if field == "name":
            text = text or state.bot.first_name
        return {field: text or ""}

    methods.method(f"setMy{suffix}")(setter)
    methods.method(f"getMy{suffix}")(getter)


for _suffix, (_field, _limit) in BOT_TEXTS.items():
    _register_bot_text(_suffix, _field, _limit)
