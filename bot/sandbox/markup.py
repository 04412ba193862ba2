"""reply_markup validation with Telegram's error wording.

Inline keyboards are what users press, so they are checked as strictly as
Telegram does (callback_data 1–64 bytes, exactly one action per button); reply
keyboards and remove_keyboard/force_reply are accepted and stored as sent.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.errors import bad_request

INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
URL_SCHEMES = ("http://", "https://", "tg://")


def validate_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Return the markup to store, or raise a Bad Request like Telegram."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _validate_rows(markup["keyboard"], "keyboard")
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def inline_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """All inline buttons of a stored markup, row by row."""
    if not markup:
        return []
    return [button for row in markup.get("inline_keyboard") or [] for button in row]


def _validate_rows(rows: Any, field: str) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{field}" of the reply markup must be an Array of Arrays')


def _validate_inline_keyboard(rows: Any) -> None:
    _validate_rows(rows, "inline_keyboard")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            actions = [key for key in INLINE_ACTIONS if key in button]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not str(button["url"]).startswith(URL_SCHEMES):
                raise bad_request("BUTTON_URL_INVALID")
