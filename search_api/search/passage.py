"""The passage of an article that answers the customer's question.

A search hit names an article and the section that matched best; what helps a
customer in the chat is the few lines that solve the problem: the steps of the
matching how-to, kept whole (a step is shortened to its lead sentence when the
list is too long, never cut in the middle), the table row of the error code that
was asked about (with the column headers), and not "When to contact support" or
"Symptoms" when a solution section matches almost as well.

It runs for every hit of every request, so it uses no model: each section is
scored by the query's stemmed tokens it contains (``search.lexical.tokenize``;
weighted by how rare the token is among the article's sections, code-like
tokens such as ``OFF-5015`` or ``smtp.example.net`` weigh triple), plus a bonus
for the section the dense search matched. A section's stems are stored with its
search unit when the index is built (``section_terms``): tokenizing a hit's whole
article was most of a search's time the first time an article was hit. The
passage comes back as a sanitised markdown subset (lists, bold, code, links; raw
HTML never passes) and as plain text.

Token sets are dicts of their tokens (``Tokens``), not frozensets: a dict that holds
only strings is not tracked by Python's garbage collector, a set always is, and the
caches of a large KB (an article's section tokens, kept per article version) made
each generation-1 collection traverse thousands of sets: pauses of 10-17 ms, a good
part of the search's p99 at 100k sections (docs/search.md, "The index").
"""

from __future__ import annotations

import bisect
import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import TYPE_CHECKING

import nh3
import numpy as np

from search_api.kb.articles import (
    AUTOLINK,
    CODE_SPAN,
    FENCE,
    TABLE_RULE,
    Article,
    Section,
    inline_plain,
    table_cells,
)
from search_api.search.lexical import tokenize

if TYPE_CHECKING:
    from search_api.search.index import LanguageIndex
    from search_api.search.service import Hit, SearchResult, SearchService

MAX_CHARS = 700  # plain-text budget of a passage
MAX_STEPS = 8
# A step list is what the customer follows: it comes back with every step's content (sub-items,
# links, code) up to this many characters; only a longer one shortens its least relevant steps
# to their lead. A step's bold title alone ("Check the cables.") does not tell how.
STEP_LIST_CHARS = 2000
LIST_SLACK = 1.25  # a step list up to 1.25 x the budget comes back whole
LEAD_CHARS = 120  # a shortened step: its bold lead or first sentence, at most this long
CODE_WEIGHT = 3.0  # exact terms (codes, host names, ports) decide which section answers
# Words of the article's title say which article answers, not which of its sections:
# they count less (else "WLAN bricht ständig ab" picks whichever section repeats the title).
TITLE_WORD_WEIGHT = 0.5
HEADING_WEIGHT = 2.0  # a token in the heading counts twice (a section is about its heading)
PREFIX_MATCH = 0.7  # "Postausgangsserver" found as "Postausgang": counts 0.7
MIN_PREFIX = 5  # shortest word that may stand for a compound it starts
DENSE_WEIGHT = 0.3  # dense similarity of a section, scaled to 0-1 within the article
DENSE_BONUS = 0.2  # without similarities: the section the search linked
STEPS_BONUS = 0.05  # between equals, the how-to (a numbered list) wins
# The lead, "Symptoms", "What you need" and "When to contact support" describe the problem,
# the preparation or the next step, not the solution: shown only when they match clearly
# better than every other section.
NON_SOLUTION_MARGIN = 0.35
NON_SOLUTION_HEADINGS = re.compile(
    r"support|contact|kontakt|symptom|what you need|was sie brauchen|before you start|bevor sie", re.I
)
SUPPORT_HEADINGS = re.compile(r"support|contact|kontakt", re.I)
# A customer who asks what to have ready, what proof is needed or whether a replacement comes
# asks for the "When to contact support" section: for them it is the answer, not the next step.
ASKS_FOR_SUPPORT = re.compile(
    r"\b(?:what (?:do|would|will) you need|need from me|what (?:info|information|details|proof|evidence)"
    r"|have ready|contact you|call you|replacement|send (?:me )?a new one"
    r"|was (?:braucht|brauchen) (?:ihr|sie)|was muss ich (?:angeben|bereithalten|mitschicken)"
    r"|welche (?:angaben|infos|informationen|unterlagen|nachweise)|nachweis|bereithalten|bereit halten"
    r"|wenn ich mich (?:bei euch |bei ihnen )?melde|einschicken|austauschen|ersatzger)",
    re.I,
)
SUPPORT_ASKED_BONUS = 0.2

