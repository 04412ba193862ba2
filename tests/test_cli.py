"""The `hamgam` command: migrations, staff bootstrap, clear configuration errors, sandbox."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from bot import clock
from bot.checkins.schedule import Window
from bot.cli import main
from bot.db import create_engine, session_factory, transaction
from bot.people.models import Person as PersonRow
from bot.sandbox import SandboxClient
from tests.conftest import TOKEN
from tests.e2e.harness import free_port


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    for name in ("BOT_TOKEN", "WEBHOOK_URL", "TELEGRAM_API_URL", "STAFF_IDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    return {}


def test_migrate_then_manage_staff(env: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["staff", "list"])
    assert result.exit_code == 1 and "hamgam migrate" in result.output
    assert runner.invoke(main, ["migrate"]).output.strip() == "Database is up to date."
    assert runner.invoke(main, ["staff", "add", "424242"]).exit_code == 0
    assert "424242" in runner.invoke(main, ["staff", "list"]).output
    assert runner.invoke(main, ["staff", "remove", "424242"]).exit_code == 0
    result = runner.invoke(main, ["staff", "remove", "424242"])
    assert result.exit_code == 1 and "not staff" in result.output
    assert "424242" not in runner.invoke(main, ["staff", "list"]).output


def test_the_shell_may_remove_the_last_staff_member_who_started_the_bot_and_says_so(
    env: dict[str, str],
) -> None:
    runner = CliRunner()
    runner.invoke(main, ["migrate"])
    for telegram_id in ("501", "502"):
        runner.invoke(main, ["staff", "add", telegram_id])
    asyncio.run(_started_the_bot(os.environ["DATABASE_URL"], 501, 502))
    runner.invoke(main, ["staff", "add", "424242"])  # never started the bot

    result = runner.invoke(main, ["staff", "remove", "502"])
    assert result.exit_code == 0 and "Warning" not in result.output
    result = runner.invoke(main, ["staff", "remove", "501"])
    assert result.exit_code == 0 and "501 is no longer staff." in result.output
    assert "no staff member who has started the bot is left" in result.output
    assert "hamgam staff add" in result.output


async def _started_the_bot(database_url: str, *telegram_ids: int) -> None:
    """As if these people had sent /start and agreed to the privacy note."""
    engine = create_engine(database_url)
    async with transaction(session_factory(engine)) as session:
        await session.execute(
            update(PersonRow)
            .where(PersonRow.telegram_id.in_(telegram_ids))
            .values(consented_at=clock.now(), language="fa", display_name="Reza")
        )
    await engine.dispose()


def test_people_get_an_area_and_tags(env: dict[str, str]) -> None:
    runner = CliRunner()
    runner.invoke(main, ["migrate"])
    result = runner.invoke(main, ["people", "set", "777", "--area", "شمال"])
    assert result.exit_code == 1 and "has started the bot" in result.output
    runner.invoke(main, ["staff", "add", "777"])  # someone the database knows
    result = runner.invoke(
        main, ["people", "set", "777", "--area", " شمال  محله ", "--tag", "جوانان", "--tag", "ك"]
    )
    assert result.output.strip() == "777: area شمال محله, tags جوانان, ک"
    result = runner.invoke(main, ["people", "set", "777", "--untag", "ک"])
    assert result.output.strip() == "777: area شمال محله, tags جوانان"


def test_a_malformed_token_stops_the_start_with_a_clear_message(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "12345:short")
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 1
    assert "BOT_TOKEN does not look like a Telegram bot token" in result.output
    assert "12345:short" not in result.output


def test_an_unreachable_database_stops_the_start_with_a_clear_message(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/x")
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 1
    assert "Cannot reach the database" in result.output
    assert TOKEN not in result.output


def test_the_sandbox_on_an_unmigrated_database_says_to_migrate(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOX_PORT", str(free_port()))
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 1 and "run `hamgam migrate` first" in result.output


ROOT = Path(__file__).resolve().parent.parent


async def _hamgam(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    """`hamgam ARGS` in another process, on this tree's code (not what the venv installed)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env | {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


BANNER_END = "to connect to Telegram instead."


