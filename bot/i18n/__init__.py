"""Languages, input normalisation and the one formatter for everything shown to a person."""

LANGUAGES = ("fa", "en")
DEFAULT_LANGUAGE = "fa"


def language_from_code(language_code: str | None) -> str:
    """Telegram's language_code decides until a person chooses: English for en*, else Persian."""
    return "en" if (language_code or "").lower().startswith("en") else DEFAULT_LANGUAGE


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is translated later with an explicit locale."""
    return message
