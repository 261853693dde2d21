"""``helpdesk import``: a company's existing help content as knowledge-base drafts.

Readers, one module per kind of source, turn each input into ``SourceArticle`` objects with a
markdown body (model.py):

* zendesk.py    Zendesk Guide articles JSON (the help-center API's export)
* freshdesk.py  Freshdesk solution articles JSON
* zammad.py     Zammad knowledge-base answers JSON (the API's assets format)
* files.py      saved HTML pages, markdown files, plain-text files
* htmltext.py   HTML to markdown and a saved page's main content (standard library only)

sources.py picks the reader, importer.py decides language, category, product and tags
(guess.py), finds probable duplicates (duplicates.py), names and writes the drafts to
``kb/drafts/<lang>/<slug>.md`` without overwriting anything, and reports what it did; cli.py is
the command. docs/authoring.md describes it for authors.
"""
