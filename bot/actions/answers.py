"""What the bot makes of a KB search: answer, suggest, ask which topic, or refuse.

Pure functions over the JSON of ``POST /search`` (no Rasa, no HTTP), so the
dialogue's decisions are testable on their own. The web service decides how
sure it is (``decision``: answer | suggest | none, and per hit an ``answer``
passage); older services only send ``answerable`` and a ``snippet``, which
map onto the same shape here. What is decided here is what the *conversation*
adds: a message too vague to guess from gets one clarifying question whose
buttons are the topics and products of the articles found (the KB's own
front matter, never a list in code), and an article the customer rejected is
never offered again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

ANSWER, SUGGEST, NONE = "answer", "suggest", "none"
MAX_SUGGESTIONS = 3
MAX_TOPIC_BUTTONS = 4
# A message with at most this many content words names a thing but not what is wrong
# with it ("internet kaputt!!!", "wifi not working", "Frage zur Rechnung").
VAGUE_MAX_CONTENT_WORDS = 1
# With two content words only a search that found several possible articles makes it vague;
# two words that find nothing ("Kuchen backen") are not a question of topic.
SHORT_CONTENT_WORDS = 2
# Options spread over several topics get the topic question only for a short message ("Frage
# zur Rechnung und zum Router"): a customer who described the problem in a sentence or a story
# ("bei der nordwindbox ist das licht bei internet rot, die handys sind im wlan aber nix laedt")
# has said what it is about, and the articles themselves are the better question.
SPREAD_MAX_CONTENT_WORDS = 4
# After "not solved" on an article the service was sure of (``answer``), another hit is
# offered (the next one, or a list when the rejected one is still the best match) only when
# the service gives it at least this chance of being the answer (its per-hit confidence):
# below it, "this article might fit better" is a guess ("Wi-Fi mesh setup" at 0.0001 for
# Wi-Fi that drops), and a question for details or a person helps more.
PLAUSIBLE_NEXT = 0.1

_TOKEN = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
# An error code or a number says exactly what is wrong: OFF-1040, 535, SYNC-409.
_CODE = re.compile(r"\b[A-Za-z]{0,8}-?\d{3,}\b")

# Words that carry no topic: function words, and the generic "it is broken / I have a
# question" words of both languages (with and without umlauts, as customers type).
NON_CONTENT = frozenset(
    """
a an the my our your his her its their this that these those it i me we you he she they is are was were be been
am do does did doing done have has had having can cant cannot could would should will wont not no nor don dont
doesnt didnt isnt arent wasnt on in at to of for from with without by about as and or but so if then than just
any anything some something all still again also really very too much more since please pls plz hi hello hey
help question problem problems issue issues trouble working work works worked broken broke dead down wrong
error fail fails failed failing stopped stop stuck weird strange there here now today anymore any ok okay hm
what whats why how where when who which get got getting go goes going went keeps keep lol omg gibt gibts
ein eine einer einem einen eines der die das den dem des mein meine meiner meinem meinen meines
dein deine ihr ihre ihren ihrem unser unsere sein seine es ich wir sie du er man mir mich uns euch ist sind war
waren bin bist sein hat habe haben hatte hatten kann kann's koennen können konnte muss wird werden wurde
nicht nichts kein keine keinen keiner nie nur noch schon mal auch so und oder aber wenn dann als wie was warum
wieso weshalb wo wer welche welcher welches bei mit von vom zu zum zur im in am an auf aus fuer für über ueber
unter seit sehr total echt voll ganz gar halt eben doch ja nein bitte hallo moin hilfe frage fragen problem
probleme geht gehen ging funktioniert funktionieren klappt klappen laeuft läuft kaputt defekt tut fehler
irgendwie irgendwas etwas mehr heute jetzt immer wieder gerade einfach
""".split()
)


@dataclass
class Topic:
    """One button of the clarifying question: a KB category, or a product inside one."""

    category: str | None
    product: str | None
    label: str

    @property
    def key(self) -> str:
        return f"product:{self.product}" if self.product else f"topic:{self.category}"

    def payload(self) -> str:
        return "/inform" + json.dumps({"choice": self.key}, ensure_ascii=False)

    def matches(self, hit: dict[str, Any]) -> bool:
        if self.product:
            return hit.get("product") == self.product
        return hit.get("category") == self.category


@dataclass
class Plan:
    """What to show for one search: ``kind`` is answer | suggest | clarify | none | rejected_only."""

    kind: str
    hits: list[dict[str, Any]] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # best hits left out as rejected


def content_words(text: str) -> list[str]:
    return [
        w
        for w in (t.lower() for t in _TOKEN.findall(text or ""))
        if len(w) > 1 and w not in NON_CONTENT and not w.isdigit()
    ]


def has_code(text: str) -> bool:
    return bool(_CODE.search(text or ""))


def decision(result: dict[str, Any]) -> str:
    """The service's decision; ``answerable`` (older services) maps onto answer/none."""
    value = result.get("decision")
    if value in (ANSWER, SUGGEST, NONE):
        return value
    return ANSWER if result.get("answerable") else NONE


