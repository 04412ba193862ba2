import logging

import pytest

from bot.config import ConfigError, load_settings
from bot.logs import RedactTokens
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
