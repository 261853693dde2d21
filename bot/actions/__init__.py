"""Custom actions of the first-level helpdesk bot (rasa_sdk action server).

The actions are thin: they call the web service over HTTP (``backend``), turn its
answers into messages (``texts``, which renders the domain's responses in the
conversation's language) and into events. Retrieval, thresholds, language
detection (search_api) and handoff storage (helpdesk) live in the web service.

Run with ``cd bot && rasa run actions --actions actions``.
"""
