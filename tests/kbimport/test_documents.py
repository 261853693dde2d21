"""Word documents and PDF manuals: headings, numbered steps and tables kept, one draft per top-level
heading, the language detected; a damaged document, or a ZIP given as one, is one line in the report
and the other inputs are imported."""

from __future__ import annotations

import zipfile

import frontmatter
import pypdf

from tests.kbimport.conftest import by_title
from tests.kbimport.documents import paragraph, table, write_docx, write_pdf


def test_a_word_manual_becomes_one_draft_per_top_level_heading(run_import, tmp_path, drafts):
    manual = write_docx(
        tmp_path / "box-manual.docx",
        paragraph("Nordwind Box 7 manual", "Title"),
        paragraph("This manual explains how to set up the Nordwind Box 7 router at home."),
        paragraph("Connect the router", "Heading1"),
        paragraph("Connect the router to the phone socket before you switch it on."),
        paragraph("Plug the DSL cable into the grey socket of the router.", numbered=True),
        paragraph("Plug the power supply in and wait for two minutes.", numbered=True),
        paragraph("Check that the Power LED is steady green.", numbered=True),
        paragraph("What do the LEDs mean?", "Heading2"),
        table([["LED", "Meaning"], ["green", "connected to the internet"], ["red", "no DSL signal"]]),
        paragraph("Change the Wi-Fi password", "Heading1"),
        paragraph("Open the router's web page at 192.168.1.1 in a browser on a connected computer."),
        paragraph("Choose Wi-Fi, then Security.", numbered=True),
        paragraph("Enter a new password with at least twelve characters and save it.", numbered=True),
        paragraph("Reconnect every device with the new password.", bullet=True),
    )
    contract = write_docx(
        tmp_path / "kuendigung.docx",
        paragraph("Vertrag kündigen", "Heading1"),
        paragraph("Sie können Ihren Vertrag jederzeit zum Ende des Monats im Kundenportal kündigen."),
        paragraph("Melden Sie sich im Kundenportal an.", numbered=True),
        paragraph("Wählen Sie Vertrag und dann Kündigen.", numbered=True),
    )
    status, report, err = run_import(manual, contract)
    assert status == 0, err
    assert report["imported"] == 3 and report["skipped"] == 0
    articles = by_title(report)
    connect = frontmatter.load(articles["Connect the router"]["draft"])
    assert connect["lang"] == "en" and connect["source"] == f"{manual}#connect-the-router"
    assert articles["Connect the router"]["origin"] == "box-manual.docx#connect-the-router"
    assert connect.content.startswith(
        "This manual explains how to set up the Nordwind Box 7 router at home.\n\n"
        "Connect the router to the phone socket before you switch it on.\n\n"
        "1. Plug the DSL cable into the grey socket of the router.\n"
        "2. Plug the power supply in and wait for two minutes.\n"
        "3. Check that the Power LED is steady green.\n\n## What do the LEDs mean?\n\n"
    )
    assert connect.content.endswith(
        "| LED | Meaning |\n|---|---|\n| green | connected to the internet |\n| red | no DSL signal |"
    )
    assert connect["questions"] == ["What do the LEDs mean?"]
    assert "Nordwind Box 7 manual" not in connect.content  # the document's title names no draft

    password = frontmatter.load(articles["Change the Wi-Fi password"]["draft"])
    assert password.content == (
        "Open the router's web page at 192.168.1.1 in a browser on a connected computer.\n\n"
        "1. Choose Wi-Fi, then Security.\n2. Enter a new password with at least twelve characters and save it.\n\n"
        "- Reconnect every device with the new password."
    )
    german = frontmatter.load(articles["Vertrag kündigen"]["draft"])
    assert german["lang"] == "de" and german["source"] == str(contract)  # one heading: not split
    assert german.content.endswith("1. Melden Sie sich im Kundenportal an.\n2. Wählen Sie Vertrag und dann Kündigen.")
    assert sorted(p.name for p in (drafts / "en").iterdir()) == [
        "change-the-wi-fi-password.md",
        "connect-the-router.md",
    ]

    status, again, _ = run_import(manual)  # the parts are known by their anchors
    assert status == 0 and again["imported"] == 0
    assert {a["reason"].split(" as ")[0] for a in again["articles"]} == {"already imported"}


