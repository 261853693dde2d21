"""A PDF manual as a real producer writes it: an HTML manual printed to PDF by Chromium (Skia's PDF
backend, embedded subset fonts, one text run per cell), with a table whose last column wraps. The
import gives the table as a markdown table, the wrapped cells joined, between the text around it."""

from __future__ import annotations

import frontmatter
import pytest

from tests.handoffs.conftest import chromium

pytestmark = pytest.mark.browser

MANUAL = """<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Nordwind Box 7</title>
<style>body { font-family: sans-serif; } td, th { text-align: left; vertical-align: top; padding: 2px 8px; }
td:last-child { width: 14em; }</style></head><body>
<h1>LED-Anzeigen der Nordwind Box 7</h1>
<p>Die Leuchten an der Vorderseite zeigen den Zustand der Box.</p>
<table><tr><th>LED</th><th>Zustand</th><th>Was tun</th></tr>
<tr><td>Power</td><td>blinkt grün</td><td>Die Box startet; warten Sie zwei Minuten.</td></tr>
<tr><td>Internet</td><td>leuchtet rot</td>
<td>Keine Verbindung: prüfen Sie das Kabel und starten Sie die Box neu.</td></tr>
<tr><td>WLAN</td><td>aus</td><td>Drücken Sie die WLAN-Taste.</td></tr></table>
<p>Leuchtet keine LED, prüfen Sie das <b>Netzteil</b> und die Steckdose.</p>
<ol><li>Ziehen Sie den Stecker.</li><li>Warten Sie 30 Sekunden.</li></ol>
</body></html>"""


def test_a_table_in_a_pdf_printed_by_chromium_becomes_a_markdown_table(run_import, tmp_path):
    with chromium() as browser:
        page = browser.new_page()
        page.set_content(MANUAL)
        page.pdf(path=str(tmp_path / "box-7.pdf"), format="A4")
    status, report, err = run_import(tmp_path / "box-7.pdf")
    assert status == 0, err
    assert [a["title"] for a in report["articles"]] == ["LED-Anzeigen der Nordwind Box 7"]
    content = frontmatter.load(report["articles"][0]["draft"]).content
    assert content == (
        "Die Leuchten an der Vorderseite zeigen den Zustand der Box.\n\n"
        "| LED | Zustand | Was tun |\n"
        "|---|---|---|\n"
        "| Power | blinkt grün | Die Box startet; warten Sie zwei Minuten. |\n"
        "| Internet | leuchtet rot | Keine Verbindung: prüfen Sie das Kabel und starten Sie die Box neu. |\n"
        "| WLAN | aus | Drücken Sie die WLAN-Taste. |\n\n"
        "Leuchtet keine LED, prüfen Sie das Netzteil und die Steckdose.\n\n"
        "1. Ziehen Sie den Stecker.\n2. Warten Sie 30 Sekunden."
    ), content
