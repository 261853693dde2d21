"""The path of a rating link, and its token hidden from everyone but the customer.

A rating link in the live chat is a desk message of the ticket's transcript: the customer's chat
page shows it whole; every other view of the transcript (the workspace, the agents' API and live
stream, exports) shows ``/rate/…``, so that nobody of the team can rate their own work.
"""

from __future__ import annotations

import re

TOKEN_PREFIX = "hdrt_"
RATING_TOKEN = re.compile(rf"/rate/{TOKEN_PREFIX}[A-Za-z0-9_-]+")
HIDDEN = "/rate/…"


def rating_path(token: str, score: int | None = None) -> str:
    return f"/rate/{token}" + (f"?score={score}" if score is not None else "")


def hide_rating_tokens(text: str) -> str:
    return RATING_TOKEN.sub(HIDDEN, text)