_LIST_ITEM = re.compile(r"^( {0,3})(\d{1,9}[.)]|[-+*])\s+(.*)$")
_NUMBERED_LINE = re.compile(r"^ {0,3}\d{1,9}[.)]\s", re.M)
_BOLD_LEAD = re.compile(r"^\s*(\*\*|__)(.+?)\1")
_SENTENCE_END = re.compile(r"(\S*)[.!?](?=\s+\S)")
# "z. B.", "e.g.", "ca.", "3." (German ordinal): a period that does not end a sentence
_ABBREVIATION = re.compile(r"^(?:\w|\d+|[A-Za-z]\.[A-Za-z]|bzw|ca|ggf|usw|vgl|inkl|etc|max|min|nr|evtl|Nr|Str)$")
_MD_LINK = re.compile(r"(!?)\[([^\]]*)\]\(\s*((?:[^()\s]|\([^()\s]*\))*)(?:\s+\"[^\"]*\")?\s*\)")
_SAFE_URL = re.compile(r"^(?:https?://|mailto:)[^\s<>\"]+$", re.I)
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_EXACT = re.compile(r"[\d.@]")
_JOINED = re.compile(r"[-_/:]")
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")

Tokens = dict[str, None]  # a set of tokens the garbage collector does not track (module docstring)


def _token_set(tokens: Iterable[str]) -> Tokens:
    return dict.fromkeys(tokens)


@dataclass(frozen=True)
class Passage:
    """What a hit shows as its answer. ``markdown``: lists, bold, code, links, no HTML."""

    markdown: str
    text: str
    section: str | None  # heading of the section it comes from; None = the article's lead
    anchor: str | None


def answer_passage(
    article: Article,
    query: str,
    matched_section: Section | None,
    lang: str,
    section_scores: Mapping[int, float] | None = None,
    stored_terms: Mapping[int, tuple[str, str]] | None = None,
) -> Passage:
    """The passage of ``article`` that answers ``query``.

    ``matched_section``: the section the search linked (its lead when the title or an
    example question matched). ``section_scores``: optional dense similarity of the
    query to each section (index into ``article.sections``), from vectors the search
    already has (``section_similarities``); it replaces the ``matched_section`` hint.
    ``lang`` picks the stemmer and stop words. ``stored_terms``: the index's
    ``section_terms`` per section (``stored_section_terms``), else the article is tokenized.
    """
    terms = _article_terms(article, lang, stored_terms)
    if not terms.sections:
        return Passage("", "", None, None)
    weights, total = _query_weights(query, lang, terms)
    asks_support = ASKS_FOR_SUPPORT.search(query) is not None
    section = _choose_section(terms, weights, total, matched_section, section_scores, asks_support)
    blocks = _parse_blocks(section.markdown)
    relevance = _Relevance(weights, lang)
    rows = _matching_rows(blocks, relevance)
    parts = rows if rows else _fit(blocks, relevance)
    markdown = "\n\n".join(md for md, _ in parts).strip()
    text = "\n".join(txt for _, txt in parts).strip()
    return Passage(markdown, text, section.heading, section.anchor)


def hit_passage(service: SearchService | None, result: SearchResult, hit: Hit) -> Passage:
    """The answer passage of one hit of ``result``: what ``POST /search`` returns as the hit's
    ``answer`` and the bot shows, and what the agent's workspace inserts."""
    lindex = service.index.languages.get(result.lang) if service is not None else None
    scores = (
        section_similarities(lindex, hit.article.id, result.query_vector)
        if lindex is not None and result.query_vector is not None
        else None
    )
    stored = stored_section_terms(lindex, hit.article.id) if lindex is not None else None
    return answer_passage(hit.article, result.searched or result.query, hit.section, hit.article.lang, scores, stored)


