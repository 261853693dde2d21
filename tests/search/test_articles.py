"""Article parsing and lint: every problem named with file and line."""

from pathlib import Path

import pytest

from helpdesk.cli import main
from search_api.kb.articles import ArticleError, load_articles, parse_article, split_sections
from search_api.kb.render import render_markdown

LANGS = ("de", "en")
GOOD = """---
id: en-good
title: A good article
lang: en
tags: [a, b]
updated: 2026-11-01
questions:
  - "one?"
  - "two?"
  - "three?"
---
Lead text.

## First step
Do this.

```
## not a heading inside a fence
```

## First step
Again, same heading.
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_parses_front_matter_and_sections(tmp_path):
    article = parse_article(write(tmp_path, "en/good.md", GOOD), tmp_path, LANGS)
    assert article.id == "en-good" and article.lang == "en" and article.updated == "2026-11-01"
    assert article.questions == ("one?", "two?", "three?")
    assert [s.heading for s in article.sections] == [None, "First step", "First step"]
    assert [s.anchor for s in article.sections] == [None, "first-step", "first-step_1"]
    assert "not a heading" in article.sections[1].markdown


def test_section_anchors_match_rendered_heading_ids(tmp_path):
    body = "Intro\n\n## Prüfen Sie das Kabel\ntext\n\n## Prüfen Sie das Kabel\nmore"
    anchors = [s.anchor for s in split_sections(body) if s.anchor]
    html = render_markdown(body)
    for anchor in anchors:
        assert f'id="{anchor}"' in html


@pytest.mark.parametrize(
    "text, line, message",
    [
        (GOOD.replace("title: A good article", "title: [unclosed"), 3, "malformed front matter"),
        (GOOD.replace("tags: [a, b]\n", ""), 1, "missing required field 'tags'"),
        (GOOD.replace("updated: 2026-11-01", "updated: someday"), 6, "'updated' must be a date"),
        (GOOD.replace("id: en-good", "id: Bad Id!"), 2, "'id' must be"),
        (GOOD.replace("lang: en", "lang: de"), 4, "'lang: de' but the file is in the 'en' folder"),
        (GOOD.replace('  - "two?"', "  - 2"), 7, "'questions' must contain only non-empty strings"),
        ("no front matter\n", 1, "missing YAML front matter"),
        (GOOD.split("---\nLead")[0] + "---\n", 12, "no body text"),
    ],
)
def test_errors_name_the_line(tmp_path, text, line, message):
    path = write(tmp_path, "en/broken.md", text)
    with pytest.raises(ArticleError) as info:
        parse_article(path, tmp_path, LANGS)
    assert info.value.path == "en/broken.md"
    assert info.value.line == line, str(info.value)
    assert message in info.value.message


def test_invalid_utf8_is_an_error_with_line(tmp_path):
    path = tmp_path / "en" / "bin.md"
    path.parent.mkdir()
    path.write_bytes(GOOD.encode() + b"\nbad \xff byte\n")
    with pytest.raises(ArticleError) as info:
        parse_article(path, tmp_path, LANGS)
    assert "UTF-8" in info.value.message and info.value.line == GOOD.count("\n") + 2


def test_duplicate_id_keeps_first_and_reports_second(tmp_path):
    write(tmp_path, "en/a.md", GOOD)
    write(tmp_path, "en/b.md", GOOD)
    result = load_articles(tmp_path, LANGS)
    assert [a.path for a in result.articles] == ["en/a.md"]
    assert len(result.errors) == 1
    assert str(result.errors[0]) == "en/b.md:2: duplicate id 'en-good' (already used by en/a.md)"


def test_lint_cli_exit_codes_and_messages(tmp_path, capsys):
    write(tmp_path, "en/good.md", GOOD)
    assert main(["lint", "--articles", str(tmp_path)]) == 0
    write(tmp_path, "en/few.md", GOOD.replace("en-good", "en-few").replace('  - "three?"\n', ""))
    write(tmp_path, "en/broken.md", GOOD.replace("title: A good article", "title: [unclosed"))
    assert main(["lint", "--articles", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "en/broken.md:3: malformed front matter" in err
    assert "en/few.md:7: 2 example questions; write at least 3" in err
    assert "3 articles checked, 2 problems" in err


def test_starter_kb_is_lint_clean(capsys):
    root = Path(__file__).resolve().parents[2] / "kb" / "articles"
    assert main(["lint", "--articles", str(root)]) == 0, capsys.readouterr().err


def test_rendering_strips_script_and_event_handlers():
    html = render_markdown(
        'Hi <script>alert(1)</script> <a href="javascript:alert(1)" onclick="x()">x</a>\n\n<img src=x onerror=alert(1)>'
    )
    assert "<script" not in html and "onclick" not in html and "onerror" not in html
    assert "javascript:" not in html
