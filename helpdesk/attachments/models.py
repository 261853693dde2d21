"""The table of the chat's attachments (migration 0016_chat_attachments).

A row per file: the random token that names it on disk, the conversation it came in (the chat's
session id, which only the desk and Rasa know) and, once the conversation has a ticket, that
ticket. Deleting the ticket deletes its rows; erasure and the purge delete the files with them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.handoffs.models import Base


class ChatAttachment(Base):
    __tablename__ = "chat_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # the random file name and URL part
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))  # the customer's name, cleaned; shown, never used as a path
    kind: Mapped[str] = mapped_column(String(8))  # image | pdf
    content_type: Mapped[str] = mapped_column(String(40))  # found from the bytes, not declared
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