def section_similarities(language_index: LanguageIndex, article_id: str, query_vector: np.ndarray) -> dict[int, float]:
    """Dense similarity of the query to each section of an article: its section units'
    stored vectors times the query vector the search already encoded (no model call)."""
    start, end = language_index.article_rows.get(article_id, (0, 0))
    if end <= start:
        return {}
    scores = language_index.vectors[start:end] @ query_vector
    return {
        unit.section: float(score)
        for unit, score in zip(language_index.units[start:end], scores, strict=True)
        if unit.kind == "section"
    }


def section_terms(section: Section, lang: str) -> tuple[str, str]:
    """The stemmed words of a section's heading and of its body, space-separated, as the
    index stores them with the section's search unit."""
    return (
        " ".join(sorted(_tokens_of(section.heading or "", lang))),
        " ".join(sorted(_tokens_of(section.plain_text, lang))),
    )


def stored_section_terms(language_index: LanguageIndex, article_id: str) -> dict[int, tuple[str, str]]:
    """``section_terms`` of each section of an article, from its units in the index."""
    start, end = language_index.article_rows.get(article_id, (0, 0))
    return {
        unit.section: (unit.heading_terms, unit.body_terms or "")
        for unit in language_index.units[start:end]
        if unit.kind == "section" and unit.heading_terms is not None
    }


# ------------------------------------------------------------------ choosing the section


@dataclass(frozen=True)
class _Terms:
    """An article's non-empty sections and their tokens, computed once per article version."""

    sections: tuple[Section, ...]
    positions: tuple[int, ...]  # index of each in article.sections
    headings: tuple[Tokens, ...]
    bodies: tuple[Tokens, ...]
    vocabulary: Tokens
    title: Tokens
    sorted_vocabulary: tuple[str, ...]  # for the compounds that start with a query word (bisect)
    steps: tuple[bool, ...]  # the section has a numbered list (how-to steps)
    solution: tuple[bool, ...]  # a solution section: not the lead, symptoms or support
    support: tuple[bool, ...]  # a "When to contact support" section


_TERMS: dict[tuple[str, str, str], _Terms] = {}
_TERMS_MAX = 50_000


def _article_terms(article: Article, lang: str, stored: Mapping[int, tuple[str, str]] | None = None) -> _Terms:
    key = (article.id, article.content_hash, lang)
    terms = _TERMS.get(key)
    if terms is None:
        if len(_TERMS) >= _TERMS_MAX:
            _TERMS.clear()
        pairs = [(i, s) for i, s in enumerate(article.sections) if s.markdown.strip()]
        if stored is not None and all(i in stored for i, _ in pairs):
            headings = tuple(_token_set(stored[i][0].split()) for i, _ in pairs)
            bodies = tuple(_token_set(stored[i][1].split()) for i, _ in pairs)
        else:
            headings = tuple(_tokens_of(s.heading or "", lang) for _, s in pairs)
            bodies = tuple(_tokens_of(s.plain_text, lang) for _, s in pairs)
        vocabulary = _token_set(chain(*headings, *bodies))
        terms = _Terms(
            tuple(s for _, s in pairs),
            tuple(i for i, _ in pairs),
            headings,
            bodies,
            vocabulary,
            _tokens_of(article.title, lang),
            tuple(sorted(vocabulary)),
            tuple(_has_steps(s.markdown) for _, s in pairs),
            tuple(s.heading is not None and not NON_SOLUTION_HEADINGS.search(s.heading) for _, s in pairs),
            tuple(s.heading is not None and SUPPORT_HEADINGS.search(s.heading) is not None for _, s in pairs),
        )
        _TERMS[key] = terms
    return terms


