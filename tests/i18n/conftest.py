"""Fixtures of the language tests: the handoff tests' app, databases and SMTP receiver."""

from tests.handoffs.conftest import (  # noqa: F401
    client,
    database_url,
    index_dir,
    make_client,
    make_settings,
    open_routing,
    smtp_server,
    store,
)
