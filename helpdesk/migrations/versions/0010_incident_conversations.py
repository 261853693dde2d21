"""the conversations the bot told of a known incident (the reports' incident figures)

Revision ID: 0010_incident_conversations
Revises: 0009_incident_notices
Create Date: 2026-12-07 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_incident_conversations"
down_revision = "0009_incident_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "conversation_id", name="uq_incident_conversation"),
    )
    with op.batch_alter_table("incident_conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_conversations_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_incident_conversations_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incident_conversations_told_at"), ["told_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_conversations_told_at"))
        batch_op.drop_index(batch_op.f("ix_incident_conversations_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_incident_conversations_incident_id"))
    op.drop_table("incident_conversations")