def passage(hit: dict[str, Any]) -> dict[str, str]:
    """The answer passage of a hit: safe markdown, plain text, section and link."""
    answer = hit.get("answer") if isinstance(hit.get("answer"), dict) else {}
    text = answer.get("text") or hit.get("snippet") or ""
    return {
        "markdown": answer.get("markdown") or text,
        "text": text,
        "section": answer.get("section") or hit.get("section") or "",
        "url": answer.get("url") or hit.get("url") or "",
    }


def confident(hit: dict[str, Any], threshold: float | None) -> bool:
    """A hit as sure as an answer (the service's per-hit confidence, else its score)."""
    value = hit.get("confidence", hit.get("score"))
    return value is not None and threshold is not None and float(value) >= float(threshold)


def offerable(hit: dict[str, Any], result: dict[str, Any]) -> bool:
    """A hit the bot may offer as an option (after "not solved", in a list). The service's
    decision says how many of its hits are plausible: ``answer`` and ``suggest`` stand for
    its first MAX_SUGGESTIONS hits (its per-hit confidence is calibrated for the first
    answer, so the second-best is rarely "confident" though plausible), ``none`` for none.
    An older service without ``decision``: the hit's score against its threshold."""
    verdict = result.get("decision")
    if verdict in (ANSWER, SUGGEST):
        top = {h.get("article_id") for h in (result.get("hits") or [])[:MAX_SUGGESTIONS]}
        return hit.get("article_id") in top
    if verdict == NONE:
        return False
    return confident(hit, result.get("threshold"))


def plausible_alternative(hit: dict[str, Any], result: dict[str, Any]) -> bool:
    """A hit worth offering once the customer rejected another article (PLAUSIBLE_NEXT)."""
    if not offerable(hit, result):
        return False
    if decision(result) == ANSWER and hit.get("confidence") is not None:
        return float(hit["confidence"]) >= PLAUSIBLE_NEXT
    return True


def plausible(hit: dict[str, Any]) -> bool:
    """A hit with a real chance of being the answer (PLAUSIBLE_NEXT), or one without a confidence."""
    return hit.get("confidence") is None or float(hit["confidence"]) >= PLAUSIBLE_NEXT


def likely_category(result: dict[str, Any]) -> str | None:
    """The category a search points to even without an answer, for a handoff's topic: the one
    the first hits share, else the best hit's when it is plausible; None when they disagree."""
    hits = list(result.get("hits") or [])[:MAX_SUGGESTIONS]
    categories = {h.get("category") for h in hits}
    if len(categories) == 1 and None not in categories:
        return hits[0]["category"]
    if hits and hits[0].get("category") and hits[0].get("confidence") is not None and plausible(hits[0]):
        return hits[0]["category"]
    return None


def next_after_rejection(result: dict[str, Any], seen: Iterable[str]) -> dict[str, Any] | None:
    """The article to offer after "not solved" on ``result``'s article, or None: ask for details.
    After a ``suggest`` the article came from the list: the customer saw the others there and
    picked this one, so offering them now would only repeat the list. A procedure is never the
    next card: it is offered as the answer to a description, not as an article to read."""
    if decision(result) == SUGGEST:
        return None
    seen = set(seen)
    return next(
        (
            h
            for h in result.get("hits") or []
            if h.get("article_id") not in seen and h.get("kind") != "procedure" and plausible_alternative(h, result)
        ),
        None,
    )


def is_vague(text: str, search_decision: str) -> bool:
    if has_code(text):
        return False
    words = len(content_words(text))
    return words <= VAGUE_MAX_CONTENT_WORDS or (words <= SHORT_CONTENT_WORDS and search_decision == SUGGEST)


def mentioned(text: str, hits: Sequence[dict[str, Any]]) -> bool:
    """Whether a content word of ``text`` (its first five letters) occurs in the hits' titles,
    passages, categories or products: the KB talks about the thing the customer named."""
    found = " ".join(
        f"{h.get('title', '')} {passage(h)['text']} {h.get('category') or ''} {h.get('product') or ''}" for h in hits
    ).lower()
    return any(word[:5] in found for word in content_words(text))


def topics_of(hits: Sequence[dict[str, Any]], labels: dict[str, str]) -> list[Topic]:
    """Buttons from the hits' front matter: one per category when they differ, else one per
    product inside the one category; fewer than two means there is nothing to choose."""
    categories: list[str] = []
    for hit in hits:
        if hit.get("category") and hit["category"] not in categories:
            categories.append(hit["category"])
    if len(categories) >= 2:
        return [
            Topic(c, None, labels.get(c) or c.replace("-", " ").capitalize()) for c in categories[:MAX_TOPIC_BUTTONS]
        ]
    products: list[str] = []
    for hit in hits:
        if hit.get("product") and hit["product"] not in products:
            products.append(str(hit["product"]))
    if len(products) >= 2:
        category = categories[0] if categories else None
        return [Topic(category, p, p) for p in products[:MAX_TOPIC_BUTTONS]]
    return []


