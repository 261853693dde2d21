"""The words of the desk's data shown on its pages: statuses, priorities, roles, history entries...

These values are stored and answered in English (the database, the JSON API, the
webhooks); a page shows them in the agent's language with ``DeskLanguage.term``,
by context, since one English word can be two German ones ("resolved" as a status
is "gelöst", as a history entry "gelöst" too, but "claimed" is "in Bearbeitung" as a
status and "übernommen" as an entry). This module lists every such word for the
catalogs' extraction; tests/i18n checks that it lists every value the code has.
A value the list lacks shows in English.
"""

from __future__ import annotations

from helpdesk.i18n.messages import term

TERMS = (
    # a ticket's status (helpdesk.handoffs.models.STATUSES) and the inbox's "open" filter
    term("status", "new"),
    term("status", "claimed"),
    term("status", "escalated"),
    term("status", "resolved"),
    term("status", "open"),
    # priorities and the customer's urgency (PRIORITIES)
    term("priority", "low"),
    term("priority", "normal"),
    term("priority", "high"),
    term("priority", "critical"),
    # roles (ROLES)
    term("role", "agent"),
    term("role", "supervisor"),
    term("role", "admin"),
    # a ticket's history entries (handoff_events.action)
    term("event", "created"),
    term("event", "claimed"),
    term("event", "note"),
    term("event", "escalated"),
    term("event", "reassigned"),
    term("event", "customer_told"),
    term("event", "rating_asked"),
    term("event", "resolved"),
    term("event", "reopened"),
    term("event", "messages"),
    term("event", "live_started"),
    term("event", "handed_back"),
    term("event", "incident linked"),
    term("event", "incident unlinked"),
    # who wrote a transcript message
    term("sender", "customer"),
    term("sender", "bot"),
    term("sender", "agent"),
    # the channel a ticket came by
    term("channel", "web-chat"),
    term("channel", "rest"),
    term("channel", "email"),
    # why the bot handed over (HandoffIn.reason)
    term("reason", "customer_request"),
    term("reason", "unresolved"),
    term("reason", "frustration"),
    term("reason", "no_answer"),
    term("reason", "search_unavailable"),
    # the customer's verdict on an article the bot showed
    term("feedback", "solved"),
    term("feedback", "not_solved"),
    term("feedback", "none"),
    # the language of a ticket or a report's filter
    term("language", "de"),
    term("language", "en"),
    # notifications of a ticket: their event, channel and state
    term("notification", "handoff.new"),
    term("notification", "handoff.escalated"),
    term("notification", "handoff.reassigned"),
    term("notification", "handoff.reopened"),
    term("notification", "mail.agent-reply"),
    term("notification", "mail.answer"),
    term("notification", "mail.acknowledgement"),
    term("notification", "mail.reopened"),
    term("notification", "mail.too-large"),
    term("notification", "mail.response-time"),
    term("notification", "mail.resolved"),
    term("notification channel", "webhook"),
    term("notification channel", "email"),
    term("notification channel", "mail"),
    term("notification state", "pending"),
    term("notification state", "delivered"),
    term("notification state", "failed"),
    # known incidents: status (INCIDENT_STATUSES) and timeline entries
    term("incident status", "investigating"),
    term("incident status", "identified"),
    term("incident status", "monitoring"),
    term("incident status", "resolved"),
    term("incident event", "declared"),
    term("incident event", "updated"),
    term("incident event", "resolved"),
    term("incident event", "ticket linked"),
    term("incident event", "ticket unlinked"),
    term("incident event", "tickets resolved"),
    # the reports' periods and the open backlog's ages (helpdesk.reports.queries)
    term("period", "day"),
    term("period", "week"),
    term("age", "under 1 h"),
    term("age", "1-4 h"),
    term("age", "4-24 h"),
    term("age", "1-3 days"),
    term("age", "3-7 days"),
    term("age", "over 7 days"),
    # the reports' satisfaction groups (helpdesk.reports.queries.CsatFigures) and the overall row's name
    term("csat group", "overall"),
    term("csat group", "team"),
    term("csat group", "agent"),
    term("csat group", "all"),
    # how a procedure run ended (helpdesk.procedures.runner.Outcome): the workspace's panel and the reports
    term("procedure outcome", "done"),
    term("procedure outcome", "handoff"),
    term("procedure outcome", "identity_failed"),
    term("procedure outcome", "failed"),
    term("procedure outcome", "locked"),
    term("procedure outcome", "limit"),
    # form fields named in an error message
    term("field", "text"),
    term("field", "note"),
    term("field", "reason"),
    term("field", "team"),
    term("field", "title"),
    term("field", "category"),
    term("field", "product"),
    term("field", "status"),
    term("field", "postal_prefixes"),
    term("field", "messages"),
    term("field", "started_at"),
    term("field", "expected_resolution_at"),
    term("field", "resolve_tickets"),
    term("field", "form"),
)