def _sections_with(tokens: Iterable[str], token_sets: tuple[Tokens, ...]) -> int:
    """Bit i set when section i holds one of ``tokens``: a query's few tokens are tested
    once per section here instead of once per section and per key in the scoring loop."""
    found = 0
    for i, section_tokens in enumerate(token_sets):
        if not section_tokens.keys().isdisjoint(tokens):
            found |= 1 << i
    return found


@lru_cache(maxsize=16384)
def _tokens_of(text: str, lang: str) -> Tokens:
    return _token_set(t for t in tokenize(text, lang) if not _is_compound_word(t))


def _is_exact_term(token: str) -> bool:
    """A code, host name, version or port: ``off-5015``, ``smtp.example.net``, ``993``."""
    return bool(_EXACT.search(token)) and not (token.isdigit() and len(token) < 2)


@lru_cache(maxsize=262144)
def _is_compound_word(token: str) -> bool:
    """``info-led``, ``e-mail``: hyphenated words count through their parts, which tokenize also yields."""
    return _JOINED.search(token) is not None and not _EXACT.search(token)


def _query_weights(query: str, lang: str, terms: _Terms) -> tuple[dict[tuple[str, ...], float], float]:
    """Each query token the article uses (with the article's tokens it stands for: itself,
    and for words a compound that starts with it or the word it starts with) -> weight:
    rare among the article's sections = high; codes weigh ``CODE_WEIGHT`` times, words of
    the title ``TITLE_WORD_WEIGHT`` times. Also the total the scores are divided by, in
    which title words count fully: a section matched only by title words scores low."""
    weights, total = {}, 0.0
    for token in _tokens_of(query, lang):
        variants = _variants(token, terms)
        if not variants:
            continue
        df = (_sections_with(variants, terms.headings) | _sections_with(variants, terms.bodies)).bit_count()
        idf = math.log(1 + len(terms.sections) / df)
        if _is_exact_term(token):
            idf *= CODE_WEIGHT
        total += idf
        if token in terms.title and not _is_exact_term(token):
            idf *= TITLE_WORD_WEIGHT
        weights[(token,) + tuple(sorted(variants - {token}))] = idf
    return weights, total


def _variants(token: str, terms: _Terms) -> frozenset[str]:
    found = {token} if token in terms.vocabulary else set()
    if not _is_exact_term(token) and len(token) >= MIN_PREFIX:
        words = terms.sorted_vocabulary
        i = bisect.bisect_right(words, token)
        while i < len(words) and words[i].startswith(token):
            found.add(words[i])
            i += 1
        found.update(token[:k] for k in range(MIN_PREFIX, len(token)) if token[:k] in terms.vocabulary)
    return frozenset(found)


def _match(key: tuple[str, ...], tokens: Tokens) -> float:
    """1 if the query token itself occurs, ``PREFIX_MATCH`` if only a compound variant does."""
    if key[0] in tokens:
        return 1.0
    return PREFIX_MATCH if any(t in tokens for t in key[1:]) else 0.0


