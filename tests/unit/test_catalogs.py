"""Both catalogs are complete: no entry a person could see is missing, empty or fuzzy."""

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

from bot.config import PROJECT_ROOT
from bot.i18n import LANGUAGES
from bot.i18n.catalogs import load, problems

LOCALES = PROJECT_ROOT / "locales"


def catalog(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "messages.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_complete(language: str) -> None:
    assert problems(catalog(language)) == []


def test_catalogs_hold_every_string_in_the_code() -> None:
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "__": None}
    in_code = {
        message if isinstance(message, str) else message[0]
        for folder in ("bot", "handlers")
        for _file, _line, message, _comments, _context in extract_from_dir(
            PROJECT_ROOT / folder, keywords=keywords
        )
    }
    assert len(in_code) > 50
    for language in LANGUAGES:
        in_catalog = {
            message.id if isinstance(message.id, str) else message.id[0]
            for message in load(catalog(language))
            if message.id
        }
        assert in_code - in_catalog == set(), f"missing from {language}: run make i18n-update"


def test_persian_keeps_placeholders_intact() -> None:
    import re

    for message in load(catalog("fa")):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(re.findall(r"\{\w+\}", ids[0]))
        for translated in strings:
            assert set(re.findall(r"\{\w+\}", translated)) == expected, message.id
