"""Bringing a database to the current schema with Alembic, from the CLI, the runner and tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from bot.config import PROJECT_ROOT, ConfigError
from bot.db import create_engine, ping


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logging"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(database_url: str, revision: str = "head") -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
    finally:
        await engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


async def check_database(database_url: str) -> None:
    """Refuse to go on with a database we cannot reach or that is not migrated."""
    engine = create_engine(database_url)
    try:
        await ping(engine)
    except Exception as error:  # whatever the driver raises means the same to the operator
        raise ConfigError(
            f"Cannot reach the database ({type(error).__name__}: {error}). Check DATABASE_URL."
        ) from None
    finally:
        await engine.dispose()
    current, head = await current_revision(database_url), head_revision()
    if current != head:
        raise ConfigError(
            f"The database schema is at {current or 'nothing'}, the code needs {head}:"
            " run `hamgam migrate` first."
        )
