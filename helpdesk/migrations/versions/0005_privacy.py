"""privacy: the audit log of erasures, exports and purges; unanswered searches keep their conversation

Revision ID: 0005_privacy
Revises: 0003_agent_access
Create Date: 2026-11-27 20:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_privacy"
down_revision = "0004_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("selector", sa.String(length=16), nullable=False),
        sa.Column("tickets", sa.Text(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("privacy_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_audit_at"), ["at"], unique=False)
    with op.batch_alter_table("unanswered_searches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_unanswered_searches_conversation_id"), ["conversation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unanswered_searches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unanswered_searches_conversation_id"))
        batch_op.drop_column("conversation_id")
    with op.batch_alter_table("privacy_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_audit_at"))
    op.drop_table("privacy_audit")
