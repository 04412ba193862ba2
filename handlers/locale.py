"""The formatter of bot.i18n.format, bound to the language of the update being handled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from aiogram.utils.i18n import I18n, get_i18n

from bot.config import PROJECT_ROOT
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


@contextmanager
def in_language(language: str) -> Iterator[None]:
    """The catalogs in `language` outside any update: a background job's child composes in the
    language of the staff member who asked."""
    i18n = I18n(path=PROJECT_ROOT / "locales", default_locale=language, domain="messages")
    with i18n.context(), i18n.use_locale(language):
        yield
