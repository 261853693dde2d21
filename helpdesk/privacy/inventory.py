"""Every table and column of the desk's database and of Rasa's tracker store, by whether it holds customer data.

Erasure, export and the purge (erasure.py, purge.py) must reach every place a
customer's text or contact data is kept. This is the list they are held to:
tests/privacy/test_inventory.py reads the real schema of both stores, on SQLite and
PostgreSQL, and fails on a table or column that is not placed here, and on a table of
customer data that an erasure does not count. A new table or column is placed here
when it is added, with how erasure finds its rows.
"""

from __future__ import annotations

# Tables whose rows belong to one customer: how erasure finds them, and the columns that hold the
# customer's text, contact data or what identifies them (the other columns are ids, times and states).
CUSTOMER_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "handoffs": (
        "the selected handoffs",
        (
            "conversation_id",
            "idempotency_key",
            "product",
            "description",
            "tried",
            "impact",
            "contact_name",
            "contact_email",
            "contact_phone",
            "resolution",
            "chat_key_hash",
            "procedure_run",
        ),
    ),
    "handoff_messages": ("their handoff", ("text",)),
    "handoff_articles": ("their handoff", ("feedback",)),
    "handoff_events": ("their handoff", ("note",)),
    "notification_outbox": ("their handoff, or their address (incident notices)", ("target", "payload", "last_error")),
    "notification_attempts": ("their handoff's outbox row", ("detail",)),
    "mail_messages": ("their handoff", ("message_id", "subject")),
    "mail_attachments": ("their handoff (and the file named by the token)", ("token", "filename", "sha256")),
    "mail_auto_replies": ("the customer's e-mail addresses", ("sender",)),
    "chat_attachments": (
        "their handoff, or the customer's conversations (and the files named by the token)",
        ("token", "conversation_id", "filename", "sha256", "width", "height"),
    ),
    "article_feedback": ("the customer's conversations", ("conversation_id", "query")),
    "unanswered_searches": ("the customer's conversations", ("conversation_id", "query")),
    "report_conversations": ("the customer's conversations", ("conversation_id",)),
    "report_article_views": ("the customer's conversations", ("conversation_id",)),
    "incident_subscriptions": ("the customer's e-mail addresses and conversations", ("email", "conversation_id")),
    "incident_conversations": ("the customer's conversations", ("conversation_id",)),
    "ratings": ("their handoff", ("score", "comment")),
    "procedure_attempts": ("the customer's conversations", ("conversation_id",)),
}

# Their other columns: nothing of the customer.
OTHER_COLUMNS: dict[str, tuple[str, ...]] = {
    "handoffs": (
        "id",
        "ticket_id",
        "payload_hash",
        "created_at",
        "updated_at",
        "status",
        "team",
        "priority",
        "language",
        "channel",
        "reason",
        "category",
        "urgency",
        "expected_minutes",
        "due_at",
        "sla_due_at",
        "told_due_at",
        "customer_seen_at",
        "on_call",
        "assignee",
        "incident_id",
    ),
    "handoff_messages": ("id", "handoff_id", "position", "sender", "sent_at", "buttons"),  # buttons: the bot's own
    "handoff_articles": ("id", "handoff_id", "position", "article_id", "title", "score"),
    "handoff_events": ("id", "handoff_id", "at", "actor", "action", "from_team", "to_team"),
    "notification_outbox": (
        "id",
        "handoff_id",
        "incident_id",
        "event",
        "channel",
        "state",
        "attempts",
        "next_attempt_at",
        "locked_until",
        "created_at",
        "delivered_at",
    ),
    "notification_attempts": ("id", "outbox_id", "attempt", "at", "ok", "duration_ms"),
    "mail_messages": ("id", "handoff_id", "direction", "at"),
    "mail_attachments": ("id", "handoff_id", "content_type", "size", "at"),
    "chat_attachments": ("id", "handoff_id", "kind", "content_type", "size", "language", "at"),
    "mail_auto_replies": ("id", "last_at"),
    "article_feedback": ("id", "article_id", "helpful", "created_at", "updated_at"),
    "unanswered_searches": ("id", "asked_at", "lang", "confidence", "threshold", "top_article_id"),
    "report_conversations": (
        "id",
        "language",
        "started_at",
        "last_search_at",
        "last_answered_at",
        "searches",
        "answered",
    ),
    "report_article_views": ("id", "article_id", "shown_at"),
    "incident_subscriptions": ("id", "incident_id", "language", "created_at", "notified_at"),
    "incident_conversations": ("id", "incident_id", "language", "told_at"),
    "ratings": (
        "id",
        "handoff_id",
        "token_hash",
        "language",
        "agent",
        "team",
        "asked_by",
        "asked_at",
        "expires_at",
        "rated_at",
        "commented_at",
    ),
    "procedure_attempts": ("id", "procedure_id", "identity_failed", "at"),
}

# Tables without customer data, and why.
OTHER_TABLES: dict[str, str] = {
    "agents": "the desk's agents",
    "agent_sessions": "agents' inbox sessions",
    "agent_tokens": "agents' API tokens",
    "login_failures": "failed agent logins, for the lockout",
    "privacy_audit": "who erased, exported or purged what: the kind of selector, ticket ids and counts",
    "alembic_version": "the schema's revision",
    "incidents": "known incidents the desk declared: what is affected, where, the public messages",
    "incident_events": "the incidents' timeline: which agent changed what, the public messages then",
    "procedure_runs": "the procedures' audit log: procedure, language, outcome, the system's status, duration",
}

# Rasa's tracker store (SQLTrackerStore): one row per event, found by the customer's conversations.
TRACKER_TABLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "events": (
        "the customer's conversations (sender_id)",
        ("sender_id", "data", "intent_name", "action_name"),
        ("id", "type_name", "timestamp"),
    ),
}

# Files, with the erasure's count of each: mail attachments by their rows' tokens, drafts by the ticket
# their first line names (helpdesk/privacy/files.py).
FILES: dict[str, str] = {
    "attachment_files": "HELPDESK_MAIL_ATTACHMENTS_DIR/<token>",
    "chat_attachment_files": "HELPDESK_CHAT_ATTACHMENTS_DIR/<token> and <token>.thumb",
    "article_drafts": "HELPDESK_DRAFTS_DIR/<lang>/<slug>.md written from a ticket",
}
