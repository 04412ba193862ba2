"""The formatter of bot.i18n.format, bound to the language of the update being handled."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from aiogram.utils.i18n import get_i18n

from bot.i18n import LANGUAGES
from bot.i18n import format as fmt


def current_language() -> str:
    return get_i18n().current_locale


def number(value: int | float | Decimal) -> str:
    return fmt.number(value, current_language())


def in_each_language(render: Callable[[str], str]) -> dict[str, str]:
    """A text rendered in each language, for the outbox to pick the reader's at send time."""
    i18n = get_i18n()
    texts = {}
    for language in LANGUAGES:
        with i18n.use_locale(language):
            texts[language] = render(language)
    return texts
