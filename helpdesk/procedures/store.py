"""The audit log of procedure runs and the limits per conversation, in the desk's database.

``limit_reached`` answers, before a run, whether the conversation may run one more: not after
``limits.identity_failures`` refused identities (the conversation is locked out of procedures
that check one) and not after ``limits.runs_per_conversation`` runs, each counted in the last
``limits.window_hours``. ``run_summary`` reads the audit log back for operators (``helpdesk
procedure-runs``). ``record`` writes one audit row per run, with what happened and how long
it took and nothing of the customer, and one attempt row for the conversation's limits, in one
transaction. The purge deletes both after their retention periods (helpdesk/privacy/purge.py).
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, func, select

from helpdesk.db import engine_transaction, utcnow
from helpdesk.procedures.config import Limits
from helpdesk.procedures.models import ProcedureAttempt, ProcedureRun


def counts(engine: Engine, limits: Limits, conversation_id: str) -> tuple[int, int]:
    """(runs, refused identities) of the conversation in the last ``limits.window_hours``."""
    since = utcnow() - timedelta(hours=limits.window_hours)
    mine = (ProcedureAttempt.conversation_id == conversation_id) & (ProcedureAttempt.at >= since)
    with engine_transaction(engine) as s:
        runs = s.scalar(select(func.count()).select_from(ProcedureAttempt).where(mine)) or 0
        refused = s.scalar(
            select(func.count()).select_from(ProcedureAttempt).where(mine & ProcedureAttempt.identity_failed)
        )
    return runs, refused or 0


def limit_reached(
    engine: Engine, limits: Limits, conversation_id: str, checks_identity: bool
) -> Literal["locked", "limit"] | None:
    """ "locked" (too many refused identities), "limit" (too many runs) or None: the conversation may run it."""
    runs, refused = counts(engine, limits, conversation_id)
    if checks_identity and refused >= limits.identity_failures:
        return "locked"
    if runs >= limits.runs_per_conversation:
        return "limit"
    return None


def run_summary(engine: Engine, since: datetime) -> list[dict[str, Any]]:
    """The audit log since ``since``, per procedure and outcome: how many runs, and the median and
    slowest duration in milliseconds; most runs first."""
    with engine_transaction(engine) as s:
        rows = s.execute(
            select(ProcedureRun.procedure_id, ProcedureRun.outcome, ProcedureRun.duration_ms).where(
                ProcedureRun.started_at >= since
            )
        ).all()
    groups: dict[tuple[str, str], list[int]] = {}
    for procedure_id, outcome, duration in rows:
        groups.setdefault((procedure_id, outcome), []).append(duration)
    summary = [
        {
            "procedure_id": procedure_id,
            "outcome": outcome,
            "runs": len(durations),
            "median_ms": int(statistics.median(durations)),
            "max_ms": max(durations),
        }
        for (procedure_id, outcome), durations in groups.items()
    ]
    return sorted(summary, key=lambda row: (-row["runs"], row["procedure_id"], row["outcome"]))


def identity_attempts_left(engine: Engine, limits: Limits, conversation_id: str) -> int:
    return max(0, limits.identity_failures - counts(engine, limits, conversation_id)[1])


def record(
    engine: Engine,
    procedure_id: str,
    language: str,
    outcome: str,
    status_code: int | None,
    duration_ms: int,
    conversation_id: str | None,
    started_at: datetime | None = None,
) -> None:
    """The audit row of a run; with ``conversation_id`` (a run that reached the system) its attempt too."""
    started_at = started_at or utcnow()
    with engine_transaction(engine) as s:
        s.add(
            ProcedureRun(
                procedure_id=procedure_id,
                language=language,
                outcome=outcome,
                status_code=status_code,
                duration_ms=duration_ms,
                started_at=started_at,
            )
        )
        if conversation_id is not None:
            s.add(
                ProcedureAttempt(
                    conversation_id=conversation_id,
                    procedure_id=procedure_id,
                    identity_failed=outcome == "identity_failed",
                    at=started_at,
                )
            )
