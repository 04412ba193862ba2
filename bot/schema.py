"""Bringing a database to the current schema with Alembic, from the CLI, the runner and tests;
and checking it is there at start, which needs no Alembic (its import, with Mako and Pygments,
took 60 ms of the bot's start)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.config import PROJECT_ROOT, ConfigError
from bot.db import create_engine, ping

if TYPE_CHECKING:
    from alembic.config import Config

VERSIONS = PROJECT_ROOT / "migrations" / "versions"
# A migration's `revision = "0017"` and `down_revision = "0016"` (or None, or a tuple of them).
_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=(.*)$", re.MULTILINE)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logging"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
    finally:
        await engine.dispose()


def head_revision() -> str | None:
    """The newest migration: the one no other names as its `down_revision`."""
    revisions: set[str] = set()
    older: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if name == "revision" else older).update(
                re.findall(r"[\"']([^\"']+)", value)
            )
    heads = revisions - older
    if len(heads) > 1:
        raise RuntimeError(f"The migrations have several heads: {sorted(heads)}")
    return heads.pop() if heads else None


def _stamped(connection: Connection) -> str | None:
    """The revision Alembic stamped the database with, if any."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


async def current_revision(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_stamped)
    finally:
        await engine.dispose()


async def check_database(database_url: str) -> None:
    """Refuse to go on with a database we cannot reach or that is not migrated."""
    engine = create_engine(database_url)
    try:
        try:
            await ping(engine)
        except Exception as error:  # whatever the driver raises means the same to the operator
            raise ConfigError(
                f"Cannot reach the database ({type(error).__name__}: {error}). Check DATABASE_URL."
            ) from None
        async with engine.connect() as connection:
            current = await connection.run_sync(_stamped)
    finally:
        await engine.dispose()
    head = head_revision()
    if current != head:
        raise ConfigError(
            f"The database schema is at {current or 'nothing'}, the code needs {head}:"
            " run `hamgam migrate` first."
        )
