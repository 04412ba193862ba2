"""The catalogs' words in a language named outright, for code that runs outside an update: a
background job's child process composes a report without aiogram (a second of imports) and
without its I18n context."""

from __future__ import annotations

from functools import cache

from babel.support import NullTranslations, Translations

from bot.config import PROJECT_ROOT

LOCALES = PROJECT_ROOT / "locales"


@cache
def words(language: str) -> NullTranslations:
    """The same compiled catalog the bot's I18n loads for `language` (locales/<language>)."""
    return Translations.load(str(LOCALES), [language], domain="messages")
