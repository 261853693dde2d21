"""Tables of the e-mail channel (migration 0006_mail).

Why tables of their own: threading needs every Message-ID the desk sent or took in,
mapped to its ticket (a reply names them in In-Reply-To/References); the auto-reply
limit needs the last auto-reply per sender shared by every process; attachments are
files on disk whose random names, owners and sizes live here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.handoffs.models import Base


class MailMessage(Base):
    """A Message-ID the desk took in (direction ``in``) or sent (``out``), and its ticket."""

    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(500), unique=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    subject: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AutoReply(Base):
    """When a sender last got an automatic reply (one per HELPDESK_MAIL_AUTOREPLY_HOURS)."""

    __tablename__ = "mail_auto_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str] = mapped_column(String(254), unique=True)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MailAttachment(Base):
    """A file that came with a mail, stored under a random name in HELPDESK_MAIL_ATTACHMENTS_DIR."""

    __tablename__ = "mail_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # the random file name and URL part
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))  # the sender's name, cleaned; shown, never used as a path
    content_type: Mapped[str] = mapped_column(String(200))  # as declared by the sender; informative only
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
