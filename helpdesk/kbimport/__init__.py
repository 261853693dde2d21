"""``helpdesk import``: a company's existing help content as knowledge-base drafts.

Readers, one module per kind of source, turn each input into ``SourceArticle`` objects with a
markdown body (model.py):

* zendesk.py    Zendesk Guide articles JSON (the help-center API's export)
* freshdesk.py  Freshdesk solution articles JSON
* zammad.py     Zammad knowledge-base answers JSON (the API's assets format)
* files.py      saved HTML pages, markdown files, plain-text files
* word.py       Word documents (.docx), through mammoth's HTML
* pdf.py        PDF manuals: pypdf's lines with their font sizes, rebuilt as headings, steps, paragraphs
* documents.py  what those two share: the file's type checked, one draft per top-level heading
* crawler.py    a help site's pages by its sitemap or a list of URLs, fetched politely (``--url``)
* htmltext.py   HTML to markdown and a saved page's main content (standard library only)

sources.py picks the reader, importer.py decides language, category, product and tags
(guess.py), finds probable duplicates (duplicates.py), names and writes the drafts to
``kb/drafts/<lang>/<slug>.md`` without overwriting anything, and reports what it did; cli.py is
the command. docs/authoring.md describes it for authors.
"""
