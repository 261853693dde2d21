"""``helpdesk eval`` on a small fixture set, through the real build and search path."""

import json
from pathlib import Path

from helpdesk.cli import main

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "evalset"


def test_eval_prints_metrics(tmp_path, capsys):
    assert main(["eval", str(FIXTURE), "--work", str(tmp_path), "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["queries_in_scope"] == 3 and report["queries_out_of_scope"] == 2
    assert report["r@1"] == 1.0 and report["mrr"] == 1.0
    assert report["in_scope_answered"] == 1.0
    assert report["out_of_scope_refused"] == 1.0
    assert report["auroc"] == 1.0
    assert (tmp_path / "articles" / "en" / "e-router.md").read_text().startswith("---\nid: e-router\n")
    assert "R@1 1.000" in report["text"]
