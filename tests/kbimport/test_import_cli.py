"""``helpdesk import`` as a command: probable duplicates of existing articles, never overwriting an
article or a draft, bad input refused with exit status 2 and nothing written, and drafts that
``helpdesk lint`` accepts (the missing example questions aside)."""

from __future__ import annotations

import json
import shutil

import frontmatter
import pytest

from helpdesk.cli import main
from search_api.kb.render import render_markdown
from tests.conftest import STARTER_KB
from tests.kbimport.conftest import by_title, write_json
from tests.kbimport.samples import FRESHDESK, SAVED_PAGE, ZAMMAD, ZENDESK


def zendesk_copy_of(article_path, article_id=1):
    """A starter article as a help centre would export it: its body rendered to HTML."""
    post = frontmatter.load(article_path)
    return {
        "id": article_id,
        "title": post["title"],
        "body": render_markdown(post.content),
        "locale": post["lang"],
        "html_url": f"https://old-help.example/articles/{article_id}",
        "updated_at": "2026-01-01T00:00:00Z",
        "label_names": [],
        "section_id": None,
    }


def test_a_copy_of_an_existing_article_is_a_probable_duplicate(run_import, tmp_path, drafts):
    original = STARTER_KB / "en" / "router-setup.md"
    export = {"articles": [zendesk_copy_of(original), ZENDESK["articles"][0]]}
    status, report, err = run_import(write_json(tmp_path / "export.json", export))
    assert status == 0, err
    articles = by_title(report)
    copy = articles["Setting up your new Nordwind Box 7"]
    assert copy["status"] == "imported"
    assert copy["duplicate_of"] == str(original)
    assert copy["duplicate_score"] >= 85
    assert copy["draft"] == str(drafts / "en" / "setting-up-your-new-nordwind-box-7.md")
    assert articles["How do I restart my Nordwind Box?"]["duplicate_of"] is None
    assert report["probable_duplicates"] == 1

    status, report, _ = run_import(write_json(tmp_path / "again.json", export), "--skip-duplicates", out=tmp_path / "o")
    skipped = by_title(report)["Setting up your new Nordwind Box 7"]
    assert skipped["status"] == "skipped" and skipped["reason"].startswith(f"probable duplicate of {original} (")


def test_a_short_text_inside_a_long_article_is_no_duplicate(run_import, tmp_path):
    short = {
        "id": 2,
        "title": "Router",
        "body": "<p>Plug in the power supply and wait until the Power LED is steady green.</p>",
        "locale": "en",
        "html_url": "https://old-help.example/articles/2",
    }
    status, report, _ = run_import(write_json(tmp_path / "short.json", [short]))
    assert status == 0 and report["articles"][0]["duplicate_of"] is None


def test_nothing_is_ever_overwritten(run_import, tmp_path, drafts):
    export = write_json(tmp_path / "zendesk.json", ZENDESK)
    mine = drafts / "en" / "how-do-i-restart-my-nordwind-box.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own draft, being edited\n", encoding="utf-8")
    status, report, err = run_import(export)
    assert status == 0, err
    assert mine.read_text(encoding="utf-8") == "my own draft, being edited\n"
    restart = by_title(report)["How do I restart my Nordwind Box?"]
    assert restart["draft"] == str(drafts / "en" / "how-do-i-restart-my-nordwind-box-2.md")
    assert frontmatter.load(restart["draft"])["id"] == "en-how-do-i-restart-my-nordwind-box-2"
    assert any("is taken by" in note for note in restart["notes"])

    before = {p: p.read_bytes() for p in drafts.rglob("*.md")}
    status, report, _ = run_import(export)  # the same export again: already imported, nothing new
    assert status == 0 and report["imported"] == 0
    assert by_title(report)["How do I restart my Nordwind Box?"]["reason"] == f"already imported as {restart['draft']}"
    assert {p: p.read_bytes() for p in drafts.rglob("*.md")} == before


def test_a_slug_taken_by_an_article_gets_a_suffix(run_import, tmp_path, drafts):
    taken = {"id": 9, "title": "Reset password", "body": "<p>Use the link on the login page.</p>", "locale": "en"}
    taken["html_url"] = "https://old-help.example/articles/9"
    assert (STARTER_KB / "en" / "reset-password.md").is_file()
    status, report, _ = run_import(write_json(tmp_path / "x.json", [taken]))
    assert status == 0
    (draft,) = report["articles"]
    assert draft["draft"] == str(drafts / "en" / "reset-password-2.md")  # en-reset-password is the article's id
    assert frontmatter.load(draft["draft"])["id"] == "en-reset-password-2"
    assert draft["notes"] == [f"en-reset-password is taken by {STARTER_KB / 'en' / 'reset-password.md'}"]


