"""Guesses for what a source does not say: the language, the category and product, the tags.

* Language: the source's locale ("en-us" -> en) when it has one, else lingua's detection over the
  served languages and a few common others (so that a French page is recognised as not served,
  not mistaken for German). A language the deployment does not serve is a skip, never a guess.
* Category: the words that name each category of ``config/routing.yml`` for the bot
  (``helpdesk.profile.category_words``: the category, its topic names in every language, the
  products and tags of its articles) counted in the title (3 points each), the source's own
  section or labels (2) and the body (1); the best score wins when it is at least
  ``MIN_CATEGORY_SCORE`` and ahead of the second; else no category (the handoff goes to "other").
* Product: a product named in the KB's articles whose full name, or a distinctive word of it (not
  the company's name), occurs in the text; the guessed category's products first.
* Tags: the source's labels, else the category words the text matched, else ``imported``.

Every guessed field is listed in the draft's ``guessed`` field for the author to confirm.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from search_api.kb.articles import Article

MIN_CATEGORY_SCORE = 2
MAX_TAGS = 5
_WORD = re.compile(r"[\w][\w-]*", re.UNICODE)
_TAG_CHARS = re.compile(r"[^\w-]+", re.UNICODE)
# Detected as well, only to recognise a page the deployment does not serve.
OTHER_LANGUAGES = ("fr", "es", "it", "nl", "pt", "pl")


def lang_of_locale(locale: str | None) -> str | None:
    if not locale:
        return None
    return re.split(r"[-_]", locale.strip().lower(), maxsplit=1)[0] or None


@cache
def _detector(codes: tuple[str, ...]):
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = []
    for code in codes:
        try:
            languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
        except (AttributeError, ValueError):
            continue
    if len(languages) < 2:
        return None
    return LanguageDetectorBuilder.from_languages(*languages).build()


def detect_language(text: str, served: tuple[str, ...]) -> str | None:
    """The text's language as an ISO 639-1 code, or None when lingua cannot tell."""
    codes = tuple(dict.fromkeys((*served, *OTHER_LANGUAGES)))
    detector = _detector(codes)
    if detector is None:
        return served[0] if len(served) == 1 else None
    found = detector.detect_language_of(text[:5000])
    return found.iso_code_639_1.name.lower() if found is not None else None


def words(text: str) -> Counter[str]:
    return Counter(m.group(0).lower() for m in _WORD.finditer(text))


@dataclass(frozen=True)
class Vocabulary:
    """What the guesses compare a text with: each category's words, each product's category and words."""

    category_words: dict[str, list[str]]
    products: dict[str, str]  # product -> the category most of its articles have
    product_words: dict[str, set[str]]  # product -> its distinctive words

    @classmethod
    def build(cls, category_words: dict[str, list[str]], articles: Iterable[Article], company: str) -> Vocabulary:
        by_product: dict[str, Counter[str]] = {}
        for article in articles:
            if article.product:
                by_product.setdefault(article.product, Counter())[article.category or ""] += 1
        company_words = set(words(company))
        products = {name: counts.most_common(1)[0][0] for name, counts in by_product.items()}
        all_words = Counter(w for name in products for w in set(words(name)))
        distinctive = {
            name: {w for w in words(name) if w not in company_words and len(w) >= 3 and all_words[w] == 1}
            for name in products
        }
        return cls(category_words, products, distinctive)


@dataclass(frozen=True)
class Guess:
    category: str | None
    product: str | None
    matched: tuple[str, ...]  # the category words the text matched, most frequent first


def guess_topic(vocabulary: Vocabulary, title: str, context: str, body: str) -> Guess:
    counted = [(words(title), 3), (words(context), 2), (words(body), 1)]
    scores: dict[str, int] = {}
    matched: Counter[str] = Counter()
    for name, names in vocabulary.category_words.items():
        for word in names:
            for counts, weight in counted:
                if counts[word]:
                    scores[name] = scores.get(name, 0) + weight * min(counts[word], 3)
                    matched[word] += counts[word]
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    category: str | None = None
    if ranked and ranked[0][1] >= MIN_CATEGORY_SCORE and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        category = ranked[0][0]
    product = _guess_product(vocabulary, f"{title}\n{context}\n{body}", category)
    if category is None and product is not None:
        category = vocabulary.products.get(product) or None
    own = set(vocabulary.category_words.get(category or "", ()))
    return Guess(category, product, tuple(w for w, _ in matched.most_common() if w in own))


def _guess_product(vocabulary: Vocabulary, text: str, category: str | None) -> str | None:
    lowered = text.lower()
    counts = words(text)
    best: tuple[tuple[int, int, int], str] | None = None
    for name, product_category in vocabulary.products.items():
        full = lowered.count(name.lower())
        partial = sum(counts[w] for w in vocabulary.product_words.get(name, ()))
        if not full and not partial:
            continue
        key = (int(product_category == category), full, partial)
        if best is None or key > best[0]:
            best = (key, name)
    return best[1] if best else None


def tags_of(labels: Iterable[str], matched: Iterable[str]) -> tuple[list[str], bool]:
    """(tags, guessed): the source's labels as tags, else the matched category words, else ``imported``."""
    tags = [t for t in (_TAG_CHARS.sub("-", label.lower()).strip("-") for label in labels) if t]
    if tags:
        return list(dict.fromkeys(tags))[:MAX_TAGS], False
    return (list(matched)[:MAX_TAGS] or ["imported"]), True
