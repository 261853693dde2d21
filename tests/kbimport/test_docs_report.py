"""The example run of docs/importing.md is a real run: the same inputs, built here, imported by the same
command against the starter KB; its report must be the text the guide shows, line for line.

The inputs: a Zendesk export (an article, a draft the import skips, and a German article the starter
KB already has, rendered to HTML as a help centre would), a PDF manual of two chapters with a table,
and a folder of saved pages with a file no reader knows. ``UPDATE_DOCS=1`` writes the run's report
into the guide instead of comparing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import frontmatter
import markdown

from helpdesk.cli import main
from tests.conftest import STARTER_KB
from tests.kbimport.documents import write_pdf

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "importing.md"
COMMAND = ".venv/py311/bin/helpdesk import zendesk-articles.json manuals/box-7.pdf saved-pages/"
BLOCK = re.compile(r"(```text\n\$ " + re.escape(COMMAND) + r"\n)(.*?)(```)", re.S)


def write_inputs(folder: Path) -> None:
    known = frontmatter.load(STARTER_KB / "de" / "router-kein-internet.md")
    export = {
        "articles": [
            {
                "id": 360001,
                "title": "How do I restart my Nordwind Box?",
                "body": "<p>A restart fixes most connection problems of the router.</p><ol><li>Unplug the power "
                "cable.</li><li>Wait thirty seconds.</li><li>Plug it in again and wait until the Power LED is "
                "green.</li></ol>",
                "locale": "en-us",
                "html_url": "https://help.nordwind.example/hc/en-us/articles/360001",
                "updated_at": "2026-10-14T09:00:00Z",
                "label_names": ["router", "restart"],
                "section_id": 1,
                "draft": False,
            },
            {
                "id": 360002,
                "title": str(known["title"]),
                "body": markdown.markdown(known.content),
                "locale": "de",
                "html_url": "https://help.nordwind.example/hc/de/articles/360002",
                "updated_at": "2026-09-30T12:00:00Z",
                "label_names": ["internet", "router"],
                "section_id": 1,
                "draft": False,
            },
            {
                "id": 360003,
                "title": "New tariffs 2027",
                "body": "<p>Coming soon.</p>",
                "locale": "en-us",
                "html_url": "https://help.nordwind.example/hc/en-us/articles/360003",
                "section_id": 2,
                "draft": True,
            },
        ],
        "sections": [{"id": 1, "name": "Router & Wi-Fi"}, {"id": 2, "name": "Tariffs"}],
    }
    (folder / "zendesk-articles.json").write_text(json.dumps(export, indent=2, ensure_ascii=False), encoding="utf-8")
    (folder / "manuals").mkdir()
    write_pdf(
        folder / "manuals" / "box-7.pdf",
        [
            [
                (22, "Nordwind Box 7 – Handbuch"),
                (11, "Dieses Handbuch beschreibt die Leuchten und das WLAN der Nordwind Box 7."),
                (16, "1. Was bedeuten die LEDs?"),
                (11, "Die Leuchten an der Vorderseite zeigen den Zustand der Box:"),
                (-11, ("LED", "Zustand", "Was tun")),
                (11, ("Power", "blinkt grün", "Warten Sie zwei Minuten.")),
                (11, ("Internet", "leuchtet rot", "Prüfen Sie das DSL-Kabel.")),
                (11, ("WLAN", "aus", "Drücken Sie die WLAN-Taste.")),
                (16, "2. WLAN-Passwort ändern"),
                (11, "Wählen Sie ein Passwort mit mindestens zwölf Zeichen."),
                (11, "1. Öffnen Sie http://192.168.178.1 und wählen Sie WLAN, dann Sicherheit."),
                (11, "2. Geben Sie das neue Passwort ein und speichern Sie es."),
            ]
        ],
        title="Nordwind Box 7",
    )
    (folder / "saved-pages").mkdir()
    (folder / "saved-pages" / "tv-senderliste.html").write_text(
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Senderliste sortieren | Nordwind Hilfe'
        '</title><link rel="canonical" href="https://www.nordwind.example/hilfe/tv/senderliste"></head><body>'
        '<nav class="menu"><a href="/">Start</a></nav><main><h1>Senderliste der TV-Box sortieren</h1><p>Die '
        "Reihenfolge der Sender legen Sie in den Einstellungen fest.</p><h2>Wie verschiebe ich einen Sender?"
        "</h2><ol><li>Öffnen Sie Einstellungen, dann Senderliste.</li><li>Markieren Sie den Sender mit OK und "
        "verschieben Sie ihn mit den Pfeiltasten.</li></ol></main><footer>Impressum</footer></body></html>",
        encoding="utf-8",
    )
    (folder / "saved-pages" / "preisliste.odt").write_bytes(b"PK\x03\x04 an OpenDocument file")


def test_the_guides_example_run_is_what_the_import_prints(tmp_path, monkeypatch, capsys):
    write_inputs(tmp_path)
    (tmp_path / "kb").mkdir()
    shutil.copytree(STARTER_KB, tmp_path / "kb" / "articles")  # a project's folder: its KB and the inputs
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HELPDESK_SECRETS_FILE", "/nonexistent")
    monkeypatch.setenv("HELPDESK_ARTICLES_DIR", "kb/articles")
    monkeypatch.setenv("HELPDESK_DRAFTS_DIR", "kb/drafts")
    assert main(COMMAND.split()[1:]) == 0
    report = capsys.readouterr().out
    assert len(list((tmp_path / "kb" / "drafts").glob("*/*.md"))) == 5
    guide = GUIDE.read_text(encoding="utf-8")
    if os.environ.get("UPDATE_DOCS"):
        GUIDE.write_text(BLOCK.sub(lambda m: m[1] + report + m[3], guide), encoding="utf-8")
    found = BLOCK.search(guide)
    assert found, f"docs/importing.md has no ```text block of `$ {COMMAND}`"
    assert found[2] == report, "docs/importing.md shows another report: UPDATE_DOCS=1 writes this run's"
