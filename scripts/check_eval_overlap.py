"""Check that an evaluation set's messages are not copied from the knowledge base.

A realistic set measures how the search does on messages written by customers, so no
message may share four consecutive words with any article title or example question
(the units a copy would be found by too easily). Words are compared lower-cased, with
umlauts folded (ä = ae) and punctuation dropped, so "Zugangsdaten-Brief" and
"zugangsdaten brief" are the same two words.

    python scripts/check_eval_overlap.py kb/eval/realistic --kb kb/articles [--words 4]

Prints one line per offending message (file:line, the shared words, the article) and
exits 1 when there is any; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().translate(_FOLD))


def ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def kb_phrases(kb_dir: Path, n: int) -> dict[tuple[str, ...], str]:
    """Every n-word run of a title or example question, with the article it comes from."""
    phrases: dict[tuple[str, ...], str] = {}
    for path in sorted(kb_dir.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if not text.startswith("---"):
            continue
        meta = yaml.safe_load(text.split("---", 2)[1]) or {}
        for source in [meta.get("title") or "", *(meta.get("questions") or [])]:
            for gram in ngrams(words(str(source)), n):
                phrases.setdefault(gram, str(meta.get("id", path.stem)))
    return phrases


def offences(set_dir: Path, kb_dir: Path, n: int) -> list[str]:
    phrases = kb_phrases(kb_dir, n)
    found = []
    for path in sorted(set_dir.rglob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            query = json.loads(line)["query"]
            shared = sorted(gram for gram in ngrams(words(query), n) if gram in phrases)
            if shared:
                found.append(f"{path}:{number}: shares '{' '.join(shared[0])}' with {phrases[shared[0]]}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set_dir", type=Path)
    parser.add_argument("--kb", type=Path, default=Path("kb/articles"))
    parser.add_argument("--words", type=int, default=4)
    args = parser.parse_args(argv)
    found = offences(args.set_dir, args.kb, args.words)
    for line in found:
        print(line)
    print(f"{len(found)} message(s) share {args.words} consecutive words with a title or example question")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
