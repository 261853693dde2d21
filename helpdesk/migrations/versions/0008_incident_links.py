"""incident subscriptions and the incident a ticket was made during

Revision ID: 0008_incident_links
Revises: 0007_incidents
Create Date: 2026-12-07 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_incident_links"
down_revision = "0007_incidents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "email", name="uq_incident_subscription"),
    )
    with op.batch_alter_table("incident_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_subscriptions_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_subscriptions_email"), ["email"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_incident_subscriptions_conversation_id"), ["conversation_id"], unique=False
        )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_handoffs_incident_id"), ["incident_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoffs_incident_id"))
        batch_op.drop_column("incident_id")
    with op.batch_alter_table("incident_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_subscriptions_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_incident_subscriptions_email"))
        batch_op.drop_index(batch_op.f("ix_incident_subscriptions_incident_id"))
    op.drop_table("incident_subscriptions")
