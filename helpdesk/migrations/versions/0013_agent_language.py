"""the language an agent reads the desk in: a profile setting, none meaning the browser's

Revision ID: 0013_agent_language
Revises: 0012_outcomes_and_promises
Create Date: 2026-12-07 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_agent_language"
down_revision = "0012_outcomes_and_promises"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("language")
