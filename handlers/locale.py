"""The formatter of bot.i18n.format, bound to the language of the update being handled."""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import get_i18n

from bot.i18n import format as fmt


def current_language() -> str:
    return get_i18n().current_locale


def number(value: int | float | Decimal) -> str:
    return fmt.number(value, current_language())
