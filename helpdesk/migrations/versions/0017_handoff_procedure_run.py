"""handoffs: the procedure the bot ran before the handoff, for the workspace's panel

Revision ID: 0017_handoff_procedure_run
Revises: 0016_chat_attachments
Create Date: 2026-12-08 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_handoff_procedure_run"
down_revision = "0016_chat_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("procedure_run", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_column("procedure_run")