async def test_run_without_a_token_starts_the_sandbox_on_the_configured_database(
    tmp_path: Path,
) -> None:
    port = free_port()
    # The default's name, which the sandbox once swapped, in a folder a fresh clone lacks.
    database = tmp_path / "data" / "hamgam.db"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("BOT_TOKEN", "WEBHOOK_URL", "TELEGRAM_API_URL", "LOG_LEVEL")
    } | {"DATABASE_URL": f"sqlite+aiosqlite:///{database}", "SANDBOX_PORT": str(port)}
    process = await _hamgam(env, tmp_path, "run", "--migrate")
    try:
        assert process.stdout is not None
        output = ""
        while BANNER_END not in output:
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line, f"hamgam run exited: {output}"
            output += line.decode()
        # The banner names the database, comes once the bot is up, and no migration chatter
        # comes before it.
        assert f"Database: {database}" in output
        assert output.index("Hamgam is up") < output.index("No BOT_TOKEN set")
        assert "alembic" not in output
        async with SandboxClient(f"http://127.0.0.1:{port}") as client:
            await client.add_user(id=2001, first_name="مریم", language_code="fa")
            reply = await client.send_message(2001, "/start", wait_timeout=30)
            # (the menus may be being set meanwhile: they follow start-up)
            said = [
                action["message"]["plain_text"] for action in reply["actions"] if action["message"]
            ]
            assert "لطفاً زبان خود را انتخاب کنید" in said[-1]
        # Every other command given the same DATABASE_URL sees the sandbox's database.
        listing = await _hamgam(env, tmp_path, "staff", "list")
        listed, _ = await listing.communicate()
        assert listing.returncode == 0 and "1001" in listed.decode(), listed.decode()
        # A second bot on the same SQLite file is refused, with the reason, before any banner.
        second = await _hamgam(env | {"SANDBOX_PORT": str(free_port())}, tmp_path, "run")
        refused, _ = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 1
        assert "Another Hamgam process is already running" in refused.decode()
        assert "No BOT_TOKEN set" not in refused.decode()
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)
    assert not (tmp_path / "sandbox.db").exists()


ADD = ["checkin", "add", "--group", "1", "--at", "18:00"]


def window_of(checkin_id: int) -> Window:
    from bot.checkins.models import Checkin
    from bot.config import load_settings
    from bot.db import create_engine, session_factory

    async def read() -> Window:
        engine = create_engine(load_settings().database_url)
        async with session_factory(engine)() as session:
            found = await session.get(Checkin, checkin_id)
            assert found is not None
            window = Window.from_json(found.window)
        await engine.dispose()
        return window

    return asyncio.run(read())


