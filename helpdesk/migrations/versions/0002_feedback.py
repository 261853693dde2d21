"""feedback: article feedback (one row per conversation and article) and unanswered searches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 07:19:35.388629
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("article_id", sa.String(length=200), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "article_id", name="uq_article_feedback_conversation"),
    )
    with op.batch_alter_table("article_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_feedback_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_feedback_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "unanswered_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("top_article_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("unanswered_searches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unanswered_searches_asked_at"), ["asked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unanswered_searches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unanswered_searches_asked_at"))

    op.drop_table("unanswered_searches")
    with op.batch_alter_table("article_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_feedback_updated_at"))
        batch_op.drop_index(batch_op.f("ix_article_feedback_article_id"))

    op.drop_table("article_feedback")
