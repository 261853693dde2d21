"""The errors of the desk's stores that an API answers with a 4xx (helpdesk/handoffs/api.py maps them)."""

from __future__ import annotations


class StoreError(Exception):
    """Base of the errors an API maps onto a 4xx."""


class TicketNotFound(StoreError):
    pass


class InvalidTransition(StoreError):
    pass


class IdempotencyConflict(StoreError):
    pass


class AgentExists(StoreError):
    pass


class AgentNotFound(StoreError):
    pass
