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

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request

from helpdesk.handoffs.schemas import MAX_MESSAGE_CHARS
from search_api.settings import read_env


@dataclass(frozen=True)
class ChatConfig:
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_public_url: str | None = None
    rasa_token: str | None = None
    max_message_chars: int = MAX_MESSAGE_CHARS

    def __post_init__(self) -> None:
        if not 1 <= self.max_message_chars <= MAX_MESSAGE_CHARS:
            raise ValueError(
                f"HELPDESK_BOT_MAX_MESSAGE_CHARS must be 1 to {MAX_MESSAGE_CHARS} "
                f"(what a ticket keeps whole), not {self.max_message_chars}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChatConfig:
        env = read_env(env)
        return cls(
            rasa_url=(env.get("HELPDESK_RASA_URL") or cls.rasa_url).rstrip("/"),
            rasa_public_url=(env.get("HELPDESK_RASA_PUBLIC_URL") or "").rstrip("/") or None,
            rasa_token=env.get("HELPDESK_RASA_TOKEN") or None,
            max_message_chars=int(env.get("HELPDESK_BOT_MAX_MESSAGE_CHARS") or MAX_MESSAGE_CHARS),
        )

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