def topic_from_choice(value: str | None, last_topics: Iterable[dict[str, Any]]) -> Topic | None:
    """The topic a button sent (``topic:<category>`` / ``product:<name>``), as offered."""
    if not value:
        return None
    for offered in last_topics or ():
        topic = Topic(offered.get("category"), offered.get("product"), offered.get("label") or "")
        if topic.key == value:
            return topic
    return None


def plan(
    result: dict[str, Any],
    text: str,
    rejected: Iterable[str],
    labels: dict[str, str],
    may_clarify: bool,
    topic: Topic | None = None,
    dismissed: Iterable[str] = (),
) -> Plan:
    """The bot's next step for a search of ``text``.

    ``rejected``: articles the customer read and marked "not solved", never shown again.
    ``dismissed``: articles passed over in a list ("none of these"); shown again only as the
    clear answer to a new description, and then with the reason (kind ``answer_again``).
    ``may_clarify`` is False once the customer answered a clarifying question for this
    problem (one question only). ``topic`` narrows the hits to the topic chosen.
    """
    rejected = set(rejected)
    dismissed = set(dismissed) - rejected
    verdict = decision(result)
    hits = list(result.get("hits") or [])
    if topic is not None:
        narrowed = [h for h in hits if topic.matches(h)]
        if narrowed and (verdict != ANSWER or narrowed[0] is not (hits[0] if hits else None)):
            # The customer chose the topic: its best articles, offered as options (unsure), not
            # a refusal because the words alone were too vague for the service to decide.
            verdict = SUGGEST
        hits = narrowed or hits
    skipped = [h for h in hits if h.get("article_id") in rejected]
    fresh = [h for h in hits if h.get("article_id") not in rejected | dismissed]

    if may_clarify and topic is None:
        # The articles in question: those the service is sure of, else the first few.
        sure = [h for h in fresh if offerable(h, result)]
        candidates = (sure if len(sure) >= 2 else fresh[:MAX_SUGGESTIONS])[: MAX_SUGGESTIONS + 2]
        vague = is_vague(text, verdict)
        # Spread over topics only for a short message, and only where the hits that have a real
        # chance are: one clear leader ("how much notice do I have to give?") is a suggestion.
        spread = (
            verdict == SUGGEST
            and len(content_words(text)) <= SPREAD_MAX_CONTENT_WORDS
            and len({h.get("category") for h in fresh[:MAX_SUGGESTIONS] if plausible(h)}) >= 2
        )
        if vague and verdict == NONE and not mentioned(text, candidates):
            vague = False  # "Studentenrabatt?": nothing in the KB is about it, so no topic to ask
        if (vague or spread) and candidates:
            topics = topics_of(candidates, labels)
            # Products split articles of one topic ("wifi not working": a DSL and a Fiber Wi-Fi
            # article). Asking for the product helps only when no article is plausible; when the
            # service found some, the articles themselves are the better question.
            by_product = bool(topics) and topics[0].product is not None
            if len(topics) >= 2 and not (by_product and verdict != NONE):
                return Plan("clarify", candidates, topics)
            if vague and len(candidates) >= 2:
                # One topic, several articles: let the customer pick instead of guessing one. Also
                # when the service decided "none": "office is broken" names a thing the KB is about
                # (``mentioned``) but not what is wrong with it, so no single article is sure, yet
                # a list of its articles is a question, not a guess.
                return Plan(SUGGEST, candidates[:MAX_SUGGESTIONS], skipped=skipped)

    if verdict == NONE or not hits:
        return Plan(NONE, skipped=skipped)
    if verdict == ANSWER and hits[0].get("article_id") in dismissed:
        return Plan("answer_again", hits[:1], skipped=skipped)
    if hits[0].get("article_id") in rejected:
        # The best match is one the customer already said did not help: say so, never re-show it,
        # and offer the others only where the service gives them a real chance.
        others = [h for h in fresh if plausible_alternative(h, result)][:MAX_SUGGESTIONS]
        return Plan(SUGGEST if others else "rejected_only", others, skipped=skipped)
    if verdict == ANSWER:
        return Plan(ANSWER, fresh[:1], skipped=skipped)
    suggestions = [h for h in fresh if offerable(h, result)][:MAX_SUGGESTIONS] or fresh[:MAX_SUGGESTIONS]
    # Beside a plausible article, one the service gives no real chance is noise in the list.
    suggestions = [h for h in suggestions if plausible(h)] or suggestions
    return Plan(SUGGEST, suggestions, skipped=skipped)
