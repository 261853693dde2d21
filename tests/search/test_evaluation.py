"""``helpdesk eval`` on a small fixture set, through the real build and search path."""

import json
from pathlib import Path

from helpdesk.cli import main
from search_api.evaluation import names_exact_term

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "evalset"


def test_eval_prints_metrics(tmp_path, capsys):
    assert main(["eval", str(FIXTURE), "--work", str(tmp_path), "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["queries_in_scope"] == 4 and report["queries_out_of_scope"] == 2
    assert report["r@1"] == 1.0 and report["mrr"] == 1.0
    assert report["in_scope_answered"] == 1.0
    assert report["out_of_scope_refused"] == 1.0
    assert report["auroc"] == 1.0
    assert report["exact_terms"] == {"queries": 1, "r@1": 1.0}  # "... error E-1234"
    assert (tmp_path / "articles" / "en" / "e-router.md").read_text().startswith("---\nid: e-router\n")
    assert "R@1 1.000" in report["text"] and "naming a code, port or host: 1, R@1 1.000" in report["text"]


def test_exact_terms_are_codes_ports_addresses_and_host_names():
    named = [
        "error OFF-5015",
        "Leitungstest zeigt LT-04",
        "imap.nordwind-mail.example",
        "port 993",
        "192.168.178.1 geht nicht",
        "one-time fee of 69.95",
    ]
    unnamed = [
        "port 25",
        "nach 5 falschen Versuchen",
        "Internet-LED leuchtet rot",
        "e-mail geht nicht",
        "z.B. heute",
        "mein WLAN ist langsam",
    ]
    assert [q for q in named if not names_exact_term(q)] == [] and [q for q in unnamed if names_exact_term(q)] == []
