"""checkin round snapshot and next reminder

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 14:33:51.156106
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db
from bot.checkins.schedule import Schedule, Window

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

checkin = sa.table(
    "checkin",
    sa.column("id"),
    sa.column("schedule", sa.JSON),
    sa.column("window", sa.JSON),
    sa.column("questions", sa.JSON),
)
checkin_round = sa.table(
    "checkin_round",
    sa.column("id"),
    sa.column("checkin_id"),
    sa.column("due_at", bot.db.UTCDateTime(timezone=True)),
    sa.column("status"),
    sa.column("questions", sa.JSON),
    sa.column("reminders", sa.JSON),
)
participant = sa.table(
    "checkin_participant",
    sa.column("round_id"),
    sa.column("status"),
    sa.column("reminders_sent"),
    sa.column("next_reminder_at", bot.db.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("checkin_participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_reminder_at", bot.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_checkin_participant_next_reminder_at"),
            ["next_reminder_at"],
            unique=False,
        )
    with op.batch_alter_table("checkin_round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questions", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("reminders", sa.JSON(), nullable=True))
    _snapshot_existing_rounds()
    with op.batch_alter_table("checkin_round", schema=None) as batch_op:
        batch_op.alter_column("questions", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("reminders", existing_type=sa.JSON(), nullable=False)


def _snapshot_existing_rounds() -> None:
    """Rounds started before this revision take their check-in's questions, and open ones
    the reminders still owed, so an upgrade mid-round loses nothing."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            checkin_round.c.id,
            checkin_round.c.due_at,
            checkin_round.c.status,
            checkin.c.schedule,
            checkin.c.window,
            checkin.c.questions,
        ).join(checkin, checkin.c.id == checkin_round.c.checkin_id)
    ).all()
    for round_id, due_at, status, schedule, window, questions in rows:
        moments = (
            Window.from_json(window).reminders(due_at, Schedule.from_json(schedule).tz)
            if status == "open"
            else []
        )
        bind.execute(
            checkin_round.update()
            .where(checkin_round.c.id == round_id)
            .values(questions=questions, reminders=[moment.isoformat() for moment in moments])
        )
        for sent, moment in enumerate(moments):
            bind.execute(
                participant.update()
                .where(
                    participant.c.round_id == round_id,
                    participant.c.status == "asked",
                    participant.c.reminders_sent == sent,
                )
                .values(next_reminder_at=moment)
            )


def downgrade() -> None:
    with op.batch_alter_table("checkin_round", schema=None) as batch_op:
        batch_op.drop_column("reminders")
        batch_op.drop_column("questions")
    with op.batch_alter_table("checkin_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_participant_next_reminder_at"))
        batch_op.drop_column("next_reminder_at")
