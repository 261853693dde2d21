"""Simulated chat messages: a KB's example question the way a customer writes it in a chat.

Why: the answer decision is calibrated on simulated searches (decision.py). A KB's example
questions are 8 words; a customer's first message is 30: a greeting, a short story, the
problem, what was tried, thanks, some typos and, in German, umlauts written out. Calibrated
on the 8-word questions alone, the decision refused half of such messages that the KB
answers. ``chat_message`` wraps a question in that frame (``chat_style.yml``: words that
name no product and no topic) and misspells it as a hasty typist does; the decision is then
fitted on both, searched through the same ``service.searched_text`` as a real message.

Deterministic: the same question always gets the same message (a stable hash seeds it), so
an incremental build reuses its cached vectors.
"""

from __future__ import annotations

import hashlib
import random
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TYPO_SHARE = 0.15  # of the words of five letters or more, this share gets one typo
_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}


@cache
def _frames() -> dict[str, Any]:
    frames: dict[str, Any] = yaml.safe_load((Path(__file__).with_name("chat_style.yml")).read_text(encoding="utf-8"))
    return frames


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swapped
    if kind == 1:
        return word[:i] + word[i + 1 :]  # dropped
    return word[:i] + word[i] + word[i:]  # doubled


def misspell(text: str, rng: random.Random, lang: str) -> str:
    words = text.split(" ")
    out = []
    for word in words:
        if len(word) >= 5 and word.isalpha() and rng.random() < TYPO_SHARE:
            word = _typo(word, rng)
        out.append(word)
    text = " ".join(out)
    if lang == "de" and rng.random() < 0.5:
        for umlaut, written in _UMLAUTS.items():
            text = text.replace(umlaut, written)
    return text.lower() if rng.random() < 0.5 else text


def chat_message(question: str, lang: str) -> str:
    """``question`` inside a customer's chat message in ``lang`` (module docstring); a language
    without a frame gets the question misspelled only."""
    rng = random.Random(hashlib.sha1(f"{lang}:{question}".encode()).hexdigest())
    frame = _frames().get(lang)
    core = misspell(question, rng, lang)
    if not frame:
        return core
    parts = []
    if rng.random() < 0.7:
        parts.append(rng.choice(frame["greetings"]))
    if rng.random() < 0.6:
        parts.append(rng.choice(frame["stories"]))
    parts.append(core.rstrip(".") + ("" if core.endswith(("?", "!", ".")) else "."))
    if rng.random() < 0.6:
        parts.append(rng.choice(frame["tried"]))
    if rng.random() < 0.5:
        parts.append(rng.choice(frame["closings"]))
    return " ".join(parts)
