"""The e-mail channel in the agent inbox: replying to the customer by mail, downloading attachments.

A reply is validated like a note, composed with the conversation's threading headers
(``replies.compose``) and committed together with its transcript message and the outbox
row that sends it by SMTP (with retries; its delivery shows under Notifications). Both
routes are ticket routes: an agent outside the ticket's teams gets the 404 a ticket
that does not exist gets.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, Response

from helpdesk.db import utcnow
from helpdesk.handoffs.agents import AgentInfo
from helpdesk.handoffs.errors import InvalidTransition, StoreError, TicketNotFound
from helpdesk.handoffs.schemas import Message, NoteIn
from helpdesk.i18n import msg
from helpdesk.inbox.pages import act, no_such_ticket
from helpdesk.mail import attachments
from helpdesk.mail.replies import compose
from helpdesk.mail.store import MailStore
from helpdesk.web import AgentDep

router = APIRouter(prefix="/agent", include_in_schema=False)


def send_reply(state, ticket_id: str, agent: AgentInfo, text: str) -> None:
    settings = state.settings
    body = NoteIn(text=text).text  # same bounds as a note: 1..4000 characters, not blank
    view = state.handoffs.get(ticket_id, teams=agent.scope)
    if view["channel"] != "email":
        raise InvalidTransition(
            msg(
                "%(ticket)s did not come by e-mail (%(channel)s): no mail reply",
                ticket=view["ticket_id"],
                channel=view["channel"],
            )
        )
    to = view["summary"]["contact"]["email"]
    if not to:
        raise InvalidTransition(msg("%(ticket)s has no e-mail address to reply to", ticket=view["ticket_id"]))
    if not settings.smtp_host:
        raise StoreError(msg("no SMTP server is configured (HELPDESK_SMTP_HOST): the reply cannot be sent"))
    mails = MailStore(state.handoffs)
    thread = mails.thread(view["ticket_id"])
    subject = next((m["subject"] for m in thread if m["direction"] == "in"), view["summary"]["description"][:80])
    company = state.deployment.company
    out = compose(
        desk_address=settings.mail.desk_address(settings.smtp_from),
        company=company,
        to=to,
        ticket_id=view["ticket_id"],
        subject=subject,
        text=f"{body}\n\n-- \n{agent.display_name}\n{company}",
        thread=[m["message_id"] for m in thread],
        automatic=False,
    )
    mails.send(
        view["ticket_id"],
        out.message_id,
        out.subject,
        out.to,
        out.raw,
        out.mail_from,
        "mail.agent-reply",
        Message(sender="agent", text=body, timestamp=utcnow()),
        actor=agent.username,
        teams=agent.scope,
    )


@router.post("/handoffs/{ticket_id}/mail")
async def reply_by_mail(
    ticket_id: str, request: Request, who: AgentDep, csrf_token: str = Form(""), text: str = Form("")
):
    return await act(
        request,
        who,
        ticket_id,
        csrf_token,
        "reply sent by e-mail",
        lambda agent: send_reply(request.app.state, ticket_id, agent, text),
    )


@router.get("/handoffs/{ticket_id}/attachments/{token}")
def download(ticket_id: str, token: str, request: Request, who: AgentDep) -> Response:
    agent, session = who
    state = request.app.state
    try:
        found = MailStore(state.handoffs).attachment(ticket_id, token, teams=agent.scope)
        path = attachments.path_of(state.settings.mail.attachments_dir, found.token)
        if not path.is_file():
            raise FileNotFoundError(path)
    except (TicketNotFound, FileNotFoundError):
        return no_such_ticket(request, agent, session, ticket_id)
    headers = attachments.download_headers(found.filename)
    return FileResponse(path, headers=headers, media_type=headers["Content-Type"])
