"""Known incidents: outages the desk has declared, so customers and the bot learn of them first.

A supervisor, or an agent of the team that owns the affected category, declares an incident
(what is affected, where, since when, until when, a public message per language) and updates
it until it is resolved; every change is a timeline entry that is also the audit trail. The
public status page, the bot's "this outage is known" answer and the "tell me when it is fixed"
e-mails all read from the same rows (``store``).
"""