PDF_PAGES = [
    [
        (22, "Nordwind Box 7 manual"),
        (11, "This manual explains how to set up the Nordwind Box 7 router at home."),
        (16, "1. Connect the router"),
        (11, "Connect the router to the phone socket before you switch it"),
        (11, "on. Follow these steps:"),
        (11, "1. Plug the DSL cable into the grey socket of the router."),
        (11, "2. Plug the power supply in and wait until the Power LED is"),
        (11, "steady green."),
        (11, "3. Open the router's web page in a browser."),
        (13, "1.1 Which LED colour is right?"),
        (11, "Green means connected; red means there is no DSL signal."),
        (11, "1"),
    ],
    [
        (16, "2. Change the Wi-Fi password"),
        (11, "Choose a password with at least twelve characters."),
        (-11, "Steps"),
        (11, "1. Choose Wi-Fi, then Security."),
        (11, "2. Enter the new password and save it."),
        (11, "Page 2 of 2"),
    ],
]


def test_a_pdf_manual_becomes_one_draft_per_top_level_heading(run_import, tmp_path, drafts):
    manual = write_pdf(tmp_path / "box-manual.pdf", PDF_PAGES, title="Box 7")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(manual).pages)
    assert "1. Connect the router\n" in text and "2. Enter the new password and save it." in text

    status, report, err = run_import(manual)
    assert status == 0, err
    assert [a["title"] for a in report["articles"]] == ["Connect the router", "Change the Wi-Fi password"]
    articles = by_title(report)
    connect = frontmatter.load(articles["Connect the router"]["draft"])
    assert connect["lang"] == "en" and connect["source"] == f"{manual}#connect-the-router"
    assert connect.content == (
        "This manual explains how to set up the Nordwind Box 7 router at home.\n\n"
        "Connect the router to the phone socket before you switch it on. Follow these steps:\n\n"
        "1. Plug the DSL cable into the grey socket of the router.\n"
        "2. Plug the power supply in and wait until the Power LED is steady green.\n"
        "3. Open the router's web page in a browser.\n\n"
        "## Which LED colour is right?\n\n"
        "Green means connected; red means there is no DSL signal."
    )
    assert connect["questions"] == ["Which LED colour is right?"]
    password = frontmatter.load(articles["Change the Wi-Fi password"]["draft"])
    assert password.content == (
        "Choose a password with at least twelve characters.\n\n## Steps\n\n"
        "1. Choose Wi-Fi, then Security.\n2. Enter the new password and save it."
    )


def test_a_pdf_without_headings_is_one_draft_named_by_its_metadata(run_import, tmp_path):
    note = write_pdf(
        tmp_path / "note.pdf",
        [[(11, "Restart the router when the internet is slow."), (11, "1. Unplug it."), (11, "2. Wait ten seconds.")]],
        title="Router restart",
    )
    status, report, err = run_import(note)
    assert status == 0, err
    post = frontmatter.load(by_title(report)["Router restart"]["draft"])
    assert post["source"] == str(note)
    assert post.content == "Restart the router when the internet is slow.\n\n1. Unplug it.\n2. Wait ten seconds."


