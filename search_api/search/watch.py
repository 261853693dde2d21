"""Rebuild the index when articles or procedures change (``helpdesk serve --watch``), for authors previewing.

watchfiles batches the change events of a save; each batch triggers one
incremental rebuild (only changed articles are embedded), and a broken
article is logged with file and line while the last good version serves on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi.concurrency import run_in_threadpool
from watchfiles import awatch

if TYPE_CHECKING:
    from search_api.search.service import SearchService

log = logging.getLogger(__name__)


async def watch_articles(service: SearchService) -> None:
    folders = [service.settings.articles_dir, service.settings.procedures_root]
    existing = [folder for folder in folders if folder.is_dir()]
    async for changes in awatch(*existing, watch_filter=lambda _, path: path.endswith((".md", ".yml", ".yaml"))):
        log.info("articles or procedures changed (%d files): rebuilding the index", len(changes))
        try:
            report = await run_in_threadpool(service.reindex)
        except Exception:  # keep watching: the next save may fix it
            log.exception("rebuild failed; the previous index keeps serving")
            continue
        for error in report.errors:
            log.warning("skipped: %s", error)
        log.info(
            "index %s: embedded %d, reused %d articles in %.1f s",
            report.version,
            report.embedded_articles,
            report.reused_articles,
            report.seconds,
        )
