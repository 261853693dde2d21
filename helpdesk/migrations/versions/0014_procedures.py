"""procedures: the audit log of their runs and the attempts per conversation (the limits)

Revision ID: 0014_procedures
Revises: 0013_agent_language
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_procedures"
down_revision = "0013_agent_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procedure_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("procedure_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_procedure_runs_procedure_id"), ["procedure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_procedure_runs_outcome"), ["outcome"], unique=False)
        batch_op.create_index(batch_op.f("ix_procedure_runs_started_at"), ["started_at"], unique=False)
    op.create_table(
        "procedure_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("procedure_id", sa.String(length=100), nullable=False),
        sa.Column("identity_failed", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("procedure_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_procedure_attempts_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_procedure_attempts_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("procedure_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procedure_attempts_at"))
        batch_op.drop_index(batch_op.f("ix_procedure_attempts_conversation_id"))
    op.drop_table("procedure_attempts")
    with op.batch_alter_table("procedure_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procedure_runs_started_at"))
        batch_op.drop_index(batch_op.f("ix_procedure_runs_outcome"))
        batch_op.drop_index(batch_op.f("ix_procedure_runs_procedure_id"))
    op.drop_table("procedure_runs")
