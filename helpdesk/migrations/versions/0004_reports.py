"""reports: the bot's conversations and the articles it answered with (helpdesk/reports/activity.py)

Revision ID: 0004_reports
Revises: 0003_agent_access
Create Date: 2026-11-27 20:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_reports"
down_revision = "0003_agent_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_search_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id"),
    )
    with op.batch_alter_table("report_conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_conversations_started_at"), ["started_at"], unique=False)
    op.create_table(
        "report_article_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("article_id", sa.String(length=200), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "article_id", name="uq_report_article_views"),
    )
    with op.batch_alter_table("report_article_views", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_article_views_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_article_views_conversation_id"), ["conversation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_article_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_article_views_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_report_article_views_article_id"))
    op.drop_table("report_article_views")
    with op.batch_alter_table("report_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_conversations_started_at"))
    op.drop_table("report_conversations")
