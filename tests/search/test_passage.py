"""The answer passage on the real starter KB: steps kept whole, the table row of a code,
no support or symptoms section when a solution matches, clean text, sanitised markdown."""

import re
from pathlib import Path

import pytest

from search_api.kb.articles import load_articles, markdown_to_plain, parse_article
from search_api.kb.render import render_markdown
from search_api.search.passage import NON_SOLUTION_HEADINGS, STEP_LIST_CHARS, answer_passage

KB = Path(__file__).resolve().parents[2] / "kb" / "articles"
ARTICLES = {a.id: a for a in load_articles(KB, ("de", "en")).articles}
STEPS_HEADINGS = {"Steps", "So gehen Sie vor"}


def passage(article_id: str, query: str):
    article = ARTICLES[article_id]
    return answer_passage(article, query, None, article.lang)


def numbered(text: str) -> list[str]:
    return re.findall(r"^(\d+)\.", text, flags=re.M)


def test_how_to_keeps_every_step_and_the_matching_one_whole():
    p = passage("en-dns-issues", "how to flush the dns cache on a mac")
    assert p.section == "Steps" and p.anchor == "steps"
    assert numbered(p.text) == ["1", "2", "3", "4", "5", "6"]
    # the step asked about, with its sub-items and its code, exactly as written
    assert "4. **Clear the DNS cache on your computer.**\n   - Windows: open the Command Prompt" in p.markdown
    assert "`sudo dscacheutil -flushcache; sudo killall -HUP mDNSResponder`" in p.markdown
    # the others whole too: a step's bold title alone does not say how
    assert "1. Test another device. If the problem only occurs on one computer, skip to step 4.\n" in p.text
    assert len(p.text) <= STEP_LIST_CHARS


def test_the_first_steps_keep_their_content_links_included():
    p = passage("de-router-kein-internet", "internet geht nicht, lampe am router rot, schon neu gestartet")
    assert p.section == "So gehen Sie vor"
    assert "https://status.nordwind.example" in p.markdown  # step 1's link
    assert "graue DSL-Kabel" in p.text  # step 2's instructions, not only "Kabel prüfen."


def test_a_step_list_longer_than_the_budget_shortens_the_least_relevant_steps(tmp_path):
    steps = "\n".join(
        f"{i}. **Schritt {i} ausführen.** " + "Ein langer erklärender Satz zum Vorgehen. " * 12 for i in range(1, 7)
    )
    path = tmp_path / "de" / "lang.md"
    path.parent.mkdir()
    path.write_text(
        f"---\nid: de-lang\ntitle: Lange Anleitung\nlang: de\ntags: [test]\nupdated: 2026-01-01\n---\n"
        f"## So gehen Sie vor\n\n{steps}\n",
        encoding="utf-8",
    )
    article = parse_article(path, tmp_path)
    p = answer_passage(article, "wie gehe ich vor", None, "de")
    assert numbered(p.text) == ["1", "2", "3", "4", "5", "6"]
    assert "1. Schritt 1 ausführen. Ein langer" in p.text  # the first steps whole
    assert p.text.endswith("\n6. Schritt 6 ausführen.")  # the last shortened to its lead
    assert len(p.text) <= STEP_LIST_CHARS


def test_a_shortened_step_never_ends_inside_an_abbreviation():
    p = passage("de-passwort-zuruecksetzen", "Link zum Zurücksetzen ist abgelaufen, wie lange gilt der?")
    assert p.section == "So gehen Sie vor"
    assert "Link und Code sind 30 Minuten gültig." in p.text  # the step asked about, whole
    assert not re.search(r"\bz\.$|\bz\. B\.$", p.text, flags=re.M), p.text
    assert numbered(p.text) == ["1", "2", "3", "4", "5", "6"]


def test_short_step_list_comes_back_whole():
    article = ARTICLES["de-rechnung-herunterladen"]
    p = passage(article.id, "wie lade ich meine rechnung als pdf runter")
    assert p.section == "So gehen Sie vor"
    steps = next(s for s in article.sections if s.heading == "So gehen Sie vor")
    assert p.text == "\n".join(
        f"{i}. {line}"
        for i, line in enumerate((markdown_to_plain(line) for line in steps.markdown.splitlines()), start=1)
    )


