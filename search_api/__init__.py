"""Knowledge base and search: what does the KB say about this question?

Article parsing, lint and rendering, the article pages (``/articles``), the
index and embeddings, the search service and its router (``/search``,
``/language``), language detection and ``helpdesk eval``. The desk around it
(handoffs, inbox, chat, feedback) is the ``helpdesk`` package, which uses
search only through ``search.router`` and ``search.service``.
"""
