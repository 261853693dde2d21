"""The desk around knowledge search: handoffs, inbox, customer chat and live
takeover, feedback and gaps, migrations, the ``helpdesk`` CLI and the app
factory that composes search_api's routers and the desk's into one process."""
