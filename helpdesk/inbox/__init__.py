"""The agent inbox: server-rendered pages (Jinja2) behind a login, enhanced by a small script.

Agents log in with the accounts made by ``helpdesk create-agent``; the session
is a database row behind a random cookie (``sessions``, ``security``), every
form carries a CSRF token, and everything a customer wrote is escaped by
Jinja's autoescape. The pages call the same store operations, with the same
role and team scope (``helpdesk.handoffs.access``), as the agent JSON API in
``helpdesk.handoffs.api``; ``stream`` keeps the list live, ``assist`` finds
articles for a ticket, ``transcript`` shows messages as the customer saw them.
"""
