"""The `hamgam` command (also `python -m bot`)."""

from __future__ import annotations

import asyncio
import gc
import sys
import unicodedata
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, logs
from bot.checkins.schedule import Schedule, Window
from bot.config import ConfigError, Settings, load_settings
from bot.db import create_engine, only_process, session_factory, transaction
from bot.delivery.content import Media
from bot.i18n import format as fmt
from bot.people.audience import Audience, AudienceKind

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


def _run(work: Coroutine[Any, Any, R]) -> R:
    try:
        return asyncio.run(work)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    except KeyboardInterrupt:
        sys.exit(130)


def coroutine(function: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return _run(function(*args, **kwargs))

    return run


def _width(text: str) -> int:
    """The columns a terminal gives the text: joiners and combining marks take none, wide (East
    Asian) letters two."""
    return sum(
        0
        if unicodedata.category(char) in ("Mn", "Me", "Cf")
        else 2
        if unicodedata.east_asian_width(char) in "WF"
        else 1
        for char in text
    )


def echo_table(titles: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Plain-text columns two spaces apart, under their titles."""
    lines = [list(titles)] + [[" ".join(cell.split()) for cell in row] for row in rows]
    widths = [max(_width(line[column]) for line in lines) for column in range(len(titles))]
    for line in lines:
        cells = (
            cell + " " * (width - _width(cell)) for cell, width in zip(line, widths, strict=True)
        )
        click.echo("  ".join(cells).rstrip())


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
@click.option(
    "--replica",
    is_flag=True,
    help="One of several replicas on PostgreSQL and Redis (same as REPLICA=true).",
)
@coroutine
async def run(with_migrate: bool, replica: bool) -> None:
    """Run the bot: long polling, a webhook when WEBHOOK_URL is set, or the local sandbox
    when BOT_TOKEN is not set."""
    from bot.schema import upgrade

    settings = _settings(**({"replica": True} if replica else {}))
    logs.configure(settings.log_level)
    # A second bot on the same SQLite file is refused before it migrates, starts or says
    # anything else.
    with only_process(settings.database_url):
        if with_migrate:
            await upgrade(settings.database_url)
        # Start-up makes some 180,000 objects that live as long as the process and few cycles
        # (about 1,300 objects): the collector's passes over them were a fifth of its CPU. It
        # is enabled again once start-up is done, with them frozen (bot.telegram.app).
        gc.disable()
        if settings.bot_token is None:
            await _run_sandbox(settings)
        else:
            await _run_bot(settings)


async def _run_bot(
    settings: Settings, when_up: Callable[[], Coroutine[Any, Any, None]] | None = None
) -> None:
    from bot.telegram.app import build, run_polling, serve_webhook_forever

    app = build(settings)
    if when_up is not None:
        app.dispatcher.startup.register(when_up)  # after the bot's own start-up
    try:
        if settings.webhook_url:
            await serve_webhook_forever(app)
        else:
            await run_polling(app, handle_signals=True)
    finally:
        await app.close()


def database_name(url: str) -> str:
    """The database as a person recognises it: a SQLite file's path, or the URL without its
    password."""
    from sqlalchemy.engine import make_url

    if url.startswith("sqlite"):
        return url.split(":///", 1)[-1]
    return make_url(url).render_as_string(hide_password=True)


async def _run_sandbox(settings: Settings) -> None:
    """The bot against the local emulator, on the configured database: the one every other
    `hamgam` command given the same settings works on."""
    from bot.people import service as people
    from bot.sandbox import Emulator
    from bot.schema import check_database

    await check_database(settings.database_url)  # before the personas are written to it
    emulator = Emulator(SANDBOX_TOKEN)
    base_url = await emulator.start(settings.sandbox_host, settings.sandbox_port)
    sandbox_settings = _settings(
        bot_token=SANDBOX_TOKEN, telegram_api_url=base_url, webhook_url=None
    )
    engine = create_engine(settings.database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            await people.add_staff(session, PERSONAS["staff"][0], None)
    finally:
        await engine.dispose()

    async def banner() -> None:
        click.echo(
            f"\nNo BOT_TOKEN set: Hamgam is running against the local sandbox at {base_url}.\n"
            f"Database: {database_name(settings.database_url)} (DATABASE_URL; every hamgam"
            " command uses it)\n"
            "Talk to it from another terminal:\n"
            "    .venv/bin/hamgam sandbox chat --as resident   (مریم, Persian)\n"
            "    .venv/bin/hamgam sandbox chat --as staff      (رضا, backbone staff)\n"
            "    .venv/bin/hamgam sandbox chat --as member     (Sara, English)\n"
            "Set BOT_TOKEN (environment or .env) to connect to Telegram instead.\n"
        )

    try:
        await _run_bot(sandbox_settings, when_up=banner)
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


def audience_options(command: Callable[P, R]) -> Callable[P, R]:
    """--audience with its --group/--area/--tag values, for every command that reaches people."""
    for option in reversed(
        [
            click.option(
                "--audience",
                default="everyone",
                show_default=True,
                type=click.Choice(
                    ["everyone", "residents", "committee", "groups", "areas", "tags"]
                ),
            ),
            click.option(
                "--group", "group_ids", type=int, multiple=True, help="With --audience groups."
            ),
            click.option("--area", "areas", multiple=True, help="With --audience areas."),
            click.option("--tag", "tags", multiple=True, help="With --audience tags."),
        ]
    ):
        command = option(command)
    return command


def _audience(
    audience: str, group_ids: tuple[int, ...], areas: tuple[str, ...], tags: tuple[str, ...]
) -> Audience:
    chosen = Audience(AudienceKind(audience), group_ids, areas, tags)
    if (chosen.kind, bool(group_ids or areas or tags)) in (
        (AudienceKind.GROUPS, False),
        (AudienceKind.AREAS, False),
        (AudienceKind.TAGS, False),
    ):
        raise click.UsageError(f"--audience {audience} needs --group, --area or --tag values.")
    return chosen


@main.command()
@click.option(
    "--fa",
    "fa_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A UTF-8 file with the Persian text.",
)
@click.option(
    "--en",
    "en_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A UTF-8 file with the English text (else the Persian is sent to all).",
)
@audience_options
@click.option("--photo", type=click.Path(exists=True, dir_okay=False))
@click.option("--document", type=click.Path(exists=True, dir_okay=False))
@click.option("--at", "at", help="When to send: '1405/09/15 18:30' (Jalali) or '2026-12-06 18:30'.")
@click.option("--pin", is_flag=True, help="Also post and pin it in linked group chats.")
@click.option("--wait/--no-wait", default=True, help="Follow the sending with a progress bar.")
def announce(
    fa_file: str | None,
    en_file: str | None,
    audience: str,
    group_ids: tuple[int, ...],
    areas: tuple[str, ...],
    tags: tuple[str, ...],
    photo: str | None,
    document: str | None,
    at: str | None,
    pin: bool,
    wait: bool,
) -> None:
    """Send (or schedule) an announcement; the running bot delivers it."""
    from bot.announcements import service as announcements
    from bot.i18n.normalize import MomentError, parse_moment

    if not (fa_file or en_file):
        raise click.UsageError("Give the text with --fa and/or --en.")
    if photo and document:
        raise click.UsageError("Attach either --photo or --document, not both.")
    settings = _settings()
    attached = None
    if photo or document:
        path = Path(photo or document or "").resolve()
        attached = Media(kind="photo" if photo else "document", path=str(path), file_name=path.name)
    texts = {}
    for language, file in (("fa", fa_file), ("en", en_file)):
        if file:
            try:
                texts[language] = announcements.clean_text(
                    Path(file).read_text(encoding="utf-8"), with_media=attached is not None
                )
            except announcements.TextError as error:
                raise click.ClickException(
                    f"{file}: the text is {error.problem.value.replace('_', ' ')}"
                    f" (at most {error.limit} characters)"
                ) from None
    chosen = _audience(audience, group_ids, areas, tags)
    when = None
    if at:
        try:
            when = parse_moment(at, settings.tz)
        except MomentError as error:
            raise click.BadParameter(str(error), param_hint="--at") from None
        if when <= clock.now():
            raise click.BadParameter("that moment has passed", param_hint="--at")
    _run(_publish(texts, chosen, attached, when, pin, wait))


async def _publish(
    texts: dict[str, str],
    chosen: Audience,
    attached: Media | None,
    when: datetime | None,
    pin: bool,
    wait: bool,
) -> None:
    from bot.announcements import service as announcements
    from bot.people import audience as audiences

    async with _session() as session:
        count = await audiences.count(session, chosen)
        created = await announcements.create(
            session,
            None,
            texts.get("fa"),
            texts.get("en"),
            chosen,
            media=attached,
            scheduled_at=when,
            post_in_group_chats=pin,
        )
        number = created.id
    click.echo(
        f"Announcement #{number} for {count} people"
        + (f", scheduled for {fmt.both_calendars(when, _settings().tz)}." if when else ".")
    )
    if when is None and wait:
        await _follow(number, count)


async def _follow(announcement_id: int, expected: int) -> None:
    """A progress bar fed from the outbox, while the running bot sends."""
    from bot.announcements import service as announcements
    from bot.announcements.models import Announcement, AnnouncementStatus

    settings = _settings()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    shown, quiet_since = 0, clock.now()
    try:
        with click.progressbar(length=max(expected, 1), label="Sending") as bar:
            while True:
                async with sessions() as session:
                    announcement = await session.get(Announcement, announcement_id)
                    assert announcement is not None
                    progress = await announcements.progress(session, announcement)
                if progress.finished > shown:
                    bar.update(progress.finished - shown)
                    shown, quiet_since = progress.finished, clock.now()
                if announcement.status in (AnnouncementStatus.DONE, AnnouncementStatus.CANCELLED):
                    break
                if (clock.now() - quiet_since).total_seconds() > 30:
                    click.echo("\nNothing was sent for 30 s: is the bot running (make run)?")
                    quiet_since = clock.now()
                await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    click.echo(
        f"Sent {progress.sent}, failed {progress.failed}, unreachable"
        f" {progress.unreachable + progress.skipped}, of {progress.total}."
    )


WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
WEEK_FROM_SATURDAY = (5, 6, 0, 1, 2, 3, 4)  # how the week is read in Iran, as in the bot
MAX_REMINDERS = 3  # as in the bot's check-in card
SUMMARY_TARGETS = {"chat": "group chat", "staff": "staff", "both": "chat and staff"}


def reminder_minutes(
    after_hours: Iterable[float], schedule: Schedule, window: Window
) -> tuple[int, ...]:
    """--remind-after counts hours after the question, as the bot asks for them; stored in
    minutes. Each must fall while the answers are taken."""
    chosen = sorted(after_hours)
    if len(chosen) > MAX_REMINDERS:
        raise ValueError(f"at most {MAX_REMINDERS} reminders")
    open_for = window.length(schedule)
    if open_for <= timedelta(0):
        raise ValueError("the answer window closes before the round begins")
    for hour in chosen:
        if hour <= 0:
            raise ValueError("--remind-after counts hours after the question: a positive number")
        if timedelta(hours=hour) >= open_for:
            raise ValueError(
                f"a reminder {hour:g} hours after the question comes after the answers close"
                f" ({fmt.hours(open_for.total_seconds() / 60, 'en')} hours after it; --remind-after"
                " counts hours)"
            )
    return tuple(round(hour * 60) for hour in chosen)


def schedule_text(schedule: Schedule, initiative_zone: str) -> str:
    """«Sat, Wed 18:00», «day 1 of each Jalali month 09:00», with the zone when it is not the
    initiative's."""
    at = schedule.at.strftime("%H:%M")
    if schedule.weekdays:
        names = {number: name.title() for name, number in WEEKDAYS.items()}
        when = ", ".join(names[d] for d in WEEK_FROM_SATURDAY if d in schedule.weekdays)
    else:
        calendar = "Jalali" if schedule.calendar == "jalali" else "Gregorian"
        when = f"day {schedule.month_day} of each {calendar} month"
    zone = f" {schedule.timezone}" if schedule.timezone != initiative_zone else ""
    return f"{when} {at}{zone}"


def window_text(window: Window) -> str:
    at = window.at.strftime("%H:%M")
    days = {0: "same day", 1: "next day"}.get(window.days_after, f"{window.days_after} days later")
    return f"{days} {at}"


def reminders_text(window: Window) -> str:
    if not window.reminders_after_min:
        return "none"
    return (
        ", ".join(fmt.hours(minutes, "en") for minutes in window.reminders_after_min) + " h after"
    )


@main.group()
def checkin() -> None:
    """Scheduled check-ins with working groups."""


@checkin.command("add")
@click.option("--group", "group_id", type=int, required=True, help="The group's id (/groups).")
@click.option("--weekdays", help="e.g. sat,wed")
@click.option("--month-day", type=click.IntRange(1, 31), help="A day of the (Jalali) month.")
@click.option("--gregorian", is_flag=True, help="--month-day counts Gregorian months.")
@click.option("--at", "at", required=True, help="Local time, e.g. 18:00.")
@click.option("--timezone", default=None, help="Default: TIMEZONE (Asia/Tehran).")
@click.option(
    "--close-days",
    type=click.IntRange(0, 30),
    default=1,
    show_default=True,
    help="Answers are taken until --close-at this many days after the prompt.",
)
@click.option("--close-at", default="20:00", show_default=True)
@click.option(
    "--remind-after",
    type=float,
    multiple=True,
    default=(4.0,),
    show_default=True,
    help="Hours after the question, e.g. 1.5 (up to three; repeatable).",
)
@click.option(
    "--summary-to", type=click.Choice(["chat", "staff", "both"]), default="both", show_default=True
)
@click.option(
    "--questions",
    "questions_file",
    type=click.Path(exists=True, dir_okay=False),
    help='JSON: [{"fa": "…", "en": "…", "kind": "text|number|choice|scale",'
    ' "choices": [{"fa": "…", "en": "…"}]}]; default: the three questions.',
)
@coroutine
async def checkin_add(
    group_id: int,
    weekdays: str | None,
    month_day: int | None,
    gregorian: bool,
    at: str,
    timezone: str | None,
    close_days: int,
    close_at: str,
    remind_after: tuple[float, ...],
    summary_to: str,
    questions_file: str | None,
) -> None:
    """Add a check-in to a group (the three default questions unless --questions)."""
    from dataclasses import replace
    from datetime import time

    from bot.checkins import service as checkins
    from bot.checkins.models import SummaryTo
    from bot.checkins.questions import DEFAULT_QUESTIONS, read_questions
    from bot.groups.models import Group

    try:
        days = frozenset(
            WEEKDAYS[d.strip().lower()[:3]] for d in (weekdays or "").split(",") if d.strip()
        )
        schedule = Schedule(
            at=time.fromisoformat(at),
            weekdays=days,
            month_day=month_day,
            calendar="gregorian" if gregorian else "jalali",
            timezone=timezone or _settings().timezone,
        )
        window = Window(close_days, time.fromisoformat(close_at), ())
        window = replace(
            window, reminders_after_min=reminder_minutes(remind_after, schedule, window)
        )
        questions = read_questions(questions_file) if questions_file else DEFAULT_QUESTIONS
        first = schedule.next_after(clock.now())
        if first is None:
            raise ValueError("no round would ever fall")
    except (KeyError, ValueError) as error:
        raise click.UsageError(f"That check-in does not work: {error}") from None
    async with _session() as session:
        if await session.get(Group, group_id) is None:
            raise click.ClickException(f"There is no group {group_id}.")
        created = await checkins.create(
            session, group_id, schedule, window, questions, summary_to=SummaryTo(summary_to)
        )
        click.echo(f"Check-in #{created.id}; first round {fmt.both_calendars(first, schedule.tz)}.")


@checkin.command("edit")
@click.argument("checkin_id", type=int)
@click.option("--weekdays", help="e.g. sat,wed (instead of a day of the month)")
@click.option("--month-day", type=click.IntRange(1, 31), help="A day of the month.")
@click.option("--calendar", type=click.Choice(["jalali", "gregorian"]), help="For --month-day.")
@click.option("--at", "at", help="Local time, e.g. 18:00.")
@click.option("--timezone", help="e.g. Asia/Tehran or Europe/Berlin.")
@click.option("--close-days", type=click.IntRange(0, 30))
@click.option("--close-at", help="e.g. 20:00")
@click.option(
    "--remind-after", type=float, multiple=True, help="Hours after the question (repeatable)."
)
@click.option("--no-reminders", is_flag=True)
@click.option("--summary-to", type=click.Choice(["chat", "staff", "both"]))
@click.option("--questions", "questions_file", type=click.Path(exists=True, dir_okay=False))
@coroutine
async def checkin_edit(
    checkin_id: int,
    weekdays: str | None,
    month_day: int | None,
    calendar: str | None,
    at: str | None,
    timezone: str | None,
    close_days: int | None,
    close_at: str | None,
    remind_after: tuple[float, ...],
    no_reminders: bool,
    summary_to: str | None,
    questions_file: str | None,
) -> None:
    """Change a check-in from its next round on (a running round keeps what it began with)."""
    from dataclasses import replace
    from datetime import time

    from bot.checkins import service as checkins
    from bot.checkins.models import Checkin, SummaryTo
    from bot.checkins.questions import read_questions
    from bot.checkins.schedule import find_timezone

    async with _session() as session:
        found = await session.get(Checkin, checkin_id)
        if found is None:
            raise click.ClickException(f"There is no check-in {checkin_id}.")
        schedule, window = Schedule.from_json(found.schedule), Window.from_json(found.window)
        changes: dict[str, Any] = {}
        try:
            days = {WEEKDAYS[d.strip().lower()[:3]] for d in (weekdays or "").split(",") if d}
            zone = find_timezone(timezone) if timezone else schedule.timezone
            if zone is None:
                raise ValueError(f"unknown time zone {timezone!r}")
            if days or month_day or calendar or at or timezone:
                if days:
                    on_days, on_month_day = frozenset(days), None
                elif month_day:
                    on_days, on_month_day = frozenset(), month_day
                else:
                    on_days, on_month_day = schedule.weekdays, schedule.month_day
                changes["schedule"] = replace(
                    schedule,
                    weekdays=on_days,
                    month_day=on_month_day,
                    calendar=calendar or schedule.calendar,  # type: ignore[arg-type]
                    at=time.fromisoformat(at) if at else schedule.at,
                    timezone=zone,
                )
            if close_days is not None or close_at or remind_after or no_reminders:
                changed = replace(
                    window,
                    days_after=window.days_after if close_days is None else close_days,
                    at=time.fromisoformat(close_at) if close_at else window.at,
                )
                if no_reminders or remind_after:
                    reminders = reminder_minutes(
                        () if no_reminders else remind_after,
                        changes.get("schedule", schedule),
                        changed,
                    )
                    changed = replace(changed, reminders_after_min=reminders)
                changes["window"] = changed
            if questions_file:
                changes["questions"] = read_questions(questions_file)
            if summary_to:
                changes["summary_to"] = SummaryTo(summary_to)
            if not changes:
                raise click.UsageError("Nothing to change: give at least one option.")
            await checkins.edit(session, checkin_id, None, **changes)
        except (KeyError, ValueError) as error:
            raise click.UsageError(f"That check-in does not work: {error}") from None
    click.echo(f"Check-in #{checkin_id} changed: {', '.join(changes)}.")


@checkin.command("list")
@coroutine
async def checkin_list() -> None:
    """Every check-in: group, schedule, answer window, reminders, next round, skipped days."""
    from bot.checkins import service as checkins

    initiative_zone = _settings().timezone
    async with _session() as session:
        found = await checkins.all_checkins(session)
    if not found:
        click.echo("There are no check-ins.")
        return
    rows = []
    for item, group in found:
        schedule, window = Schedule.from_json(item.schedule), Window.from_json(item.window)
        upcoming = schedule.next_after(clock.now())
        today = clock.now().astimezone(schedule.tz).date()
        rows.append(
            [
                str(item.id),
                group.name_en or group.name_fa,
                schedule_text(schedule, initiative_zone),
                window_text(window),
                reminders_text(window),
                SUMMARY_TARGETS.get(item.summary_to, item.summary_to),
                "paused"
                if item.paused
                else fmt.both_calendars(upcoming, schedule.tz)
                if upcoming
                else "none",
                ", ".join(
                    fmt.both_calendars(day) for day in sorted(schedule.skip_dates) if day >= today
                ),
            ]
        )
    titles = ["#", "group", "schedule", "answers until", "reminders", "summary to", "next round"]
    if any(row[-1] for row in rows):
        echo_table([*titles, "no round on"], rows)
    else:
        echo_table(titles, [row[:-1] for row in rows])


@checkin.command("pause")
@click.argument("checkin_id", type=int)
@click.option("--resume", is_flag=True, help="Resume instead.")
@coroutine
async def checkin_pause(checkin_id: int, resume: bool) -> None:
    """Pause (or --resume) a check-in."""
    from bot.checkins import service as checkins

    async with _session() as session:
        if await checkins.set_paused(session, checkin_id, not resume, None) is None:
            raise click.ClickException(f"There is no check-in {checkin_id}.")
    click.echo(f"Check-in #{checkin_id} {'resumed' if resume else 'paused'}.")


@checkin.command("skip")
@click.argument("checkin_id", type=int)
@click.argument("day")
@coroutine
async def checkin_skip(checkin_id: int, day: str) -> None:
    """No round on DAY (1405/01/01 or 2026-03-21), e.g. for Nowruz."""
    from bot.checkins import service as checkins
    from bot.i18n.normalize import MomentError, parse_day

    try:
        local_day = parse_day(day)
    except MomentError as error:
        raise click.BadParameter(str(error), param_hint="DAY") from None
    async with _session() as session:
        if await checkins.skip_date(session, checkin_id, local_day, None) is None:
            raise click.ClickException(f"There is no check-in {checkin_id}.")
    click.echo(f"Check-in #{checkin_id} skips {fmt.both_calendars(local_day)}.")


@checkin.command("delete")
@click.argument("checkin_id", type=int)
@coroutine
async def checkin_delete(checkin_id: int) -> None:
    """Delete a check-in with its rounds and answers."""
    from bot.checkins import service as checkins

    async with _session() as session:
        if not await checkins.remove(session, checkin_id, None):
            raise click.ClickException(f"There is no check-in {checkin_id}.")
    click.echo(f"Check-in #{checkin_id} deleted.")


@main.group()
def people() -> None:
    """Residents and members: their neighbourhood area and tags, for targeted engagement."""


@people.command("set")
@click.argument("telegram_id", type=int)
@click.option("--area", help="The person's neighbourhood area ('' clears it).")
@click.option("--tag", "add_tags", multiple=True, help="Add a tag (repeatable).")
@click.option("--untag", "remove_tags", multiple=True, help="Remove a tag (repeatable).")
@coroutine
async def people_set(
    telegram_id: int, area: str | None, add_tags: tuple[str, ...], remove_tags: tuple[str, ...]
) -> None:
    """Set the area and tags of the person with this Telegram id."""
    from bot.people import service as people_service

    async with _session() as session:
        person = await people_service.describe(
            session, telegram_id, area, add_tags, remove_tags, None
        )
        if person is None:
            raise click.ClickException(
                f"Nobody with Telegram id {telegram_id} has started the bot."
            )
        click.echo(
            f"{telegram_id}: area {person.area or '-'}, tags {', '.join(person.tags) or '-'}"
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
    """Take the staff role away from the person with this Telegram id (even the last one
    who has started the bot: the shell is where staff are recovered)."""
    from bot.people import service as people

    async with _session() as session:
        removed = await people.remove_staff(session, telegram_id, None, keep_one_active=False)
        active = await people.active_staff_count(session)
    if removed is not people.StaffRemoval.REMOVED:
        raise click.ClickException(f"{telegram_id} is not staff.")
    click.echo(f"{telegram_id} is no longer staff.")
    if not active:
        click.echo(
            "Warning: no staff member who has started the bot is left, so nobody can manage"
            " Hamgam from Telegram. Add one with `hamgam staff add TELEGRAM_ID`."
        )


@staff.command("list")
@coroutine
async def staff_list() -> None:
    """List the backbone staff."""
    from bot.people import service as people

    async with _session() as session:
        found = await people.staff(session)
    if not found:
        click.echo("There are no staff: add someone with `hamgam staff add TELEGRAM_ID`.")
        return
    echo_table(
        ["telegram id", "name"], [[str(p.telegram_id), p.display_name or "-"] for p in found]
    )


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


@main.group()
def survey() -> None:
    """Residents' surveys: import, publish, list, close."""


@survey.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@coroutine
async def survey_import(path: str) -> None:
    """Read an XLSForm file (.xlsx) into a draft survey; publish it with `hamgam survey publish`."""
    from bot.surveys import service as surveys
    from bot.surveys.xlsform import XLSFormError, read_xlsform_isolated

    try:
        content = await asyncio.to_thread(Path(path).read_bytes)
        form = await read_xlsform_isolated(content, Path(path).stem)
    except XLSFormError as error:
        raise click.ClickException(f"{path}: {error}") from None
    async with _session() as session:
        draft = await surveys.create_draft(session, form, "xlsform", None)
    click.echo(f"Draft survey #{draft.id}: {len(form.answerable)} questions.")


@survey.command("template")
@click.argument("name", type=click.Choice(["readiness"]))
@coroutine
async def survey_template(name: str) -> None:
    """A draft from a built-in template (the readiness assessment)."""
    from bot.surveys import service as surveys
    from bot.surveys.templates import READINESS

    async with _session() as session:
        draft = await surveys.create_draft(session, READINESS, "template", None)
    click.echo(f"Draft survey #{draft.id}: {len(READINESS.answerable)} questions.")


@survey.command("publish")
@click.argument("survey_id", type=int)
@audience_options
@click.option("--opens", help="'1405/09/15 18:00' or '2026-12-06 18:00'; default: now.")
@click.option("--closes", required=True, help="'1405/09/22 20:00' or '2026-12-13 20:00'.")
@click.option("--anonymous", is_flag=True, help="Answers keep no link to the person.")
@coroutine
async def survey_publish(
    survey_id: int,
    audience: str,
    group_ids: tuple[int, ...],
    areas: tuple[str, ...],
    tags: tuple[str, ...],
    opens: str | None,
    closes: str,
    anonymous: bool,
) -> None:
    """Publish a draft: the running bot sends the invitations when it opens."""
    from bot.i18n.normalize import MomentError, parse_moment
    from bot.surveys import service as surveys
    from bot.surveys.service import PublishProblem

    chosen = _audience(audience, group_ids, areas, tags)
    tz = _settings().tz
    try:
        opens_at = parse_moment(opens, tz) if opens else clock.now()
        closes_at = parse_moment(closes, tz)
    except MomentError as error:
        raise click.BadParameter(str(error)) from None
    async with _session() as session:
        result = await surveys.publish(
            session,
            survey_id,
            audience=chosen,
            opens_at=opens_at,
            closes_at=closes_at,
            anonymous=anonymous,
            min_responses=_settings().anonymous_min_responses,
            actor_id=None,
        )
    if result is PublishProblem.NOT_A_DRAFT:
        raise click.ClickException(f"There is no draft survey {survey_id}.")
    if result is PublishProblem.CLOSES_TOO_SOON:
        raise click.BadParameter("it must close after it opens", param_hint="--closes")
    click.echo(f"Survey #{survey_id} opens {fmt.both_calendars(opens_at, tz)}.")


@survey.command("list")
@click.option(
    "--drafts", is_flag=True, help="Drafts too (a survey begun in the bot and cancelled is one)."
)
@coroutine
async def survey_list(drafts: bool) -> None:
    """Every published survey: status, times, responses."""
    from sqlalchemy import select

    from bot.surveys import service as surveys
    from bot.surveys.models import Survey, SurveyStatus

    tz = _settings().tz
    rows, unlisted = [], 0
    async with _session() as session:
        for item in await session.scalars(select(Survey).order_by(Survey.id)):
            if item.status == SurveyStatus.DRAFT and not drafts:
                unlisted += 1
                continue
            form = surveys.form_of(item)
            if item.status == SurveyStatus.DRAFT:
                counts = "—"
            elif (found := await surveys.results(session, item)).withheld:
                counts = f"anonymous: fewer than {item.min_responses} answers counted"
            else:
                counts = f"finished {found.finished}, part-way {found.partial}"
            rows.append(
                [
                    str(item.id),
                    item.status,
                    form.title.get("en") or form.title.get("fa") or "",
                    fmt.both_calendars(item.opens_at, tz) if item.opens_at else "—",
                    fmt.both_calendars(item.closes_at, tz) if item.closes_at else "—",
                    counts,
                ]
            )
    if rows:
        echo_table(["#", "status", "title", "opens", "closes", "responses"], rows)
    elif not unlisted:
        click.echo("There are no surveys.")
    if unlisted:
        drafts_word = "draft" if unlisted == 1 else "drafts"
        click.echo(f"{unlisted} {drafts_word} not listed: --drafts lists drafts too.")


@survey.command("close")
@click.argument("survey_id", type=int)
@coroutine
async def survey_close(survey_id: int) -> None:
    """Close an open survey now."""
    from bot.surveys import service as surveys
    from bot.surveys.models import Survey, SurveyStatus

    async with _session() as session:
        found = await session.get(Survey, survey_id)
        if found is None or found.status != SurveyStatus.OPEN:
            raise click.ClickException(f"Survey {survey_id} is not open.")
        await surveys.close(session, found, clock.now())
    click.echo(f"Survey #{survey_id} closed.")


EXPORT_DATASETS = (
    "checkin_answers",
    "survey_responses",
    "indicator_values",
    "deliveries",
    "meetings",
)  # bot.reports.export.Dataset, named here so that --help needs no import


@main.command("export")
@click.argument("dataset", type=click.Choice(EXPORT_DATASETS))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option(
    "--language",
    type=click.Choice(["fa", "en"]),
    default="fa",
    show_default=True,
    help="Of the headers, labels and (fa) the sheet's direction.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, writable=True),
    help="Default: ./hamgam-DATASET-YYYYMMDD-HHMM.EXT",
)
@coroutine
async def export(dataset: str, fmt: str, language: str, out: str | None) -> None:
    """Write stored answers, indicator values, deliveries or meetings to a CSV or XLSX file."""
    from contextlib import ExitStack

    from bot.reports.export import Dataset
    from bot.reports.export import export as write_export

    stamp = clock.now().astimezone(_settings().tz).strftime("%Y%m%d-%H%M")
    path = Path(out or f"hamgam-{dataset}-{stamp}.{fmt}")
    with ExitStack() as stack:
        bars: list[Any] = []
        shown = [0]

        def progress(done: int, total: int) -> None:
            if not bars:
                bars.append(
                    stack.enter_context(click.progressbar(length=max(total, 1), label="Exporting"))
                )
            bars[0].update(done - shown[0])
            shown[0] = done

        async with _session() as session:
            written = await write_export(
                session,
                Dataset(dataset),
                "xlsx" if fmt == "xlsx" else "csv",
                language,
                path,
                progress=progress,
            )
    click.echo(f"{written} rows written to {path}")
