"""the notification outbox carries incident notices: rows without a handoff, with an incident

Revision ID: 0009_incident_notices
Revises: 0008_incident_links
Create Date: 2026-12-07 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_incident_notices"
down_revision = "0008_incident_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.alter_column("handoff_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_notification_outbox_incident_id"), ["incident_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM notification_outbox WHERE handoff_id IS NULL")
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_outbox_incident_id"))
        batch_op.drop_column("incident_id")
        batch_op.alter_column("handoff_id", existing_type=sa.Integer(), nullable=False)
