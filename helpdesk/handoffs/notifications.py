"""Notifications of new, escalated, reassigned and reopened handoffs: signed webhook and e-mail to the team.

Why an outbox: a notification is a row written in the same transaction as the
handoff (see ``HandoffStore.create``), and a background worker delivers the
rows afterwards. So a receiver that is down or slow never delays or loses a
handoff, and a crash between the 201 and the delivery only delays it: the
row is still pending when the service comes back (at-least-once; receivers
deduplicate on ``X-Helpdesk-Delivery`` or the e-mail's Message-ID). Every
attempt is recorded with its answer; failures are retried with exponential
backoff until ``HELPDESK_NOTIFY_MAX_ATTEMPTS``, then the row is marked failed
and stays visible on the handoff.

Webhook requests are JSON, signed with HMAC-SHA256 over ``"<t>.<body>"`` in
the header ``X-Helpdesk-Signature: t=<unix time>,v1=<hex>``; see ``verify``.
Both channels are optional: unset HELPDESK_WEBHOOK_URL / HELPDESK_SMTP_HOST
and nothing is enqueued for them. A team's mail is written in the team's language
(the routing file's ``language``) with its times in the desk's time zone. A third channel, ``mail``, carries the e-mail
channel's mails to customers (helpdesk/mail): composed in full when enqueued,
delivered and retried here like the rest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import smtplib
import threading
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import httpx

from helpdesk.db import utcnow
from helpdesk.handoffs.routing import RoutingConfig
from helpdesk.handoffs.store import HandoffStore, Notification, OutboxJob
from helpdesk.i18n import N_, DeskLanguage, english
from helpdesk.i18n.catalogs import DEFAULT_LANGUAGE

if TYPE_CHECKING:
    from helpdesk.settings import Settings

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Helpdesk-Signature"
MAX_BACKOFF_SECONDS = 3600


class NotificationConfig:
    """The notification settings (HELPDESK_WEBHOOK_*, HELPDESK_SMTP_*, HELPDESK_NOTIFY_*) of ``Settings``."""

    timeout_seconds = 10.0

    def __init__(self, settings: Settings, routing: RoutingConfig | None = None) -> None:
        if settings.webhook_url and not settings.webhook_secret:
            raise ValueError(
                "HELPDESK_WEBHOOK_URL is set but HELPDESK_WEBHOOK_SECRET is not: webhooks are always signed"
            )
        self.settings = settings
        self.routing = routing

    def team_language(self, team: str) -> DeskLanguage:
        """The language of a team's mails, in the desk's time zone (English in UTC without a routing file)."""
        if self.routing is None:
            return english()
        known = self.routing.teams.get(team)
        return DeskLanguage(known.language if known else DEFAULT_LANGUAGE, self.routing.tz)

    def __getattr__(self, name: str) -> Any:
        # webhook_url, smtp_host, ... are read from the settings, so there is one list of them.
        return getattr(self.settings, name)

    @property
    def max_attempts(self) -> int:
        return self.settings.notify_max_attempts

    @property
    def retry_seconds(self) -> float:
        return self.settings.notify_retry_seconds

    def plan(self, routing: RoutingConfig, team: str) -> list[Notification]:
        """The notifications a handoff for ``team`` gets under this configuration."""
        planned = []
        if self.webhook_url:
            planned.append(Notification("webhook", self.webhook_url))
        email = routing.teams[team].email if team in routing.teams else None
        if self.smtp_host and email:
            planned.append(Notification("email", email))
        return planned

    def backoff(self, attempts_done: int) -> float:
        delay = min(self.retry_seconds * 2.0 ** (attempts_done - 1), MAX_BACKOFF_SECONDS)
        return delay * random.uniform(0.9, 1.1)  # jitter: retries of many rows do not arrive together


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """Receiver side: check ``X-Helpdesk-Signature`` (and that it is fresh, against replays)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def deliver(job: OutboxJob, config: NotificationConfig) -> tuple[bool, str]:
    """One attempt; returns (delivered, what the receiver answered or the error)."""
    try:
        if job.channel == "webhook":
            return _post_webhook(job, config)
        if job.channel == "email":
            return _send_email(job, config)
        if job.channel == "mail":
            return _send_mail(job, config)
        return False, f"unknown channel {job.channel!r}"
    except (httpx.HTTPError, smtplib.SMTPException, OSError) as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _post_webhook(job: OutboxJob, config: NotificationConfig) -> tuple[bool, str]:
    body = job.payload.encode("utf-8")
    if not config.webhook_secret:
        return False, "HELPDESK_WEBHOOK_SECRET is not set: refusing to send an unsigned webhook"
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "helpdesk-search-api",
        "X-Helpdesk-Event": job.event,
        "X-Helpdesk-Delivery": str(job.id),
        SIGNATURE_HEADER: sign(config.webhook_secret, int(time.time()), body),
    }
    response = httpx.post(job.target, content=body, headers=headers, timeout=config.timeout_seconds)
    return 200 <= response.status_code < 300, f"HTTP {response.status_code}"


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The subject and first line of a team's mail, by event (any other event: a new handoff).
HEADLINES = {
    "handoff.escalated": (
        N_("[%(ticket)s] Escalated %(priority)s handoff (%(category)s): %(description)s"),
        N_("Escalated handoff %(ticket)s for team %(team)s, priority %(priority)s"),
    ),
    "handoff.reassigned": (
        N_("[%(ticket)s] Reassigned %(priority)s handoff (%(category)s): %(description)s"),
        N_("Reassigned handoff %(ticket)s for team %(team)s, priority %(priority)s"),
    ),
    "handoff.reopened": (
        N_("[%(ticket)s] Reopened %(priority)s handoff (%(category)s): %(description)s"),
        N_("Reopened handoff %(ticket)s for team %(team)s, priority %(priority)s"),
    ),
    "handoff.new": (
        N_("[%(ticket)s] New %(priority)s handoff (%(category)s): %(description)s"),
        N_("New handoff %(ticket)s for team %(team)s, priority %(priority)s"),
    ),
}


