"""The agent inbox: server-rendered pages (Jinja2, no JavaScript) behind a login.

Agents log in with the accounts made by ``helpdesk create-agent``; the session
is a signed cookie (``security``), every form carries a CSRF token, and
everything a customer wrote is escaped by Jinja's autoescape. The pages call
the same store operations as the agent JSON API in ``helpdesk.handoffs.api``.
"""
