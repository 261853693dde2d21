"""The audit log of erasures, exports and purges: who, when, which selector, how many rows.

It answers "when did you erase my data?" and "who exported it?" without holding the
data itself: a selector is recorded by its kind (email, phone, ticket) and the ticket
ids it found, never by the address or number that was asked for. Rows are written in
the same transaction as the erasure they describe (helpdesk/privacy/erasure.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from helpdesk.db import as_utc, utcnow
from helpdesk.handoffs.models import PrivacyAuditEntry


def add_entry(
    session: Session,
    actor: str,
    action: str,
    selector: str,
    counts: dict[str, int],
    tickets: Iterable[str] = (),
    dry_run: bool = False,
    now: datetime | None = None,
) -> None:
    session.add(
        PrivacyAuditEntry(
            at=now or utcnow(),
            actor=actor[:64],
            action=action,
            selector=selector,
            tickets=",".join(sorted(tickets)),
            counts=json.dumps(counts, sort_keys=True),
            dry_run=dry_run,
        )
    )


def record(
    engine: Engine,
    actor: str,
    action: str,
    selector: str,
    counts: dict[str, int],
    tickets: Iterable[str] = (),
    dry_run: bool = False,
) -> None:
    with Session(engine) as session, session.begin():
        add_entry(session, actor, action, selector, counts, tickets, dry_run)


def entries(engine: Engine, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ``limit`` entries, newest first."""
    with Session(engine) as session:
        rows = session.scalars(
            select(PrivacyAuditEntry).order_by(PrivacyAuditEntry.at.desc(), PrivacyAuditEntry.id.desc()).limit(limit)
        )
        return [
            {
                "at": as_utc(r.at).isoformat().replace("+00:00", "Z"),
                "actor": r.actor,
                "action": r.action,
                "selector": r.selector,
                "tickets": [t for t in r.tickets.split(",") if t],
                "counts": json.loads(r.counts),
                "dry_run": r.dry_run,
            }
            for r in rows
        ]