@pytest.mark.parametrize(
    "article_id, query, heading, code, meaning",
    [
        (
            "en-office-error-codes",
            "error OFF-5015",
            "Files and saving (OFF-5xxx)",
            "OFF-5015",
            "File locked by another user",
        ),
        (
            "de-office-fehlercodes",
            "Fehler off-3022 was tun",
            "Start und Profil (OFF-3xxx)",
            "OFF-3022",
            "Add-in konnte nicht geladen werden",
        ),
    ],
)
def test_code_lookup_is_the_table_row_with_its_header(article_id, query, heading, code, meaning):
    p = passage(article_id, query)
    assert p.section == heading
    lines = p.markdown.splitlines()
    assert len(lines) == 3, p.markdown  # code, meaning, what to do: one row, no other codes
    assert lines[0] in (f"- **Code:** {code}",)
    assert lines[1] in (f"- **Meaning:** {meaning}", f"- **Bedeutung:** {meaning}")
    assert lines[2].startswith(("- **What to do:** ", "- **Lösung:** "))
    assert p.text.splitlines()[0] == f"Code: {code}"


def test_code_in_a_sub_item_keeps_that_sub_item_and_drops_the_other_codes():
    p = passage("en-sync-errors", "SYNC-409 what now")
    assert p.section == "Steps"
    assert "`SYNC-409` – conflict. The file was changed on two devices" in p.markdown
    assert "SYNC-507" not in p.markdown and "SYNC-401" not in p.markdown
    assert numbered(p.text) == ["1", "2", "3", "4", "5"]


def test_a_code_only_the_support_section_names_is_found_there():
    p = passage("en-shoptalk-shop-integrations", "INT-401 token rejected")
    assert p.section == "When to contact support"


@pytest.mark.parametrize(
    "article_id", sorted(a.id for a in ARTICLES.values() if any(s.heading in STEPS_HEADINGS for s in a.sections))
)
def test_title_question_never_gets_support_or_symptoms(article_id):
    """The title matches the symptoms and the support text as well as the steps: the steps win."""
    article = ARTICLES[article_id]
    p = answer_passage(article, article.title, article.sections[0], article.lang)
    assert p.section is None or not NON_SOLUTION_HEADINGS.search(p.section), p.section


def test_matching_symptom_words_still_give_the_steps():
    p = passage("en-router-no-internet", "internet LED is red and devices say connected, no internet")
    assert p.section == "Steps"


@pytest.mark.parametrize(
    ("article_id", "query"),
    [
        (
            "en-slow-internet-speed",
            "speed is far below my contract for weeks, I want a discount. what proof do you need?",
        ),
        ("de-internet-langsam", "seit wochen viel zu langsam, ich will eine minderung. was braucht ihr als nachweis?"),
        (
            "en-office-crash-on-start",
            "office still crashes after the repair. what do you need from me when I contact you?",
        ),
    ],
)
def test_asking_what_to_have_ready_gets_the_support_section(article_id, query):
    """For a customer asking what support needs, "When to contact support" is the answer."""
    assert NON_SOLUTION_HEADINGS.search(passage(article_id, query).section or "")


def test_the_preparation_does_not_answer_how_to_set_up():
    p = passage(
        "en-router-setup", "new router arrived today, never set one up. what do I plug where and what comes next?"
    )
    assert p.section == "Steps"


ARTEFACT = re.compile(r"\w \s*[,.;:!?)](?!\w)|\w -\w|\*\*|__|`|\|")
CODE = re.compile(r"(`+).+?\1")


def test_extracted_text_has_clean_spacing_everywhere():
    found = []
    for article in ARTICLES.values():
        for section in article.sections:
            # code spans are kept verbatim ("sudo killall -HUP", "\\ / : * ?"): judge the prose
            text = markdown_to_plain(CODE.sub("CODE", section.markdown))
            for match in ARTEFACT.finditer(text):
                found.append(f"{article.id}/{section.heading}: …{text[max(0, match.start() - 20) : match.end() + 10]}…")
    assert found == []


