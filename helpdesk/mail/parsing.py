"""A raw inbound mail as the desk uses it: sanitised text, the headers that matter, attachments.

Mail is hostile input. HTML is never kept: it is cleaned by nh3 (scripts and styles
dropped with their content) and reduced to plain text here, so the inbox shows and
stores text only. Broken charsets, missing headers and odd MIME trees yield the best
text there is instead of an error: a mail the desk cannot read is still a customer
waiting. Attachments come back as bytes with a cleaned file name; storing them is
``attachments``' concern.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

import nh3

ADDRESS_RE = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
MSGID_RE = re.compile(r"<[^<>\s]{1,400}>")
TICKET_RE = re.compile(r"\bHD-[2-9A-HJ-NP-Z]{6}\b")
BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "hr",
    "section",
    "article",
    "header",
    "footer",
}
KEPT_TAGS = BLOCK_TAGS | {"a", "td", "th", "b", "strong", "i", "em", "span", "code", "tbody", "thead"}
# Where the quoted history of a reply starts (Outlook, Thunderbird, Gmail, Apple Mail in de/en).
QUOTE_START = re.compile(
    r"^(?:On .{3,200} wrote:|Am .{3,200} schrieb .{0,200}:|-{2,}\s*(?:Original Message|Ursprüngliche Nachricht)\s*-{2,}"
    r"|(?:From|Von): .+)$",
    re.IGNORECASE,
)


# A mail's greeting line and where its closing starts: words for people, noise for knowledge search.
SALUTATION = re.compile(
    r"^(?:hallo|hi|hey|moin|servus|guten (?:tag|morgen|abend)|sehr geehrte[rs]?|liebe[rs]?|"
    r"hello|dear|good (?:morning|afternoon|evening))\b[^.!?\n]{0,60}[,!]?$",
    re.IGNORECASE,
)
CLOSING = re.compile(
    r"^(?:--\s*|(?:viele|beste|liebe|freundliche) gr(?:ü|ue)(?:ß|ss)e\b.*|"
    r"mit freundlichen gr(?:ü|ue)(?:ß|ss)en\b.*|"
    r"mfg\b.*|gru(?:ß|ss)\b.*|vg\b.*|(?:best|kind|warm)(?: regards)?\b,?$|regards\b.*|cheers\b.*|"
    r"thanks?(?: you)?(?: in advance)?[,!.]?$|danke(?: im voraus)?[,!.]?$|sent from my .*|"
    r"von meinem .* gesendet)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    subject: str
    sender: str  # the From address, lower case ("" when there is none)
    sender_name: str
    reply_to: str  # where answers go: Reply-To, else From
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str  # the body as sanitised plain text
    headers: dict[str, tuple[str, ...]]  # lower-case name -> values, for the loop rules
    attachments: tuple[Attachment, ...] = ()
    dropped: tuple[str, ...] = ()  # notes about what was not taken in (too large attachments, ...)
    size: int = 0
    complete: bool = True  # False: only the headers were fetched (the mail is over the size limit)
    was_html: bool = False

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower(), ())
        return values[0].strip() if values else ""

    @property
    def thread_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.in_reply_to, *reversed(self.references))))

    @property
    def subject_tickets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(TICKET_RE.findall(self.subject.upper())))


def storable(text: str) -> str:
    """Text PostgreSQL can store: no NUL, no lone surrogates, \\n line ends."""
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def message_ids(value: str) -> tuple[str, ...]:
    return tuple(MSGID_RE.findall(value or ""))


def _content(part: Message) -> str:
    """A text part's text: its declared charset, else UTF-8, else Latin-1 (which decodes anything)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    for charset in (part.get_content_charset(), "utf-8", "latin-1"):
        if not charset:
            continue
        try:
            return storable(payload.decode(charset))
        except (LookupError, UnicodeDecodeError):
            continue
    return ""  # pragma: no cover - latin-1 decodes every byte string


class _TextMaker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.href: list[str | None] = []
        self.link_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in BLOCK_TAGS:
            self.out.append("\n")
        if tag == "li":
            self.out.append("- ")
        if tag in ("td", "th"):
            self.out.append(" ")
        if tag == "a":
            self.href.append(dict(attrs).get("href"))
            self.link_text.append("")

    def handle_endtag(self, tag):
        if tag == "a" and self.href:
            href, text = self.href.pop(), self.link_text.pop()
            if href and href.startswith(("http://", "https://", "mailto:")) and href not in text:
                self.out.append(f" ({href})")
        if tag in BLOCK_TAGS:
            self.out.append("\n")

    def handle_data(self, data):
        data = re.sub(r"\s+", " ", data)
        if self.link_text:
            self.link_text[-1] += data
        self.out.append(data)