def _choose_section(
    terms: _Terms,
    weights: dict[tuple[str, ...], float],
    total: float,
    matched: Section | None,
    section_scores: Mapping[int, float] | None,
    asks_support: bool = False,
) -> Section:
    total = total or 1.0
    dense = _dense_bonus(terms, matched, section_scores)
    best: dict[str, tuple[float, float, Section]] = {}
    # per query token: sections holding it itself, and sections holding only a variant
    bits = [
        (
            key,
            _sections_with(key[:1], terms.bodies),
            _sections_with(key[1:], terms.bodies),
            _sections_with(key[:1], terms.headings),
            _sections_with(key[1:], terms.headings),
        )
        for key in weights
    ]
    for i, section in enumerate(terms.sections):
        bit = 1 << i
        matches = {
            key: max(
                1.0 if body & bit else PREFIX_MATCH if body_variant & bit else 0.0,
                HEADING_WEIGHT * (1.0 if head & bit else PREFIX_MATCH if head_variant & bit else 0.0),
            )
            for key, body, body_variant, head, head_variant in bits
        }
        words = sum(weights[key] * m for key, m in matches.items()) / total
        score = words + dense[i]
        if terms.steps[i]:
            score += STEPS_BONUS
        # The lead introduces the article, symptoms describe the problem, support names the
        # next step: none is the solution. They win only when clearly better than every section,
        # and only on a word of the question that is not the title's: "WLAN bricht ständig ab"
        # matches the support section's "bricht das WLAN ... ab", which is the article's subject
        # retold, not a sign that the customer asks when to call. Nor is being closest in the
        # dense space: a customer's problem description is closest to the article's ("Internet
        # geht nicht, rote Lampe am Router" to the lead "Leuchtet die Internet-LED ... rot"),
        # so against a solution section they compete on words alone.
        solution = terms.solution[i] or (asks_support and terms.support[i])
        if asks_support and terms.support[i]:
            score += SUPPORT_ASKED_BONUS
        if not solution and not any(
            m and (key[0] not in terms.title or _is_exact_term(key[0])) for key, m in matches.items()
        ):
            score -= NON_SOLUTION_MARGIN
        against_solutions = score if solution else score - dense[i]
        group = "solution" if solution else "other"
        if group not in best or score > best[group][0]:
            best[group] = (score, against_solutions, section)
    if "solution" in best and ("other" not in best or best["other"][1] <= best["solution"][0] + NON_SOLUTION_MARGIN):
        return best["solution"][2]
    return best["other"][2]


def _dense_bonus(terms: _Terms, matched: Section | None, section_scores: Mapping[int, float] | None) -> list[float]:
    """Per section: ``DENSE_WEIGHT`` x its dense similarity scaled to 0-1 within the article,
    or ``DENSE_BONUS`` for the matched section when no similarities are given."""
    if section_scores:
        values = [section_scores.get(p) for p in terms.positions]
        known = [v for v in values if v is not None]
        if len(known) > 1 and max(known) > min(known):
            low, high = min(known), max(known)
            return [0.0 if v is None else DENSE_WEIGHT * (v - low) / (high - low) for v in values]
    return [
        DENSE_BONUS if matched is not None and s == matched and s.heading is not None else 0.0 for s in terms.sections
    ]


def _has_steps(markdown: str) -> bool:
    # most sections have no numbered line at all: no need to parse them (once per article version, _Terms)
    return _NUMBERED_LINE.search(markdown) is not None and any(
        b.kind == "list" and b.ordered for b in _parse_blocks(markdown)
    )


# ------------------------------------------------------------------ section structure


@dataclass(frozen=True, eq=False)  # identity hash: parsed once per section text, then cached
class _Item:
    marker: str  # "3." or "-"
    text: str  # the item's first line, inline markdown
    children: tuple[_Block, ...]


@dataclass(frozen=True, eq=False)
class _Block:
    kind: str  # "para" | "list" | "table" | "code"
    lines: tuple[str, ...] = ()  # para: its lines; code: with its fences; table: its rows
    items: tuple[_Item, ...] = ()
    ordered: bool = False


@lru_cache(maxsize=16384)
def _parse_blocks(markdown: str) -> tuple[_Block, ...]:
    """Paragraphs, (nested) lists, tables and fenced code of a section."""
    lines = markdown.splitlines()
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif FENCE.match(line):
            end = i + 1
            while end < len(lines) and not FENCE.match(lines[end]):
                end += 1
            blocks.append(_Block("code", tuple(lines[i : end + 1])))
            i = end + 1
        elif _LIST_ITEM.match(line):
            block, i = _parse_list(lines, i)
            blocks.append(block)
        elif line.lstrip().startswith("|") and i + 1 < len(lines) and TABLE_RULE.match(lines[i + 1]):
            end = i + 2
            while end < len(lines) and lines[end].lstrip().startswith("|"):
                end += 1
            blocks.append(_Block("table", (lines[i],) + tuple(lines[i + 2 : end])))
            i = end
        else:
            end = i
            while (
                end < len(lines)
                and lines[end].strip()
                and not (FENCE.match(lines[end]) or (end > i and _LIST_ITEM.match(lines[end])))
            ):
                end += 1
            blocks.append(_Block("para", tuple(lines[i:end])))
            i = end
    return tuple(blocks)


