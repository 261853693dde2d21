"""Configuration of the customer chat: where Rasa is, for the page and for the backend.

Read from the environment with embedded defaults, like ``helpdesk.settings``;
kept here because only the chat uses it. ``create_app`` puts one instance on
``app.state.chat_config``; a test replaces it there.

- ``HELPDESK_RASA_URL``: Rasa as the backend reaches it (hand-back to the bot
  through its private channel, bot/channels.py), default ``http://127.0.0.1:5005``.
- ``HELPDESK_RASA_PUBLIC_URL``: Rasa as the customer's browser reaches it (the
  socket.io channel). Unset: the host that served the page, port 5005, which is
  right for the one-machine run command.
- ``HELPDESK_RASA_TOKEN``: the private channel's bearer token; without it hand-back to the
  bot cannot reset the conversation and is refused. Like the other secrets it
  may also come from ``HELPDESK_SECRETS_FILE`` (default ``var/secrets.env``).
- ``HELPDESK_BOT_MAX_MESSAGE_CHARS``: the longest message a customer may send, the
  same variable Rasa's channels read (bot/channels.py); the page's counter and the
  live chat's API use it. 1 to ``MAX_MESSAGE_CHARS`` (8,000, what a ticket keeps
  whole), default the most.
"""

from __future__ import annotations

from fastapi import Request
from pydantic import Field, field_validator

from helpdesk.handoffs.schemas import MAX_MESSAGE_CHARS
from search_api.settings import BaseUrl, EnvSettings


class ChatConfig(EnvSettings):
    rasa_url: BaseUrl = Field("http://127.0.0.1:5005", description="Rasa as the web service reaches it")
    rasa_public_url: str | None = Field(None, description="Rasa as the customer's browser reaches it")
    rasa_token: str | None = Field(None, description="bearer token of Rasa's private channel")
    max_message_chars: int = Field(
        MAX_MESSAGE_CHARS, validation_alias="HELPDESK_BOT_MAX_MESSAGE_CHARS", description="the longest customer message"
    )

    @field_validator("rasa_public_url")
    @classmethod
    def no_trailing_slash(cls, value: str | None) -> str | None:
        return (value or "").rstrip("/") or None

    @field_validator("max_message_chars")
    @classmethod
    def kept_whole(cls, value: int) -> int:
        if not 1 <= value <= MAX_MESSAGE_CHARS:
            raise ValueError(
                f"HELPDESK_BOT_MAX_MESSAGE_CHARS must be 1 to {MAX_MESSAGE_CHARS} (what a ticket keeps whole), "
                f"not {value}"
            )
        return value

    def public_rasa_url(self, request: Request) -> str:
        if self.rasa_public_url:
            return self.rasa_public_url
        host = request.url.hostname or "127.0.0.1"
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        return f"{request.url.scheme}://{host}:5005"


def get_chat_config(request: Request) -> ChatConfig:
    config = getattr(request.app.state, "chat_config", None)
    if config is None:
        config = request.app.state.chat_config = ChatConfig.from_env()
    return config