# Who moved the ticket to the team, and why: by the history entry's action.
MOVED_BY = {
    "escalated": N_("Escalated by %(agent)s: %(reason)s"),
    "reassigned": N_("Reassigned by %(agent)s: %(reason)s"),
}


def team_mail(job: OutboxJob, config: NotificationConfig) -> EmailMessage:
    """The mail to a team of a new, escalated, reassigned or reopened handoff, in the team's language."""
    h = json.loads(job.payload)["handoff"]
    summary, contact = h["summary"], h["summary"]["contact"]
    lang = config.team_language(h["team"])
    _ = lang.gettext
    subject, headline = HEADLINES.get(job.event, HEADLINES["handoff.new"])
    priority = lang.term("priority", h["priority"])

    def when(stamp: str) -> str:  # the payload's ISO instants, in the desk's zone
        return lang.timestamp(datetime.fromisoformat(stamp))

    message = EmailMessage()
    message["From"] = config.smtp_from
    message["To"] = job.target
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{h['ticket_id']}.{job.id}@helpdesk>"
    message["Subject"] = _one_line(
        _(
            subject,
            ticket=h["ticket_id"],
            priority=priority,
            category=summary["category"],
            description=summary["description"],
        ),
        150,
    )
    last = next((e for e in reversed(h.get("events", [])) if e["action"] in MOVED_BY), None)
    reopened = next((e for e in reversed(h.get("events", [])) if e["action"] == "reopened"), None)
    due = f"{when(h['sla_due_at'])} ({lang.tz})"
    link = f"{config.public_base_url}/agent/handoffs/{h['ticket_id']}"
    lines = [
        _(headline, ticket=h["ticket_id"], team=h["team"], priority=priority)
        + (" " + _("(on-call)") if h.get("on_call") else ""),
        _("Respond by: %(time)s", time=due),
        _("Open it: %(url)s", url=link),
        "",
        *([_(MOVED_BY[last["action"]], agent=last["actor"], reason=last["note"]), ""] if last else []),
        *([_("Reopened: %(note)s", note=reopened["note"]), ""] if reopened and job.event == "handoff.reopened" else []),
        _(
            "Category: %(category)s   Product: %(product)s   Urgency: %(urgency)s",
            category=summary["category"],
            product=summary["product"] or "-",
            urgency=lang.term("priority", summary["urgency"]),
        ),
        _("Impact: %(impact)s", impact=summary["impact"] or "-"),
        _("Contact: %(name)s", name=contact["name"] or "-") + f"  {contact['email'] or ''}  {contact['phone'] or ''}",
        _(
            "Language: %(language)s   Channel: %(channel)s   Reason: %(reason)s",
            language=lang.term("language", h["language"]),
            channel=lang.term("channel", h["channel"]),
            reason=lang.term("reason", h["reason"]),
        ),
        "",
        _("Problem:"),
        summary["description"],
        "",
        _("Already tried:"),
        summary["tried"] or "-",
        "",
        _("Transcript:"),
        *[
            f"  [{when(m['timestamp'])}] {lang.term('sender', m['sender'])}: {m['text']}"
            for m in h.get("transcript", [])
        ],
    ]
    message.set_content("\n".join(lines))
    return message