def _parse_list(lines: list[str], i: int) -> tuple[_Block, int]:
    first = _LIST_ITEM.match(lines[i])
    assert first is not None  # the caller saw a list item here
    ordered = first.group(2)[0].isdigit()
    items = []
    while i < len(lines):
        match = _LIST_ITEM.match(lines[i])
        if not match or match.group(2)[0].isdigit() != ordered:
            break
        indent = len(match.group(1)) + len(match.group(2)) + 1
        marker = match.group(2).rstrip(")").rstrip(".") + "." if ordered else "-"
        text, in_fence = match.group(3), False
        body: list[str] = []
        i += 1
        while i < len(lines):
            line = lines[i]
            if FENCE.match(line):
                in_fence = not in_fence
            elif not in_fence and line.strip() and len(line) - len(line.lstrip()) < 2:
                if _LIST_ITEM.match(line) or (body and not body[-1].strip()):
                    break
                if not body:  # a lazy continuation of the item's first line
                    text += " " + line.strip()
                    i += 1
                    continue
            body.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
            i += 1
        while body and not body[-1].strip():
            body.pop()
        items.append(_Item(marker, text, _parse_blocks("\n".join(body))))
        if i < len(lines) and not lines[i].strip():
            i += 1
    return _Block("list", items=tuple(items), ordered=ordered), i


# ------------------------------------------------------------------ fitting the passage


class _Relevance:
    """How much of the query a piece of a section holds (the weights of the section choice)."""

    def __init__(self, weights: dict[tuple[str, ...], float], lang: str):
        self.weights, self.lang = weights, lang
        # Codes and host names pick table rows and sub-items; a bare number is too weak for that.
        self.exact = {key[0] for key in weights if _is_exact_term(key[0]) and not key[0].isdigit()}

    def of(self, markdown: str) -> float:
        tokens = _tokens_of(markdown_plain_line(markdown), self.lang)
        return sum(w * _match(key, tokens) for key, w in self.weights.items())

    def has_exact(self, markdown: str) -> bool:
        return bool(self.exact) and not self.exact.isdisjoint(_tokens_of(markdown_plain_line(markdown), self.lang))


@lru_cache(maxsize=65536)
def markdown_plain_line(markdown: str) -> str:
    return inline_plain(markdown.replace("\n", " "))


_plain = lru_cache(maxsize=65536)(inline_plain)


def _matching_rows(blocks: tuple[_Block, ...], relevance: _Relevance) -> list[tuple[str, str]]:
    """For a code lookup: the table rows that hold a code of the query, with the header."""
    parts = []
    for block in blocks:
        if block.kind != "table":
            continue
        header = table_cells(block.lines[0])
        for row in block.lines[1:]:
            if relevance.has_exact(row):
                parts.append(_render_row(header, table_cells(row)))
    return parts


def _render_row(header: list[str], cells: list[str]) -> tuple[str, str]:
    md, txt = [], []
    for name, cell in zip(header, cells, strict=False):
        label = _plain(name) or "–"
        md.append(f"- **{_safe_inline(label)}:** {_safe_inline(cell)}")
        txt.append(f"{label}: {_plain(cell)}")
    return "\n".join(md), "\n".join(txt)