def test_check_ins_from_the_command_line(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import load_settings
    from bot.db import create_engine, session_factory, transaction
    from bot.groups.models import Group, GroupKind

    # Thursday 26 November 2026, 12:00 in Tehran (08:30 UTC).
    monkeypatch.setattr(clock, "_now", lambda: datetime(2026, 11, 26, 8, 30, tzinfo=UTC))
    runner = CliRunner()
    runner.invoke(main, ["migrate"])

    async def add_group() -> None:
        engine = create_engine(load_settings().database_url)
        async with transaction(session_factory(engine)) as session:
            session.add(Group(kind=GroupKind.WORKING_GROUP, name_fa="سبز", name_en="Green"))
        await engine.dispose()

    asyncio.run(add_group())
    result = runner.invoke(
        main, ["checkin", "add", "--group", "1", "--weekdays", "xyz", "--at", "18:00"]
    )
    assert result.exit_code == 2 and "That check-in does not work" in result.output
    result = runner.invoke(
        main, ["checkin", "add", "--group", "9", "--weekdays", "sat", "--at", "18:00"]
    )
    assert result.exit_code == 1 and "no group 9" in result.output
    # Reminders count hours, as in the bot's check-in card: 240 would be ten days.
    result = runner.invoke(
        main,
        [*ADD, "--weekdays", "sat", "--remind-after", "240"],
    )
    assert result.exit_code == 2 and "after the answers close (26 hours" in result.output
    result = runner.invoke(
        main,
        [*ADD, "--weekdays", "sat,wed", "--remind-after", "1.5", "--remind-after", "۲۰"],
    )
    assert result.output.strip() == "Check-in #1; first round Sat 1405/09/07 18:00 (28 Nov 2026)."
    assert window_of(1) == Window(1, time(20), (90, 1200))  # what the bot stores for «1.5, 20»
    header, row = runner.invoke(main, ["checkin", "list"]).output.splitlines()
    titles = ["#", "group", "schedule", "answers until", "reminders", "summary to", "next round"]
    assert re.split(r"\s{2,}", header) == titles
    assert row.split("  ")[0] == "1"  # aligned columns, two spaces apart
    for title, shown in [
        ("group", "Green"),
        ("schedule", "Sat, Wed 18:00"),
        ("answers until", "next day 20:00"),
        ("reminders", "1.5, 20 h after"),
        ("summary to", "chat and staff"),
        ("next round", "Sat 1405/09/07 18:00 (28 Nov 2026)"),
    ]:
        assert row[header.index(title) :].startswith(shown), (title, row)
    assert runner.invoke(main, ["checkin", "pause", "1"]).exit_code == 0
    assert runner.invoke(main, ["checkin", "list"]).output.rstrip().endswith("  paused")
    assert runner.invoke(main, ["checkin", "pause", "1", "--resume"]).exit_code == 0
    result = runner.invoke(main, ["checkin", "skip", "1", "۱۴۰۵/۰۹/۰۷"])
    assert result.output.strip() == "Check-in #1 skips Sat 1405/09/07 (28 Nov 2026)."
    listed = runner.invoke(main, ["checkin", "list"]).output
    assert "Wed 1405/09/11 18:00 (2 Dec 2026)" in listed  # the next round after the skipped one
    result = runner.invoke(main, ["checkin", "edit", "1"])
    assert result.exit_code == 2 and "Nothing to change" in result.output
    result = runner.invoke(
        main, ["checkin", "edit", "1", "--close-days", "0", "--close-at", "17:00"]
    )
    assert result.exit_code == 2 and "closes before the round begins" in result.output
    result = runner.invoke(main, ["checkin", "edit", "1", "--remind-after", "30"])
    assert result.exit_code == 2 and "after the answers close" in result.output
    result = runner.invoke(
        main,
        ["checkin", "edit", "1", "--month-day", "31", "--timezone", "berlin", "--no-reminders"],
    )
    assert result.output.strip() == "Check-in #1 changed: schedule, window."
    listed = runner.invoke(main, ["checkin", "list"]).output
    assert "day 31 of each Jalali month 18:00 Europe/Berlin" in listed and "  none  " in listed
    assert "{" not in listed and "'" not in listed
    assert runner.invoke(main, ["checkin", "delete", "1"]).exit_code == 0
    assert runner.invoke(main, ["checkin", "delete", "1"]).exit_code == 1
    assert runner.invoke(main, ["checkin", "list"]).output.strip() == "There are no check-ins."

    bad = Path("bad.json")
    bad.write_text('[{"fa": "کجا؟", "kind": "choice", "choices": [{"fa": "مسجد"}]}]', "utf-8")
    result = runner.invoke(
        main,
        [
            "checkin",
            "add",
            "--group",
            "1",
            "--weekdays",
            "sat",
            "--at",
            "18:00",
            "--questions",
            str(bad),
        ],
    )
    assert result.exit_code == 2 and "two or more choices" in result.output
    good = Path("good.json")
    good.write_text(
        '[{"fa": "چند نفر آمدند؟", "en": "How many came?", "kind": "number"},'
        ' {"fa": "حال کارگروه؟", "kind": "scale"}]',
        "utf-8",
    )
    result = runner.invoke(
        main,
        [
            "checkin",
            "add",
            "--group",
            "1",
            "--weekdays",
            "sat",
            "--at",
            "18:00",
            "--questions",
            str(good),
        ],
    )
    assert result.exit_code == 0, result.output


def test_surveys_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from bot.surveys.templates import READINESS
    from bot.surveys.xlsform import write_xlsform

    runner = CliRunner()
    runner.invoke(main, ["migrate"])
    sample = tmp_path / "readiness.xlsx"
    write_xlsform(READINESS, sample)
    result = runner.invoke(main, ["survey", "import", str(sample)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Draft survey #1: {len(READINESS.answerable)} questions."
    book = load_workbook(sample)
    book["survey"]["A2"] = "calculate"
    book.save(sample)
    result = runner.invoke(main, ["survey", "import", str(sample)])
    assert result.exit_code == 1 and 'survey sheet, row 2, column "type"' in result.output
    assert runner.invoke(main, ["survey", "template", "readiness"]).exit_code == 0

    result = runner.invoke(main, ["survey", "publish", "1", "--closes", "۱۴۰۰/۰۱/۰۱ ۱۰:۰۰"])
    assert result.exit_code == 2 and "must close after it opens" in result.output
    result = runner.invoke(main, ["survey", "publish", "1", "--audience", "areas"])
    assert result.exit_code == 2 and "--closes" in result.output
    result = runner.invoke(
        main,
        ["survey", "publish", "1", "--closes", "2099-01-01 10:00", "--anonymous"],
    )
    assert result.exit_code == 0 and result.output.startswith("Survey #1 opens")
    again = runner.invoke(main, ["survey", "publish", "1", "--closes", "2099-01-02 10:00"])
    assert again.exit_code == 1 and "no draft survey 1" in again.output  # published once
    # Drafts (a survey begun in the bot and cancelled stays one) are listed only on request.
    header, row, note = runner.invoke(main, ["survey", "list"]).output.splitlines()
    titles = ["#", "status", "title", "opens", "closes", "responses"]
    assert re.split(r"\s{2,}", header) == titles
    for title, shown in [
        ("#", "1"),
        ("status", "scheduled"),
        ("title", "Readiness assessment"),
        ("closes", "Thu 1477/10/12 10:00 (1 Jan 2099)"),
        ("responses", "anonymous: fewer than 5 answers counted"),
    ]:
        assert row[header.index(title) :].startswith(shown), (title, row)
    assert note == "1 draft not listed: --drafts lists drafts too."
    listed = runner.invoke(main, ["survey", "list", "--drafts"]).output.splitlines()
    assert len(listed) == 3 and listed[2].startswith("2  draft")
    assert runner.invoke(main, ["survey", "close", "1"]).exit_code == 1  # not open yet
