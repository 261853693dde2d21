"""The reference company system of the Nordwind demo: customers, lines, invoices, password resets.

A small FastAPI service of the kind a company already runs, for procedures (kb/procedures) to
call; see ``app.py``.
"""
