"""The export as the customer reads it: one HTML page of everything the desk keeps about them.

The right of access asks for an intelligible copy, and the JSON export is the
complete one, in the desk's and Rasa's own formats. This page shows the same
document (helpdesk/privacy/erasure.py's ``export``) the way the customer knows it:
the contact data kept, each ticket with the conversation that led to it, the mails
and files, what happened to it, the chats with the assistant as they saw them
(their messages and the assistant's answers; Rasa's other events only counted), the
clicks and questions kept for the authors, and how long each kind is kept. Every
time is in the deployment's time zone (config/routing.yml ``time_zone``), in the
customer's language (German or English, the language of their first ticket).
Customer text is escaped (Jinja's autoescape): the page shows it, never runs it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("de", "en")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your data at {company}",
        "generated": "Compiled on {at} (times: {zone})",
        "intro": "This is everything {company}'s helpdesk keeps about you: {tickets} tickets, {chats} chat "
        "conversations with the assistant, and what is listed below.",
        "contact": "Contact data",
        "name": "Name",
        "email": "E-mail",
        "phone": "Phone",
        "tickets": "Your tickets",
        "ticket": "Ticket {id}",
        "opened": "opened",
        "status": "status",
        "channel": "by",
        "topic": "topic",
        "product": "product",
        "description": "Your description",
        "tried": "What you had tried",
        "impact": "Impact",
        "resolution": "How it was solved",
        "conversation": "The conversation",
        "you": "You",
        "bot": "Assistant",
        "agent": "Our team",
        "mails": "Mails",
        "ratings": "Your ratings of the solution",
        "rating": "{score} of 5",
        "from_you": "from you",
        "from_us": "from us",
        "files": "Files you sent",
        "chat_files": "Pictures and files you attached in the chat (in the JSON export, with their content)",
        "bytes": "bytes",
        "history": "What happened",
        "notified": "Our team was notified {n} times.",
        "chats": "Chats with the assistant",
        "chat": "Chat of {at}",
        "other_events": "Besides the messages, the assistant recorded {events} in this chat.",
        "feedback": 'Your answers to "Did this help?"',
        "helpful": "helped",
        "not_helpful": "did not help",
        "questions": "Questions nothing answered (kept for our authors)",
        "searches": "Searches of your chats, counted for our reports",
        "searches_line": "{n} searches, {answered} answered, from {start} to {end}",
        "drafts": "Help article drafts written from your tickets",
        "auto_replies": "Automatic replies",
        "auto_reply": "last automatic reply to {address}: {at}",
        "kept": "How long we keep it",
        "days": "{days} days",
        "forever": "until you ask us to erase it",
        "kept_handoffs": "tickets, their conversations, mails and files: after the ticket's last change",
        "kept_trackers": "chats with the assistant: after the chat's last message",
        "kept_unanswered": "questions nothing answered",
        "kept_feedback": 'answers to "Did this help?"',
        "kept_reports": "counted searches",
        "none": "none",
    },
    "de": {
        "title": "Ihre Daten bei {company}",
        "generated": "Zusammengestellt am {at} (Zeiten: {zone})",
        "intro": "Das ist alles, was der Helpdesk von {company} über Sie speichert: {tickets} Tickets, {chats} "
        "Chats mit dem Assistenten und das, was unten steht.",
        "contact": "Kontaktdaten",
        "name": "Name",
        "email": "E-Mail",
        "phone": "Telefon",
        "tickets": "Ihre Tickets",
        "ticket": "Ticket {id}",
        "opened": "eröffnet",
        "status": "Status",
        "channel": "über",
        "topic": "Thema",
        "product": "Produkt",
        "description": "Ihre Beschreibung",
        "tried": "Was Sie schon versucht hatten",
        "impact": "Auswirkung",
        "resolution": "Wie es gelöst wurde",
        "conversation": "Das Gespräch",
        "you": "Sie",
        "bot": "Assistent",
        "agent": "Unser Team",
        "mails": "E-Mails",
        "ratings": "Ihre Bewertungen der Lösung",
        "rating": "{score} von 5",
        "from_you": "von Ihnen",
        "from_us": "von uns",
        "files": "Dateien, die Sie schickten",
        "chat_files": "Bilder und Dateien, die Sie im Chat anhängten (im JSON-Export mit ihrem Inhalt)",
        "bytes": "Bytes",
        "history": "Was geschah",
        "notified": "Unser Team wurde {n}-mal benachrichtigt.",
        "chats": "Chats mit dem Assistenten",
        "chat": "Chat vom {at}",
        "other_events": "Neben den Nachrichten hat der Assistent in diesem Chat {events} gespeichert.",
        "feedback": "Ihre Antworten auf „Hat das geholfen?“",
        "helpful": "hat geholfen",
        "not_helpful": "hat nicht geholfen",
        "questions": "Fragen ohne Antwort (für unsere Autoren aufbewahrt)",
        "searches": "Suchen Ihrer Chats, für unsere Berichte gezählt",
        "searches_line": "{n} Suchen, {answered} beantwortet, von {start} bis {end}",
        "drafts": "Entwürfe von Hilfeartikeln aus Ihren Tickets",
        "auto_replies": "Automatische Antworten",
        "auto_reply": "letzte automatische Antwort an {address}: {at}",
        "kept": "Wie lange wir das aufbewahren",
        "days": "{days} Tage",
        "forever": "bis Sie die Löschung verlangen",
        "kept_handoffs": "Tickets mit Gespräch, E-Mails und Dateien: ab der letzten Änderung des Tickets",
        "kept_trackers": "Chats mit dem Assistenten: ab der letzten Nachricht",
        "kept_unanswered": "Fragen ohne Antwort",
        "kept_feedback": "Antworten auf „Hat das geholfen?“",
        "kept_reports": "gezählte Suchen",
        "none": "keine",
    },
}

# Rasa's event types other than messages, as the page counts them.
EVENT_NAMES = {
    "en": {
        "action": "steps of the assistant",
        "slot": "remembered values",
        "session_started": "session starts",
        "other": "other events",
    },
    "de": {
        "action": "Schritte des Assistenten",
        "slot": "gemerkte Werte",
        "session_started": "Sitzungsbeginne",
        "other": "weitere Ereignisse",
    },
}

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True
)


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def chats(events: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    """Rasa's events per conversation: the messages as the customer saw them, the rest counted by kind."""
    by_conversation: dict[str, dict[str, Any]] = {}
    for event in events:
        at = _moment(event.get("at") or event["timestamp"])
        chat = by_conversation.setdefault(event["sender_id"], {"messages": [], "others": Counter(), "start": at})
        data = event["data"] if isinstance(event["data"], dict) else {}
        if event["type"] in ("user", "bot") and data.get("text"):
            chat["messages"].append(
                {"sender": "customer" if event["type"] == "user" else "bot", "text": data["text"], "at": at}
            )
        else:
            kind = event["type"] if event["type"] in EVENT_NAMES[language] else "other"
            chat["others"][EVENT_NAMES[language][kind]] += 1
    return [
        {**chat, "others": ", ".join(f"{n} {name}" for name, n in chat["others"].most_common())}
        for chat in by_conversation.values()
    ]


