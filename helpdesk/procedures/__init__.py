"""Procedures: the desk runs what kb/procedures describes against the company's systems.

``config`` reads which systems exist and the limits per conversation (config/procedures.yml),
``inputs`` checks the customer's answers, ``replies`` matches the system's answer to the
procedure's replies and fills them in, ``runner`` makes the one HTTP call, ``store`` keeps the
audit log and the conversation's attempts, ``api`` is what the bot's action server calls.
"""