def test_the_report_as_a_table(monkeypatch, capsys, tmp_path, drafts):
    monkeypatch.setenv("HELPDESK_SECRETS_FILE", "/nonexistent")
    export = write_json(tmp_path / "zendesk.json", ZENDESK)
    assert main(["import", "--articles", str(STARTER_KB), "--out", str(drafts), "--dry-run", str(export)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["STATUS", "DRAFT", "/", "REASON", "SOURCE", "NOTES"]
    assert out[1].startswith("imported  ") and "zendesk.json#360001" in out[1]
    assert "en, network/Nordwind DSL (guessed: category, product); 1 example question" in out[1]
    assert "de, billing (guessed: category, tags); 1 example question" in out[2]
    assert out[3].startswith("skipped   a draft in Zendesk")
    assert out[-1] == f"2 would be imported to {drafts}, 1 skipped, 0 probable duplicates"
    assert not drafts.exists()  # a dry run writes nothing


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "broken.json",
            '{"articles": [\n  {"id": 1, "title": "A",\n   "body": "<p>x</p>"\n',
            "broken.json:4: malformed JSON",
        ),
        ("trailing.json", '[{"id": 1, "title": "A", "body": "x",}]', "trailing.json:1: malformed JSON"),
        (
            "other.json",
            '{"tickets": [{"id": 1}]}',
            "other.json: unknown JSON format, not a Zendesk, Freshdesk or Zammad",
        ),
        ("export.xml", "<articles/>", "export.xml: unknown format (.xml)"),
        ("latin1.txt", "Kündigung".encode("latin-1"), "latin1.txt:1: not valid UTF-8"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(run_import, tmp_path, drafts, name, content, message):
    good = write_json(tmp_path / "good.json", ZENDESK)  # read first: still nothing of it may be written
    bad = tmp_path / name
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content, encoding="utf-8")
    status, report, err = run_import(good, bad)
    assert status == 2
    assert report is None
    assert f"{tmp_path / message.split(':')[0]}{message[len(message.split(':')[0]) :]}" in err
    assert "nothing was written" in err
    assert not drafts.exists()


def test_a_missing_source_and_a_wrong_format_are_errors(run_import, tmp_path, drafts):
    status, _, err = run_import(tmp_path / "nope.json")
    assert status == 2 and "nope.json: no such file or folder" in err
    status, _, err = run_import(write_json(tmp_path / "fd.json", FRESHDESK), "--format", "zendesk")
    assert status == 2 and "fd.json: not a Zendesk export" in err
    assert not drafts.exists()


def test_drafts_inside_the_articles_directory_are_refused(run_import, tmp_path):
    articles = tmp_path / "articles"
    shutil.copytree(STARTER_KB / "en", articles / "en")
    export = write_json(tmp_path / "z.json", ZENDESK)
    status, _, err = run_import(export, "--articles", articles, out=articles / "imported")
    assert status == 2 and "inside the articles directory" in err
    assert not (articles / "imported").exists()


def test_imported_drafts_pass_the_lint_but_for_example_questions(run_import, tmp_path, drafts, capsys):
    (tmp_path / "page.html").write_text(SAVED_PAGE, encoding="utf-8")
    for name, data in (("zendesk.json", ZENDESK), ("freshdesk.json", FRESHDESK), ("zammad.json", ZAMMAD)):
        write_json(tmp_path / name, data)
    status, report, err = run_import(*(tmp_path / n for n in ("zendesk.json", "freshdesk.json", "zammad.json")))
    assert status == 0, err
    status, _, err = run_import(tmp_path / "page.html")
    assert status == 0, err
    count = len(list(drafts.rglob("*.md")))
    assert count == 7

    assert main(["lint", "--articles", str(STARTER_KB), "--drafts", str(drafts)]) == 0
    err = capsys.readouterr().err
    problems = [line for line in err.splitlines() if line.startswith("draft ")]
    assert problems, err
    assert all(line.endswith("; write at least 3") for line in problems), problems
    assert any("no example questions yet; write at least 3" in line for line in problems)
    assert f"{count} drafts checked in {drafts}, {len(problems)} problems (drafts do not fail the lint); " in err
    assert f"{count} with guessed fields to confirm (front matter 'guessed')" in err


def test_the_json_report(run_import, tmp_path):
    status, report, _ = run_import(write_json(tmp_path / "zammad.json", ZAMMAD), "--dry-run")
    assert status == 0
    assert set(report) == {"drafts_dir", "dry_run", "imported", "skipped", "probable_duplicates", "articles"}
    first = report["articles"][0]
    assert set(first) == {
        "origin", "title", "status", "reason", "draft", "lang", "category", "product", "guessed", "questions",
        "duplicate_of", "duplicate_score", "notes",
    }  # fmt: skip
    assert json.dumps(report)


def test_writing_never_replaces_a_file_and_leaves_nothing_half_written(tmp_path):
    from helpdesk.kbimport.importer import write_drafts

    first, second, third = (tmp_path / "en" / f"{n}.md" for n in ("a", "b", "c"))
    second.parent.mkdir(parents=True)
    second.write_text("written meanwhile by an author\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_drafts({first: "a\n", second: "b\n", third: "c\n"})
    assert second.read_text(encoding="utf-8") == "written meanwhile by an author\n"
    assert not first.exists() and not third.exists()
