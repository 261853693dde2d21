"""Application factory of the helpdesk web service: knowledge search plus the desk.

``create_app(settings)`` wires search_api's routers (search, articles) and the
desk's (chat, attachments, handoffs, inbox, e-mail replies, feedback, reports, ratings,
procedures) onto one FastAPI app; start-up work (migrations, loading the index)
happens in ``lifespan`` so tests can build apps with their own settings and
nothing is global.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from helpdesk import edge
from helpdesk.attachments.api import announce as announce_attachments
from helpdesk.attachments.api import router as attachments_router
from helpdesk.attachments.store import link_conversation
from helpdesk.chat.config import ChatConfig
from helpdesk.chat.router import router as chat_router
from helpdesk.deployment import load_checked
from helpdesk.feedback.api import record_unanswered
from helpdesk.feedback.api import router as feedback_router
from helpdesk.handoffs.api import open_handoffs
from helpdesk.handoffs.api import router as handoffs_router
from helpdesk.handoffs.changes import ticket_changes
from helpdesk.i18n.catalogs import load_all as load_catalogs
from helpdesk.inbox.pages import router as inbox_router
from helpdesk.inbox.stream import router as inbox_stream_router
from helpdesk.incidents.api import router as incidents_api_router
from helpdesk.incidents.api import service_router as incidents_service_router
from helpdesk.incidents.pages import router as incidents_pages_router
from helpdesk.incidents.status import router as status_router
from helpdesk.mail.pages import router as mail_router
from helpdesk.privacy.api import router as privacy_router
from helpdesk.privacy.masking import install_log_masking
from helpdesk.privacy.retention import load_privacy
from helpdesk.procedures.api import router as procedures_router
from helpdesk.procedures.config import load_procedures_config
from helpdesk.procedures.runner import quiet_requests
from helpdesk.profile import router as profile_router
from helpdesk.ratings.invitations import on_resolution
from helpdesk.ratings.pages import router as ratings_router
from helpdesk.reports import metrics as report_metrics
from helpdesk.reports.activity import record_search
from helpdesk.reports.pages import router as reports_router
from helpdesk.settings import Settings
from search_api.kb.router import router as articles_router
from search_api.search.router import router as search_router
from search_api.search.service import SearchService
from search_api.search.watch import watch_articles


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    install_log_masking()  # no customer's e-mail address or phone number in the service's logs

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Handoffs first: a bad routing file stops the start before the slow index load.
        with open_handoffs(app, settings) as store:
            # The desk's database (helpdesk/db.py): feedback, reports and privacy work on its engine.
            app.state.engine = store.engine
            store.resolve_hooks.append(on_resolution(app.state))  # the customer's satisfaction question
            store.create_hooks.append(link_conversation)  # a new ticket takes the files its chat sent before
            async with ticket_changes(store, settings.database_url) as app.state.ticket_changes:
                app.state.search = SearchService.open(settings, freeze_heap=True)
                watcher = asyncio.create_task(watch_articles(app.state.search)) if settings.watch_articles else None
                # The procedures' calls to the company's systems (helpdesk/procedures/runner.py).
                async with httpx.AsyncClient(follow_redirects=False) as app.state.procedure_client:
                    try:
                        yield
                    finally:
                        if watcher is not None:
                            watcher.cancel()

    app = FastAPI(
        title="Helpdesk first level",
        version="1",
        description="Knowledge search, article pages, customer chat, handoff queue and agent inbox "
        "of the first-level helpdesk.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    # The company's name, hotline, branding: checked before anything starts (a mistake stops it).
    app.state.deployment = settings.deployment or load_checked()
    # The desk's message catalogs (helpdesk/locale), compiled once for the process: a broken one stops the start.
    load_catalogs()
    # Retention, masking and vacuum (config/privacy.yml): checked before anything starts, like the deployment.
    app.state.privacy = load_privacy()
    # The company systems procedures may call, and their limits: checked before anything starts, like the deployment.
    app.state.procedures_config = load_procedures_config(settings.procedures_file)
    quiet_requests([system.base_url for system in app.state.procedures_config.systems.values()])
    # Where Rasa is and the longest message (HELPDESK_BOT_MAX_MESSAGE_CHARS): a wrong value keeps it from starting.
    app.state.chat_config = ChatConfig.from_env()
    # Unanswered searches feed `helpdesk gaps`; the bot's searches are counted for the reports.
    app.state.search_listeners = [record_unanswered, record_search]
    announce_attachments(settings.attachments)  # whether the chat's files are scanned for viruses

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc: RequestValidationError):
        # Inputs are echoed back nowhere: a 100 KB or binary input must not bloat the error.
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    app.include_router(search_router)
    app.include_router(articles_router)
    app.include_router(chat_router)
    app.include_router(attachments_router)
    app.include_router(handoffs_router)
    app.include_router(inbox_router)
    app.include_router(incidents_api_router)
    app.include_router(incidents_pages_router)
    app.include_router(status_router)
    app.include_router(incidents_service_router)
    app.include_router(inbox_stream_router)
    app.include_router(reports_router)
    app.include_router(mail_router)
    app.include_router(feedback_router)
    app.include_router(profile_router)
    app.include_router(privacy_router)
    app.include_router(ratings_router)
    app.include_router(procedures_router)
    edge.install(app, settings)  # body and rate limits, /metrics token, OpenAPI completion
    report_metrics.install(app)  # the reports' figures on /metrics
    return app
