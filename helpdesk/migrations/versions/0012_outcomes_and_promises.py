"""conversation outcomes and told promises: when a conversation's last answer came, the response time
last told to the customer, when the customer's chat page last read its ticket

Revision ID: 0012_outcomes_and_promises
Revises: 0011_message_buttons
Create Date: 2026-12-09 10:00:00

``report_conversations.last_answered_at`` is when the service last answered one of the conversation's
searches (helpdesk/reports/queries.py: an answer followed by no further question is an "assumed"
resolution). Rows written before it get it from what they hold: the last search when every search was
answered, else the last time an article was first shown in the conversation.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_outcomes_and_promises"
down_revision = "0011_message_buttons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_answered_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("told_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("customer_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE report_conversations SET last_answered_at = last_search_at WHERE answered > 0 AND answered = searches"
    )
    op.execute(
        "UPDATE report_conversations SET last_answered_at = (SELECT MAX(v.shown_at) FROM report_article_views v "
        "WHERE v.conversation_id = report_conversations.conversation_id) "
        "WHERE answered > 0 AND answered < searches"
    )


def downgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_column("customer_seen_at")
        batch_op.drop_column("told_due_at")
    with op.batch_alter_table("report_conversations", schema=None) as batch_op:
        batch_op.drop_column("last_answered_at")
