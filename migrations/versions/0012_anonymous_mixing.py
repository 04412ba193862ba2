"""anonymous surveys: random response ids, mixed responses, a minimum per survey

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:00:00

survey_response.id becomes a random 64-bit number with no sequence behind it (on SQLite it
stays "INTEGER PRIMARY KEY", which is 64-bit already). Responses of anonymous surveys that
closed before this revision count as mixed, so their results stay visible; those of open ones
are mixed by the next finish or at the close.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns that hold a response id.
RESPONSE_IDS = (
    ("survey_answer", "response_id"),
    ("survey_participant", "response_id"),
    ("survey_response", "id"),
)


def upgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_responses", sa.Integer(), nullable=True))
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mixed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(sa.text("UPDATE survey SET min_responses = 5 WHERE anonymous"))
    op.execute(
        sa.text(
            "UPDATE survey_response SET mixed = finished WHERE survey_id IN"
            " (SELECT id FROM survey WHERE anonymous AND status = 'closed')"
        )
    )
    if op.get_bind().dialect.name == "postgresql":
        for table, column in RESPONSE_IDS:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())
        op.alter_column("survey_response", "id", server_default=None)
        op.execute(sa.text("DROP SEQUENCE IF EXISTS survey_response_id_seq"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The columns stay 64-bit: the random ids already given do not fit 32 bits.
        op.execute(sa.text("CREATE SEQUENCE survey_response_id_seq OWNED BY survey_response.id"))
        op.execute(
            sa.text(
                "SELECT setval('survey_response_id_seq',"
                " (SELECT COALESCE(MAX(id), 0) + 1 FROM survey_response), false)"
            )
        )
        op.alter_column(
            "survey_response", "id", server_default=sa.text("nextval('survey_response_id_seq')")
        )
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.drop_column("mixed")
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_column("min_responses")
