"""The `hamgam` command (also `python -m bot`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot import logs
from bot.config import ConfigError, Settings, load_settings
from bot.db import create_engine, session_factory, transaction

P = ParamSpec("P")
R = TypeVar("R")

SANDBOX_TOKEN = "1000001:hamgam-sandbox-token-not-a-real-one"
# Personas of the sandbox chat: a resident, a staff member and an English-speaking member.
PERSONAS = {
    "resident": (2001, "مریم", "fa"),
    "staff": (1001, "رضا", "fa"),
    "member": (3001, "Sara", "en"),
}


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def coroutine(function: Callable[P, Awaitable[R]]) -> Callable[P, R]:
    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return asyncio.run(function(*args, **kwargs))  # type: ignore[arg-type]
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        except KeyboardInterrupt:
            sys.exit(130)

    return run


@click.group()
def main() -> None:
    """Hamgam (همگام): the bilingual bot of a neighbourhood collective-impact initiative."""


@main.command()
@coroutine
async def migrate() -> None:
    """Bring the database to the current schema."""
    from bot.schema import upgrade

    settings = _settings()
    await upgrade(settings.database_url)
    click.echo("Database is up to date.")


@main.command()
@click.option(
    "--migrate/--no-migrate",
    "with_migrate",
    default=False,
    help="Migrate the database before starting.",
)
@coroutine
async def run(with_migrate: bool) -> None:
    """Run the bot: long polling, a webhook when WEBHOOK_URL is set, or the local sandbox
    when BOT_TOKEN is not set."""
    settings = _settings()
    logs.configure(settings.log_level)
    if settings.bot_token is None:
        await _run_sandbox(settings, with_migrate)
        return
    if with_migrate:
        from bot.schema import upgrade

        await upgrade(settings.database_url)
    await _run_bot(settings)


async def _run_bot(settings: Settings) -> None:
    from bot.telegram.app import build, run_polling, serve_webhook_forever

    app = build(settings)
    try:
        if settings.webhook_url:
            await serve_webhook_forever(app)
        else:
            await run_polling(app)
    finally:
        await app.close()


async def _run_sandbox(settings: Settings, with_migrate: bool) -> None:
    from bot.people import service as people
    from bot.sandbox import Emulator
    from bot.schema import upgrade

    database_url = settings.database_url.replace("hamgam.db", "sandbox.db")
    emulator = Emulator(SANDBOX_TOKEN)
    base_url = await emulator.start(settings.sandbox_host, settings.sandbox_port)
    sandbox_settings = _settings(
        bot_token=SANDBOX_TOKEN,
        telegram_api_url=base_url,
        database_url=database_url,
        webhook_url=None,
    )
    if with_migrate:
        await upgrade(database_url)
    engine = create_engine(database_url)
    async with transaction(session_factory(engine)) as session:
        await people.add_staff(session, PERSONAS["staff"][0], None)
    await engine.dispose()
    click.echo(
        f"\nNo BOT_TOKEN set: Hamgam is running against the local sandbox at {base_url}.\n"
        "Talk to it from another terminal:\n"
        "    .venv/bin/hamgam sandbox chat --as resident   (مریم, Persian)\n"
        "    .venv/bin/hamgam sandbox chat --as staff      (رضا, backbone staff)\n"
        "    .venv/bin/hamgam sandbox chat --as member     (Sara, English)\n"
        "Set BOT_TOKEN (environment or .env) to connect to Telegram instead.\n"
    )
    try:
        await _run_bot(sandbox_settings)
    finally:
        await emulator.stop()


@main.group()
def sandbox() -> None:
    """The local Bot API emulator: try Hamgam without a Telegram token."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8081, type=int)
@click.option("--token", default=SANDBOX_TOKEN, help="The token the emulator accepts.")
@coroutine
async def sandbox_serve(host: str, port: int, token: str) -> None:
    """Serve only the emulator (point TELEGRAM_API_URL of a bot at it)."""
    from bot.sandbox import Emulator

    emulator = Emulator(token)
    url = await emulator.start(host, port)
    click.echo(f"Bot API emulator at {url} (token {token.split(':')[0]}:…)")
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


@sandbox.command("chat")
@click.option("--as", "persona", type=click.Choice(sorted(PERSONAS)), default="resident")
@click.option("--url", default=None, help="The emulator's address (default: from settings).")
@coroutine
async def sandbox_chat(persona: str, url: str | None) -> None:
    """Chat with the bot in this terminal as a resident, staff member or member."""
    from bot.sandbox.chat import chat

    settings = _settings()
    user_id, name, language = PERSONAS[persona]
    await chat(
        url or f"http://{settings.sandbox_host}:{settings.sandbox_port}", user_id, name, language
    )


@main.group()
def staff() -> None:
    """Backbone staff: who may set up groups, broadcast and read reports."""


@staff.command("add")
@click.argument("telegram_id", type=int)
@coroutine
async def staff_add(telegram_id: int) -> None:
    """Make the person with this Telegram id backbone staff."""
    from bot.people import service as people

    async with _session() as session:
        await people.add_staff(session, telegram_id, None)
    click.echo(f"{telegram_id} is now backbone staff (their menu updates at the bot's next start).")


@staff.command("remove")
@click.argument("telegram_id", type=int)
@coroutine
async def staff_remove(telegram_id: int) -> None:
    """Take the staff role away from the person with this Telegram id."""
    from bot.people import service as people

    async with _session() as session:
        removed = await people.remove_staff(session, telegram_id, None)
    if not removed:
        raise click.ClickException(f"{telegram_id} is not staff.")
    click.echo(f"{telegram_id} is no longer staff.")


@staff.command("list")
@coroutine
async def staff_list() -> None:
    """List the backbone staff."""
    from bot.people import service as people

    async with _session() as session:
        for person in await people.staff(session):
            click.echo(f"{person.telegram_id}\t{person.display_name or '-'}")


@asynccontextmanager
async def _session() -> AsyncIterator[AsyncSession]:
    """A committed session on the configured (and migrated) database."""
    from bot.schema import check_database

    settings = _settings()
    await check_database(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            yield session
    finally:
        await engine.dispose()