def test_spacing_artefacts_from_the_issue_are_gone():
    router = ARTICLES["de-router-kein-internet"]
    assert "Internet-LED" in router.sections[0].plain_text and "Internet -LED" not in router.sections[0].plain_text
    leds = ARTICLES["en-router-leds-explained"].sections[0].plain_text
    assert "Power, Internet, WLAN and Info" in leds
    assert markdown_to_plain("the `st_visitor` entry and user_old") == "the st_visitor entry and user_old"


def test_passage_text_is_clean():
    for article_id, query in [
        ("de-router-kein-internet", "Internet-LED rot"),
        ("en-router-leds-explained", "what do the LEDs mean"),
    ]:
        p = passage(article_id, query)
        assert not re.search(r"\w -\w|\w [,.;:]", p.text), p.text
        assert "**" not in p.text and "`" not in p.text


HOSTILE = """---
id: en-hostile
title: "Resetting the widget"
lang: en
tags: [test]
updated: 2026-11-01
---
Lead.

## Steps

1. **Open** the [dashboard](https://app.example.com/settings) <script>alert('x')</script>and click **Reset**.
2. Then <img src=x onerror="alert(1)"> press `Ctrl+R` <b onclick="steal()">now</b>.
3. Do not follow [this](javascript:alert(1)) or <a href="javascript:alert(2)">that</a>.
   <iframe src="https://evil.example"></iframe>
4. Type &lt;b&gt; &amp; wait.

## When to contact support

Contact us.
"""


def test_script_and_html_in_an_article_never_pass_through(tmp_path):
    path = tmp_path / "en" / "hostile.md"
    path.parent.mkdir()
    path.write_text(HOSTILE, encoding="utf-8")
    article = parse_article(path, tmp_path, ("de", "en"))
    p = answer_passage(article, "how do I reset the widget", None, "en")
    assert p.section == "Steps"
    for output in (p.markdown, p.text):
        lowered = output.lower()
        for bad in ("<script", "alert(", "onerror", "onclick", "<img", "<iframe", "javascript:", "<a ", "<b "):
            assert bad not in lowered, (bad, output)
    # the allowed subset survives: lists, bold, code, http(s) links
    assert "1. **Open** the [dashboard](https://app.example.com/settings) and click **Reset**." in p.markdown
    assert "`Ctrl+R`" in p.markdown and "now" in p.markdown
    assert "4. Type &lt;b> & wait." in p.markdown  # text that looks like a tag is escaped, never a tag
    assert "4. Type <b> & wait." in p.text  # plain text: the characters the author wrote
    html = render_markdown(p.markdown)
    assert set(re.findall(r"<(\w+)", html)) <= {"ol", "li", "strong", "a", "code", "p"}, html
    assert "&lt;b&gt;" in html


def test_passage_from_the_indexs_stored_words_equals_the_passage_from_tokenizing():
    """The index stores each section's stemmed words (section_terms); a passage built from them
    is the one built by tokenizing the article, for every starter article and its questions."""
    from search_api.search import passage as module
    from search_api.search.passage import section_terms

    compared = 0
    for article in ARTICLES.values():
        stored = {i: section_terms(s, article.lang) for i, s in enumerate(article.sections)}
        for query in [article.title, *article.questions]:
            module._TERMS.clear()
            tokenized = answer_passage(article, query, None, article.lang)
            module._TERMS.clear()
            assert answer_passage(article, query, None, article.lang, stored_terms=stored) == tokenized
            compared += 1
    assert compared > 100


def test_the_cached_token_sets_are_invisible_to_the_garbage_collector():
    """An article's token sets are cached per article version. As dicts of strings the collector
    does not track them; as frozensets each generation-1 collection walked thousands of them
    (10-17 ms pauses at 100k sections, docs/search.md, "The index")."""
    import gc

    from search_api.search import passage as module

    article = ARTICLES["en-office-error-codes"]
    module._TERMS.clear()
    answer_passage(article, "error OFF-5015", None, article.lang)
    (terms,) = module._TERMS.values()
    gc.collect()
    sets = (*terms.headings, *terms.bodies, terms.vocabulary, terms.title)
    assert len(sets) > 4 and not any(gc.is_tracked(tokens) for tokens in sets)