def _fit(blocks: tuple[_Block, ...], relevance: _Relevance) -> list[tuple[str, str]]:
    """The section's blocks within the budget: lists keep their most relevant steps whole
    and shorten the others to their lead; paragraphs stop at a sentence end."""
    parts: list[tuple[str, str]] = []
    used = 0
    for block in blocks:
        left = MAX_CHARS - used
        if left <= 0:
            break
        if block.kind == "list":
            # A code of the query in the list (SYNC-409 in a sub-item): that step, focused, in
            # the plain budget; otherwise the how-to whole (STEP_LIST_CHARS).
            looked_up = relevance.has_exact("\n".join(_block_source(block)))
            md, txt = _fit_list(block, relevance, left if looked_up else max(left, STEP_LIST_CHARS - used))
        elif block.kind == "table":
            md, txt = _render_table(block, left)
        elif block.kind == "code":
            md, txt = _render_code(block)
            if len(txt) > left:
                continue
        else:
            md, txt = _render_para(block, left)
        if txt:
            parts.append((md, txt))
            used += len(txt)
    return parts


def _fit_list(block: _Block, relevance: _Relevance, budget: int) -> tuple[str, str]:
    items = list(block.items)
    if len(items) > MAX_STEPS:  # the window of MAX_STEPS steps around the most relevant one
        best = max(range(len(items)), key=lambda k: (relevance.of(_item_markdown(items[k])), -k))
        start = min(max(0, best - MAX_STEPS // 2), len(items) - MAX_STEPS)
        items = items[start : start + MAX_STEPS]
    full = [_render_whole(item) for item in items]
    if sum(len(t) for _, t in full) <= budget * LIST_SLACK:
        chosen = full
    else:
        short = [_render_lead(item) for item in items]
        chosen = list(short)
        used = sum(len(t) for _, t in short)
        order = sorted(range(len(items)), key=lambda k: (-relevance.of(_item_markdown(items[k])), k))
        for k in order:  # most relevant steps first, each whole or not at all
            for candidate in (full[k], _render_item(items[k], relevance, shorten_children=True)):
                extra = len(candidate[1]) - len(chosen[k][1])
                if used + extra <= budget:
                    chosen[k] = candidate
                    used += extra
                    break
    return "\n".join(md for md, _ in chosen), "\n".join(t for _, t in chosen)


@lru_cache(maxsize=65536)
def _item_markdown(item: _Item) -> str:
    return "\n".join([item.text] + [line for child in item.children for line in _block_source(child)])


def _block_source(block: _Block) -> list[str]:
    if block.kind == "list":
        return [line for item in block.items for line in _item_markdown(item).splitlines()]
    return list(block.lines)


@lru_cache(maxsize=65536)
def _render_whole(item: _Item) -> tuple[str, str]:
    return _render_item(item, None, shorten_children=False)


def _render_item(item: _Item, relevance: _Relevance | None, shorten_children: bool) -> tuple[str, str]:
    """An item whole; with ``shorten_children`` its sub-items that hold a code of the query
    (or all of them when none does)."""
    md_lines = [f"{item.marker} {_safe_inline(item.text)}"]
    txt_lines = [f"{item.marker} {_plain(item.text)}"]
    pad = " " * (len(item.marker) + 1)
    for child in item.children:
        if child.kind == "list":
            sub = list(child.items)
            if shorten_children and relevance and any(relevance.has_exact(_item_markdown(s)) for s in sub):
                sub = [s for s in sub if relevance.has_exact(_item_markdown(s))]
            rendered = [_render_item(s, relevance, True) if shorten_children else _render_whole(s) for s in sub]
            md = "\n".join(m for m, _ in rendered)
            txt = "\n".join(t for _, t in rendered)
        elif child.kind == "code":
            md, txt = _render_code(child)
        elif child.kind == "table":
            md, txt = _render_table(child, MAX_CHARS)
        else:
            md, txt = _render_para(child, MAX_CHARS)
        md_lines += [pad + line if line else "" for line in md.splitlines()]
        txt_lines += [pad + line for line in txt.splitlines()]
    return "\n".join(md_lines), "\n".join(txt_lines)


@lru_cache(maxsize=65536)
def _render_lead(item: _Item) -> tuple[str, str]:
    """A step shortened to its bold lead (``**Restart the router.**``) or first sentence."""
    bold = _BOLD_LEAD.match(item.text)
    if bold:
        lead_md = item.text[: bold.end()]
    else:
        lead_md = _first_sentence(item.text)
    lead_txt = _plain(lead_md)
    if len(lead_txt) > LEAD_CHARS:
        lead_txt = _cut(lead_txt, LEAD_CHARS)
        lead_md = lead_txt
    return f"{item.marker} {_safe_inline(lead_md)}", f"{item.marker} {lead_txt}"


@lru_cache(maxsize=65536)
def _first_sentence(text: str) -> str:
    for match in _SENTENCE_END.finditer(text):
        if not _ABBREVIATION.match(match.group(1).lstrip('("„*')):
            return text[: match.end()]
    return text


@lru_cache(maxsize=65536)
def _render_para(block: _Block, budget: int) -> tuple[str, str]:
    md = " ".join(line.strip() for line in block.lines)
    txt = _plain(md)
    if len(txt) <= budget:
        return _safe_inline(md), txt
    cut = _cut(txt, budget)
    return _safe_inline(cut), cut  # a shortened paragraph is shown as plain words


@lru_cache(maxsize=16384)
def _render_table(block: _Block, budget: int) -> tuple[str, str]:
    """A whole table as a list, one row per item: first cell in bold, then the others."""
    md, txt, used = [], [], 0
    for row in block.lines[1:]:
        cells = [c for c in table_cells(row)]
        plain = " – ".join(_plain(c) for c in cells if c)
        if used + len(plain) > budget:
            break
        first, rest = cells[0], [c for c in cells[1:] if c]
        md.append(f"- **{_safe_inline(_plain(first))}** – " + " – ".join(_safe_inline(c) for c in rest))
        txt.append(f"- {plain}")
        used += len(plain)
    return "\n".join(md), "\n".join(txt)


@lru_cache(maxsize=16384)
def _render_code(block: _Block) -> tuple[str, str]:
    """Fenced code stays code: a markdown renderer escapes it, the chat shows it as text."""
    body = [line for line in block.lines[1:] if not FENCE.match(line)]
    fence = block.lines[0].strip()[:3]
    language = re.sub(r"[^\w+-]", "", block.lines[0].strip()[3:])
    md = "\n".join([fence + language] + body + [fence])
    return md, "\n".join(line.rstrip() for line in body)


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending at a sentence end, else a word, then "…"."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    sentence = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    if sentence > limit // 2:
        return head[: sentence + 1]
    return head.rsplit(" ", 1)[0].rstrip(",;:–-") + " …"


# ------------------------------------------------------------------ sanitising


@lru_cache(maxsize=65536)
def _safe_inline(markdown: str) -> str:
    """Inline markdown limited to bold, italics, code and http(s)/mailto links.

    Raw HTML is removed by nh3 (``<script>`` and ``<style>`` with their content);
    text that would still open a tag (an escaped ``&lt;b&gt;`` in the article) is
    written as ``&lt;`` (every markdown renderer shows it as "<"); code spans pass
    unchanged, a renderer shows them as text.
    """
    markdown = markdown.replace("\ue000", "").replace("\ue001", "")
    codes: list[str] = []

    def keep(text: str) -> str:
        codes.append(text)
        return f"\ue000{len(codes) - 1}\ue001"

    markdown = CODE_SPAN.sub(lambda m: keep(m.group(0)), markdown)

    def link(match: re.Match[str]) -> str:
        image, label, url = match.groups()
        if image or not _SAFE_URL.match(url):
            return label
        return keep(f"[{_strip_html(label)}]({url})")

    markdown = _MD_LINK.sub(link, markdown)
    markdown = AUTOLINK.sub(lambda m: m.group(1) if _SAFE_URL.match(m.group(1)) else "", markdown)
    markdown = _strip_html(markdown)
    return _PLACEHOLDER.sub(lambda m: codes[int(m.group(1))], markdown)


def _strip_html(text: str) -> str:
    cleaned = html.unescape(nh3.clean(text, tags=set(), clean_content_tags={"script", "style"}))
    return _TAG_START.sub("&lt;", cleaned)
