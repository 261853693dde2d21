"""The part of a customer's message that describes the problem.

Why: a first message in a chat is 30 words, not 8: "Hallo zusammen, ich arbeite
im Homeoffice und seit gestern Abend ... hab schon alles neu gestartet. Danke
und LG". Its greeting, thanks and sign-off match nothing and pull the embedding
away from the articles, and a pasted log of 8,000 characters would cost the
encoder seconds. Search sees the message's problem text instead:

* sentences (and the lines of a paste) that are only greeting, thanks, sign-off
  or politeness are dropped, and such words leading or closing a sentence are
  cut ("hallo, mein internet ..." -> "mein internet ...");
* of what remains, at most ``MAX_CHARS`` characters, in whole sentences, the
  question sentences first kept whole: a long story ends in the question it is
  about ("... what do I do?").

The words are a short per-language list: they never describe a problem, in any KB.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search_api.search.index import LanguageIndex

MAX_CHARS = 600
# Per language: words that open a message (``opening``), close it (``closing``), and those that
# only join them ("im Voraus", "thank you in advance"). A sentence of nothing else is dropped; a
# run of them opening or closing a sentence is cut when it holds an opening or closing word
# ("hallo zusammen, mein internet ..."), so "when I log in" keeps its "in".
COURTESY: dict[str, dict[str, frozenset[str]]] = {
    "de": {
        "opening": frozenset(
            """hallo hallöchen halloechen hi hey moin servus guten liebe lieber liebes sehr
            geehrte geehrter geehrtes""".split()
        ),
        "closing": frozenset(
            """danke dank dankeschön dankeschoen grüße gruesse grüsse gruß gruss grüßen gruessen
            lg vg mfg sg""".split()
        ),
        "joining": frozenset(
            """tag morgen abend zusammen team support damen herren vielen herzlichen besten
            schönen schoenen freundlichen freundliche viele liebe im voraus vorab bitte und mit euch ihnen
            schon mal ok okay""".split()
        ),
    },
    "en": {
        "opening": frozenset("hi hello hey hiya dear good greetings".split()),
        "closing": frozenset("thanks thank thx ty cheers regards sincerely".split()),
        "joining": frozenset(
            """morning afternoon evening there team support folks guys all everyone you in advance
            please pls plz best kind kindly many much so a lot yours and ok okay sir madam""".split()
        ),
    },
}
_SENTENCE = re.compile(r".+?(?:[.!?]+(?=\s|$)|\n|$)", re.S)
_WORD = re.compile(r"[\w'-]+")


def _courtesy(lang: str) -> dict[str, frozenset[str]]:
    if lang in COURTESY:
        return COURTESY[lang]
    return {part: COURTESY["de"][part] | COURTESY["en"][part] for part in ("opening", "closing", "joining")}


def _trim(sentence: str, words: dict[str, frozenset[str]]) -> str:
    """The sentence without its greeting and sign-off ("" if it is nothing else)."""
    tokens = [t for t in _WORD.finditer(sentence)]
    lowered = [t.group(0).lower() for t in tokens]
    opening, closing, joining = words["opening"], words["closing"], words["joining"]
    start = 0
    while start < len(tokens) and lowered[start] in opening | closing | joining:
        start += 1
    if start == len(tokens) or not any(w in opening | closing for w in lowered[:start]):
        start = 0 if start < len(tokens) else start
    end = len(tokens)
    while end > start and lowered[end - 1] in closing | joining:
        end -= 1
    if not any(w in closing for w in lowered[end:]):
        end = len(tokens)
    if start >= end:
        return ""
    if end == len(tokens):  # keep the sentence's closing punctuation ("?" says it asks)
        return sentence[tokens[start].start() :].strip()
    return sentence[tokens[start].start() : tokens[end - 1].end()].strip()


def problem_sentences(text: str, lang: str | None) -> list[str]:
    """The message's sentences without courtesy (module docstring), in order."""
    words = _courtesy(lang or "")
    out = []
    for match in _SENTENCE.finditer(text.strip()):
        trimmed = _trim(match.group(0), words)
        if trimmed:
            out.append(trimmed)
    return out


def problem_text(text: str, lang: str | None, max_chars: int = MAX_CHARS) -> str:
    """What search reads of ``text``: its problem sentences, bounded (module docstring).
    A message with nothing but courtesy is returned as it is (the caller's to handle)."""
    sentences = problem_sentences(text, lang)
    if not sentences:
        return text.strip()[:max_chars]
    joined = " ".join(sentences)
    if len(joined) <= max_chars:
        return joined
    questions = [i for i, s in enumerate(sentences) if s.endswith("?")]
    keep: list[int] = []
    budget = max_chars
    for i in [*questions[-1:], *range(len(sentences))]:
        if i in keep or len(sentences[i]) > budget:
            continue
        keep.append(i)
        budget -= len(sentences[i]) + 1
    if not keep:
        return sentences[0][:max_chars].rsplit(" ", 1)[0]
    return " ".join(sentences[i] for i in sorted(keep))


def searched_text(lindex: LanguageIndex, query: str) -> str:
    """What search reads of a customer's message in ``lindex``'s language (a LanguageIndex):
    its problem text, misspelled words corrected towards the KB's (spelling.py). The
    decision's calibration reads its simulated messages through the same function."""
    return lindex.speller.correct(problem_text(query, lindex.lang))
