"""Handoff of a conversation from the bot to a person (2nd level, then experts).

The bot's promise "a person will take over and will not ask you everything
again" rests on this package: the durable store (``store``), the routing of a
handoff to a team with an honest expected response time (``routing``), the
notifications to the team (``notifications``), the notices that wake event streams when a
ticket changes (``changes``) and the HTTP API (``api``).
The agent inbox pages live next door in ``helpdesk.inbox``.
"""