def html_to_text(html: str) -> str:
    """Sanitise (nh3: only harmless tags, scripts and styles gone with their content), then reduce to text."""
    clean = nh3.clean(
        html, tags=KEPT_TAGS, attributes={"a": {"href"}}, clean_content_tags={"script", "style"}, link_rel=None
    )
    maker = _TextMaker()
    maker.feed(clean)
    maker.close()
    lines = [line.strip() for line in "".join(maker.out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def new_text(text: str) -> str:
    """A reply without the quoted history below it (the customer's new words)."""
    kept = []
    for line in text.split("\n"):
        if QUOTE_START.match(line.strip()):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    return "\n".join(kept).strip() or text.strip()


def question(subject: str, text: str) -> str:
    """What a new mail asks, for knowledge search: the subject and the body between greeting and closing."""
    lines = [line.strip() for line in new_text(text).split("\n")]
    while lines and (not lines[0] or SALUTATION.match(lines[0])):
        lines.pop(0)
    for i, line in enumerate(lines):
        if CLOSING.match(line):
            lines = lines[:i]
            break
    body = " ".join(" ".join(lines).split())
    subject = REPLY_SUBJECT.sub("", subject).strip()
    return f"{subject}\n{body}".strip()


REPLY_SUBJECT = re.compile(r"^(?:(?:re|aw|fwd?|wg)\s*:\s*)+", re.IGNORECASE)


def _headers(msg: Message) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for name, value in msg.items():
        found.setdefault(name.lower(), []).append(storable(str(value)))
    return {k: tuple(v) for k, v in found.items()}


def _clean_filename(name: str | None) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"<>:|?*]", "", storable(name)).strip(" .")
    return name[:200] or "attachment"


def parse(raw: bytes, max_attachment_bytes: int, size: int | None = None, complete: bool = True) -> ParsedMail:
    """``raw`` is the whole mail, or only its header when ``complete`` is False."""
    msg = message_from_bytes(raw, policy=default_policy)
    headers = _headers(msg)
    message_id = next(iter(message_ids(str(msg.get("Message-ID", "")))), "")
    if not message_id:  # no usable Message-ID: one derived from the content, stable on a second fetch
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid>"
    name, sender = parseaddr(str(msg.get("From", "")))
    if not ADDRESS_RE.fullmatch(sender):  # a From header no parser accepts: its last address-like part
        raw_from = next((str(v) for k, v in msg.raw_items() if k.lower() == "from"), "")
        found = ADDRESS_RE.findall(raw_from)
        name, sender = "", found[-1] if found else ""
    reply_to = [addr for _, addr in getaddresses([str(v) for v in msg.get_all("Reply-To", [])]) if "@" in addr]
    subject = " ".join(storable(str(msg.get("Subject", ""))).split())[:500]
    text, was_html, attachments, dropped = "", False, [], []
    if complete:
        body = msg.get_body(preferencelist=("plain", "html")) if isinstance(msg, EmailMessage) else None
        if body is not None:
            was_html = body.get_content_type() == "text/html"
            text = html_to_text(_content(body)) if was_html else _content(body).strip()
        for part in msg.walk():
            if part.is_multipart() or part is body:
                continue
            disposition = part.get_content_disposition()
            if part.get_content_maintype() == "text" and disposition != "attachment" and not part.get_filename():
                continue  # an alternative of the body (the HTML of a plain mail)
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = _clean_filename(part.get_filename())
            if len(data) > max_attachment_bytes:
                dropped.append(
                    f"attachment {filename} ({len(data)} bytes) is over the limit of "
                    f"{max_attachment_bytes} bytes and was not taken in"
                )
                continue
            attachments.append(Attachment(filename, part.get_content_type()[:200], data))
    return ParsedMail(
        message_id=message_id,
        subject=subject,
        sender=sender.strip().lower() if "@" in sender else "",
        sender_name=storable(name).strip()[:200],
        reply_to=(reply_to[0] if reply_to else sender).strip().lower(),
        in_reply_to=message_ids(str(msg.get("In-Reply-To", ""))),
        references=message_ids(str(msg.get("References", ""))),
        text=storable(text),
        headers=headers,
        attachments=tuple(attachments),
        dropped=tuple(dropped),
        size=size if size is not None else len(raw),
        complete=complete,
        was_html=was_html,
    )
