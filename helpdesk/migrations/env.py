"""Alembic environment: migrates the database named by the config's sqlalchemy.url."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import helpdesk.attachments.models
import helpdesk.feedback.models
import helpdesk.incidents.models
import helpdesk.mail.models
import helpdesk.procedures.models
import helpdesk.ratings.models
import helpdesk.reports.activity  # noqa: F401  (the reports' tables, likewise)
from helpdesk.handoffs.models import Base
from helpdesk.privacy.vacuum import secure_delete_on_connect

config = context.config
MIGRATION_LOCK_ID = 7_240_311  # any constant; the same in every process of this service
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic: no sqlalchemy.url (helpdesk.migrations.alembic_config sets it)")
    engine = create_engine(url, poolclass=pool.NullPool)
    secure_delete_on_connect(engine)  # SQLite's batch mode copies tables: the old copy is zeroed
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas starting together migrate one after the other (on SQLite: upgrade()'s file lock).
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_ID})")
            connection.commit()
        # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_ID})")
            connection.commit()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