def test_bad_documents_are_reported_and_the_rest_is_imported(run_import, tmp_path, drafts):
    folder = tmp_path / "docs"
    folder.mkdir()
    good = write_docx(folder / "good.docx", paragraph("Restart the router", "Heading1"), paragraph("Unplug it."))
    (folder / "damaged.docx").write_bytes(good.read_bytes()[:300])
    with zipfile.ZipFile(folder / "archive.docx", "w") as archive:
        archive.writestr("notes.txt", "not a document")
    (folder / "archive.pdf").write_bytes((folder / "archive.docx").read_bytes())
    pdf = write_pdf(tmp_path / "whole.pdf", PDF_PAGES).read_bytes()
    (folder / "damaged.pdf").write_bytes(pdf[: len(pdf) // 3])
    (folder / "notes.pdf").write_text("just text", encoding="utf-8")
    (folder / "letter.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)

    status, report, err = run_import(folder)
    assert status == 0, err
    reasons = {a["origin"].rsplit("/", 1)[-1]: a["reason"] for a in report["articles"] if a["status"] == "skipped"}
    assert reasons["archive.docx"] == "a ZIP archive, not a Word document (no word/document.xml in it)"
    assert reasons["archive.pdf"] == "not a PDF: the file is a ZIP archive"
    assert reasons["damaged.docx"].startswith("a damaged Word document: ")
    assert reasons["damaged.pdf"].startswith("a damaged PDF: ")
    assert reasons["notes.pdf"] == "not a PDF: the file is an unknown file"
    assert reasons["letter.docx"] == "not a Word document (.docx): the file is an old binary Office document (.doc)"
    assert len(reasons) == 6
    assert report["imported"] == 1 and [p.name for p in (drafts / "en").iterdir()] == ["restart-the-router.md"]

    status, report, err = run_import(folder / "archive.docx")  # named on the command line: the same line
    assert status == 0 and report["articles"][0]["reason"].startswith("a ZIP archive")


def test_a_table_in_a_pdf_manual_becomes_a_markdown_table(run_import, tmp_path):
    """Cells set apart on their lines, their left edges in columns: a markdown table with the first row
    as its header, a wrapped cell joined, an empty cell kept; the paragraphs and steps around it stay what they were."""
    manual = write_pdf(
        tmp_path / "leds.pdf",
        [
            [
                (16, "LED-Anzeigen der Nordwind Box"),
                (11, "Die Leuchten an der Vorderseite zeigen den Zustand der Box."),
                (-11, ("LED", "Zustand", "Was tun")),
                (11, ("Power", "blinkt grün", "Warten Sie zwei Minuten.")),
                (11, ("Internet", "leuchtet rot", "Prüfen Sie das Kabel und")),
                (11, ("", "", "starten Sie die Box neu.")),
                (11, ("WLAN", "aus", "Drücken Sie die WLAN-Taste.")),
                (11, ("Info", "", "Blinkt bei einem Update.")),
                (11, "Leuchtet keine LED, prüfen Sie das Netzteil."),
                (11, "1. Ziehen Sie den Stecker."),
                (11, "2. Warten Sie 30 Sekunden."),
            ]
        ],
        title="LED-Anzeigen",
    )
    status, report, err = run_import(manual)
    assert status == 0, err
    post = frontmatter.load(report["articles"][0]["draft"])
    assert post.content == (
        "Die Leuchten an der Vorderseite zeigen den Zustand der Box.\n\n"
        "| LED | Zustand | Was tun |\n"
        "|---|---|---|\n"
        "| Power | blinkt grün | Warten Sie zwei Minuten. |\n"
        "| Internet | leuchtet rot | Prüfen Sie das Kabel und starten Sie die Box neu. |\n"
        "| WLAN | aus | Drücken Sie die WLAN-Taste. |\n"
        "| Info |  | Blinkt bei einem Update. |\n\n"
        "Leuchtet keine LED, prüfen Sie das Netzteil.\n\n"
        "1. Ziehen Sie den Stecker.\n2. Warten Sie 30 Sekunden."
    )


def test_words_set_apart_on_a_single_line_are_no_table(run_import, tmp_path):
    """One line of pieces far apart (a label and its value) or rows whose pieces do not line up stay text."""
    note = write_pdf(
        tmp_path / "note.pdf",
        [
            [
                (11, ("Hotline:", "030 1234567")),
                (11, "Erreichbar werktags von 8 bis 18 Uhr."),
                (11, ("Modell", "Box 7")),
                (11, "Seriennummer auf der Unterseite."),
            ]
        ],
        title="Kontakt",
    )
    status, report, err = run_import(note)
    assert status == 0, err
    assert "|" not in frontmatter.load(report["articles"][0]["draft"]).content
