"""Backend service of the automated first-level helpdesk.

Knowledge search (``/search``), article pages (``/articles``), the handoff
queue (``/handoffs``) and the agent inbox (``/agent``) live here, one module
or sub-package per concern; see ``../shared/DESIGN.md`` for the map.
"""
