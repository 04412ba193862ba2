"""Configuration, validated once at start so that mistakes surface as clear messages."""

from __future__ import annotations

import hashlib
import re
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'hamgam.db'}"

# Telegram tokens are "<bot id>:<35 url-safe characters>"; we accept 30+ to allow test tokens.
TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,}$")


class ConfigError(Exception):
    """A configuration problem explained in words a person can act on."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen_host: str = "0.0.0.0"
    webhook_listen_port: int = Field(default=8080, ge=1, le=65535)
    database_url: str = DEFAULT_DATABASE_URL
    staff_ids: list[int] = Field(default_factory=list)
    timezone: str = "Asia/Tehran"
    log_level: str = "INFO"
    # A person may send this many updates per second on average, with this burst, before the
    # bot stops answering them for a moment; nobody else is slowed.
    throttle_rate: float = Field(default=2.0, gt=0)
    throttle_burst: int = Field(default=8, ge=1)
    # An anonymous survey's answers are mixed and counted in groups of at least this many
    # responses, and staff see no figure drawn from fewer (bot.surveys.service).
    anonymous_min_responses: int = Field(default=5, ge=2)
    # Messages per second the outbox sends overall (Telegram allows about 30).
    send_rate: float = Field(default=30.0, gt=0)
    # Several replicas behind a load balancer (PostgreSQL and Redis required).
    replica: bool = False
    redis_url: str | None = None
    # Where the Bot API emulator listens when `hamgam run` has no BOT_TOKEN, and where
    # `hamgam sandbox chat` looks for it.
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = Field(default=8081, ge=1, le=65535)
    # Where background jobs (exports, reports) write their files until they are sent; by
    # default a "work" folder beside the SQLite database, or in data/ on PostgreSQL. With
    # replicas on several machines it must be shared: the leader's sender uploads the files.
    work_dir: Path | None = None

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_PATTERN.match(value.get_secret_value().strip()):
            raise ValueError(
                "BOT_TOKEN does not look like a Telegram bot token (expected '123456:ABC…'"
                " as given by @BotFather)"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_driver(cls, value: str) -> str:
        if value.startswith(("postgresql://", "postgres://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @model_validator(mode="after")
    def _replicas_need_shared_stores(self) -> Settings:
        if self.replica and self.is_sqlite:
            raise ValueError("REPLICA needs DATABASE_URL on PostgreSQL: SQLite takes one process")
        if self.replica and not self.redis_url:
            raise ValueError("REPLICA needs REDIS_URL, where replicas keep conversation state")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("webhook_url", "telegram_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @property
    def token(self) -> str:
        if self.bot_token is None:
            raise ConfigError("BOT_TOKEN is not set")
        return self.bot_token.get_secret_value().strip()

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])

    @cached_property
    def webhook_secret_token(self) -> str:
        """The secret Telegram echoes in each webhook call; derived from the token when unset
        so that every replica agrees without extra configuration."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        return hashlib.sha256(f"hamgam-webhook:{self.token}".encode()).hexdigest()[:48]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def work_folder(self) -> Path:
        if self.work_dir is not None:
            return self.work_dir
        if self.is_sqlite and ":///" in self.database_url:
            path = self.database_url.split(":///", 1)[1]
            if path and path != ":memory:":
                return Path(path).parent / "work"
        return PROJECT_ROOT / "data" / "work"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read the environment (and .env), turning validation errors into one readable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            field = ".".join(str(part) for part in item["loc"]).upper() or "configuration"
            problems.append(f"  {field}: {item['msg'].removeprefix('Value error, ')}")
        raise ConfigError("Invalid configuration:\n" + "\n".join(problems)) from None