def readable_export(document: dict[str, Any], deployment, config, zone: tzinfo) -> str:
    """``render_html`` for the deployment (company, default language) and the privacy configuration."""
    return render_html(
        document,
        company=deployment.company,
        zone=zone,
        retention_days=config.retention_days.model_dump(),
        default_language=deployment.default_language,
    )


def render_html(
    document: dict[str, Any],
    *,
    company: str,
    zone: tzinfo,
    retention_days: dict[str, int],
    default_language: str = "en",
) -> str:
    """The export ``document`` (JSON-ready, as ``export`` returns it) as one HTML page."""
    languages = [h["language"] for h in document["handoffs"] if h.get("language") in LANGUAGES]
    language = languages[0] if languages else (default_language if default_language in LANGUAGES else "en")
    texts = TEXTS[language]

    def local(value: Any) -> str:
        moment = _moment(value)
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    contacts = sorted(
        {
            (c["name"] or "", c["email"] or "", c["phone"] or "")
            for c in (h["summary"]["contact"] for h in document["handoffs"])
            if any(c.values())
        }
    )
    conversations = chats(document["conversation_events"], language)
    return _environment.get_template("export.html").render(
        t=texts,
        language=language,
        company=company,
        document=document,
        contacts=contacts,
        chats=conversations,
        local=local,
        zone=getattr(zone, "key", str(zone)),
        retention=retention_days,
        tr=lambda key, **values: texts[key].format(**values),
    )
