import logging

import pytest

from bot.config import ConfigError, load_settings
from bot.delivery.outbox import ERROR_MAX, error_text
from bot.logs import RedactTokens, redact
from tests.conftest import TOKEN


def test_a_malformed_token_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(bot_token="not-a-token")
    assert "BOT_TOKEN" in str(error.value)
    assert "not-a-token" not in str(error.value)


def test_database_url_must_name_an_async_driver() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings(database_url="mysql://root@localhost/db")
    assert load_settings(database_url="postgresql://u@h/db").database_url.startswith(
        "postgresql+asyncpg://"
    )


def test_settings_never_show_the_token() -> None:
    settings = load_settings(bot_token=TOKEN)
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())
    assert settings.bot_id == 123456789
    assert TOKEN not in settings.webhook_secret_token


def test_log_lines_have_the_token_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("hamgam.test")
    logger.addFilter(RedactTokens())
    with caplog.at_level(logging.INFO):
        logger.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"failed at /bot{TOKEN}/sendMessage")
        except RuntimeError:
            logger.exception("request failed")
    assert TOKEN not in caplog.text
    assert "<token>" in caplog.text


def test_a_stored_error_text_loses_the_token_before_it_is_cut_short() -> None:
    error = f"TooManyRedirects: url='http://bot-api:8081/bot{TOKEN}/sendMessage'"
    assert redact(error) == "TooManyRedirects: url='http://bot-api:8081/bot<token>/sendMessage'"
    encoded = TOKEN.replace(":", "%3A")
    assert redact(f"GET /bot{encoded}/getMe") == "GET /bot<token>/getMe"
    cut_inside_the_token = "x" * 250 + f" /bot{TOKEN}/sendMessage"
    stored = error_text(cut_inside_the_token)
    assert stored is not None and len(stored) <= ERROR_MAX
    assert TOKEN.split(":")[1][:8] not in stored
