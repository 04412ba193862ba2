"""The migrations and the models describe the same schema, on every database."""

import json
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.db import create_engine
from bot.models import Base
from bot.schema import alembic_config, current_revision, head_revision, upgrade


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_migrations_match_the_models(database_url: str) -> None:
    assert await current_revision(database_url) == head_revision()
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    await engine.dispose()
    assert differences == []


async def test_an_upgrade_mid_round_keeps_its_questions_and_owed_reminders(tmp_path) -> None:
    """Revision 0006 snapshots rounds that were running when it was applied."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0005")
    questions = [{"text": {"en": "What did you do?"}, "kind": "text", "choices": []}]
    schedule = {"at": "18:00", "weekdays": [5], "timezone": "Asia/Tehran"}
    window = {"days_after": 1, "at": "20:00", "reminders_after_min": [60, 240]}
    engine = create_engine(url)
    async with engine.begin() as connection:
        for statement, values in (
            (
                "INSERT INTO person (id, created_at) VALUES (1, :t), (2, :t)",
                {"t": "2026-11-28 14:00:00"},
            ),
            (
                'INSERT INTO "group" (id, kind, name_fa, name_en, created_at)'
                " VALUES (1, 'working', 'فضای سبز', 'Green', :t)",
                {"t": "2026-11-28 14:00:00"},
            ),
            (
                "INSERT INTO checkin (id, group_id, schedule, window, questions, summary_to,"
                " paused, created_at, active_since) VALUES (1, 1, :s, :w, :q, 'both', 0, :t, :t)",
                {
                    "s": json.dumps(schedule),
                    "w": json.dumps(window),
                    "q": json.dumps(questions),
                    "t": "2026-11-28 14:00:00",
                },
            ),
            (
                "INSERT INTO checkin_round (id, checkin_id, due_at, closes_at, status, started_at)"
                " VALUES (1, 1, '2026-11-28 14:30:00', '2026-11-29 16:30:00', 'open', :t)",
                {"t": "2026-11-28 14:30:00"},
            ),
            (
                "INSERT INTO checkin_participant (round_id, person_id, status, reminders_sent)"
                " VALUES (1, 1, 'asked', 1), (1, 2, 'answered', 0)",
                {},
            ),
        ):
            await connection.execute(text(statement), values)
    await engine.dispose()

    await upgrade(url)

    engine = create_engine(url)
    async with engine.connect() as connection:
        round_ = (
            await connection.execute(text("SELECT questions, reminders FROM checkin_round"))
        ).one()
        owed = (
            await connection.execute(
                text("SELECT person_id, next_reminder_at FROM checkin_participant ORDER BY 1")
            )
        ).all()
    await engine.dispose()
    assert json.loads(round_.questions) == questions
    due = datetime(2026, 11, 28, 14, 30, tzinfo=UTC)
    assert json.loads(round_.reminders) == [
        (due + timedelta(minutes=60)).isoformat(),
        (due + timedelta(minutes=240)).isoformat(),
    ]
    assert owed[0].next_reminder_at.startswith("2026-11-28 18:30")  # the second, still owed
    assert owed[1].next_reminder_at is None  # answered: nothing owed