def _send_email(job: OutboxJob, config: NotificationConfig) -> tuple[bool, str]:
    return smtp_send(config, team_mail(job, config).as_bytes(), config.smtp_from, job.target)


def _send_mail(job: OutboxJob, config: NotificationConfig) -> tuple[bool, str]:
    """A mail to a customer (helpdesk/mail/replies.py), composed in full when it was enqueued."""
    data = json.loads(job.payload)
    return smtp_send(config, data["raw"].encode("utf-8"), data["mail_from"], job.target)


def smtp_send(config: NotificationConfig, raw: bytes, mail_from: str, to: str) -> tuple[bool, str]:
    """One message over the configured SMTP server; ``mail_from`` "" is the null sender (<>)."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # smtplib sends bytes as they are: SMTP wants CRLF
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout_seconds) as smtp:
        if config.smtp_starttls:
            smtp.starttls()
        if config.smtp_user:
            smtp.login(config.smtp_user, config.smtp_password or "")
        refused = smtp.sendmail(mail_from, [to], raw)
    if refused:
        return False, f"refused recipients: {refused}"
    return True, "250 accepted"


class NotificationWorker:
    """Background thread that delivers due outbox rows; one per app (replicas share by leases)."""

    def __init__(self, store: HandoffStore, config: NotificationConfig, poll_seconds: float = 2.0):
        self.store, self.config, self.poll_seconds = store, config, poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="handoff-notifications", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self.store.outbox_signal.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> int:
        """Deliver what is due now; returns how many attempts were made."""
        lease = timedelta(seconds=max(60.0, self.config.timeout_seconds * 3))
        jobs = self.store.claim_due_notifications(utcnow(), lease)
        for job in jobs:
            started = time.monotonic()
            ok, detail = deliver(job, self.config)
            duration_ms = int((time.monotonic() - started) * 1000)
            attempts_done = job.attempts + 1
            retry_at = None
            if not ok and attempts_done < self.config.max_attempts:
                retry_at = utcnow() + timedelta(seconds=self.config.backoff(attempts_done))
            if not ok:
                log.warning(
                    "notification %s (%s to %s) attempt %d failed: %s",
                    job.id,
                    job.channel,
                    job.target,
                    attempts_done,
                    detail,
                )
            self.store.record_attempt(job, ok, detail, duration_ms, retry_at)
        return len(jobs)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once():
                    continue
                next_due = self.store.next_notification_due()
            except Exception:  # the database may be briefly away; try again on the next poll
                log.exception("notification worker")
                next_due = None
            wait = self.poll_seconds
            if next_due is not None:
                wait = min(wait, max(0.05, (next_due - utcnow()).total_seconds()))
            self.store.outbox_signal.wait(wait)
            self.store.outbox_signal.clear()
