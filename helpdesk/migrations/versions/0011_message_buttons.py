"""the buttons a bot message offered: the workspace shows a click by the button's title

Revision ID: 0011_message_buttons
Revises: 0010_incident_conversations
Create Date: 2026-12-07 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_message_buttons"
down_revision = "0010_incident_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buttons", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.drop_column("buttons")
