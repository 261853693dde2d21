"""HTML to the KB's markdown, with the standard library's parser only.

Help-centre exports carry article bodies as HTML fragments, saved pages are whole documents.
``html_to_markdown`` keeps what an article needs: headings (the body's highest becomes ``##``,
the KB's section level), paragraphs, bold and italic, links (absolute ones; relative ones are
resolved against the page's URL when it is known, else kept as text), numbered and bulleted lists
with their start number and nesting, tables (the first row is the header, as markdown needs one),
code blocks (fenced, with the ``language-*`` class as the fence's language; indented inside a list
item, where the KB's renderer knows no fences) and inline code, quotes.
Scripts, styles, forms and embedded frames are dropped; no raw HTML is written, and text is
escaped so that nothing in the source becomes markup it was not.

``extract_page`` finds the main content of a saved help-centre page. The heuristic, in order:
``<main>`` or ``role="main"``; else the ``<article>`` with the most text; else the element whose
``id`` or ``class`` names content (``content``, ``article``, ``post``, ``entry``, ``main``) with
the most text; else ``<body>``. Inside it, navigation, headers, footers, sidebars and elements
whose ``id``/``class`` name a menu, breadcrumb, sidebar, cookie banner, share or comment box are
removed. The title is the first ``<h1>`` (removed from the body), else the ``<title>`` without a
" | Site" or " - Site" suffix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
DROP = {"script", "style", "noscript", "template", "svg", "iframe", "object", "form", "button", "select", "canvas"}
BLOCK = {
    "address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main",
    "nav", "ol", "p", "pre", "section", "summary", "table", "ul",
}  # fmt: skip
# Tags a new one of closes (HTML's implied end tags): <li> closes an open <li> of the same list, etc.
IMPLIED_END = {
    "li": ({"li"}, {"ul", "ol"}),
    "p": ({"p"}, BLOCK - {"p"}),
    "tr": ({"tr", "td", "th"}, {"table", "thead", "tbody", "tfoot"}),
    "td": ({"td", "th"}, {"tr", "table"}),
    "th": ({"td", "th"}, {"tr", "table"}),
    "dt": ({"dt", "dd"}, {"dl"}),
    "dd": ({"dt", "dd"}, {"dl"}),
}
BOILERPLATE_TAGS = {"nav", "header", "footer", "aside"}
BOILERPLATE_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search"}
BOILERPLATE_NAMES = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|breadcrumbs?|sidebar|footer|cookie|consent|share|sharing|social|"
    r"comments?|related|pagination|skip-link|site-header)(?:$|[\s_-])",
    re.I,
)
CONTENT_NAMES = re.compile(r"(?:^|[\s_-])(?:content|article|post|entry|main|article-body)(?:$|[\s_-])", re.I)
TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]+$")
_SPACE = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_ESCAPE = re.compile(r"([\\`*\[\]])")
_UNDERSCORE = re.compile(r"(?<!\w)_|_(?!\w)")
_LINE_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|[-+](?=\s)|>|(\d+)([.)])(?=\s|$))")
_CODE_LANG = re.compile(r"(?:^|\s)(?:language|lang|brush:?)-?\s*([\w+#.-]+)", re.I)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = None

    def find_all(self, match) -> list[Node]:
        found: list[Node] = []
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            if match(node):
                found.append(node)
            stack.extend(reversed([c for c in node.children if isinstance(c, Node)]))
        return found

    def first(self, tag: str) -> Node | None:
        found = self.find_all(lambda n: n.tag == tag)
        return found[0] if found else None

    def text(self) -> str:
        parts: list[str] = []
        stack: list[Node | str] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                parts.append(item)
            elif item.tag not in DROP:
                stack.extend(reversed(item.children))
                if item.tag in BLOCK or item.tag == "br":
                    parts.append(" ")
        return _SPACE.sub(" ", "".join(parts)).strip()

    def remove(self) -> None:
        if self.parent is not None:
            self.parent.children = [c for c in self.parent.children if c is not self]
            self.parent = None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        implied = IMPLIED_END.get(tag)
        if implied:
            closes, stops = implied
            for i in range(len(self.stack) - 1, 0, -1):
                name = self.stack[i].tag
                if name in stops:
                    break
                if name in closes:
                    del self.stack[i:]
                    break
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


# --- main content of a saved page ---------------------------------------------------------------


def _names(node: Node) -> str:
    return f"{node.attrs.get('id', '')} {node.attrs.get('class', '')}"


def _is_boilerplate(node: Node) -> bool:
    return (
        node.tag in BOILERPLATE_TAGS
        or node.attrs.get("role", "").lower() in BOILERPLATE_ROLES
        or bool(BOILERPLATE_NAMES.search(_names(node)))
    )


def main_content(root: Node) -> Node:
    """The element holding the page's article (the heuristic of this module's docstring)."""
    found = root.find_all(lambda n: n.tag == "main" or n.attrs.get("role", "").lower() == "main")
    if found:
        return found[0]
    for candidates in (
        root.find_all(lambda n: n.tag == "article"),
        root.find_all(lambda n: n.tag in {"div", "section"} and bool(CONTENT_NAMES.search(_names(n)))),
    ):
        candidates = [c for c in candidates if not _is_boilerplate(c)]
        if candidates:
            return max(candidates, key=lambda n: len(n.text()))
    return root.first("body") or root


def page_title(root: Node) -> str:
    title = root.first("title")
    text = title.text() if title else ""
    return TITLE_SUFFIX.sub("", text).strip() or text


@dataclass(frozen=True)
class Page:
    title: str
    markdown: str
    questions: tuple[str, ...]
    lang: str | None  # <html lang="...">


def extract_page(text: str, base_url: str | None = None) -> Page:
    """A saved HTML page's title and main content as markdown."""
    root = parse_html(text)
    html_node = root.first("html")
    lang = (html_node.attrs.get("lang") or None) if html_node else None
    base = root.first("base")
    base_url = base_url or (base.attrs.get("href") if base else None)
    if not base_url:
        canonical = root.find_all(lambda n: n.tag == "link" and n.attrs.get("rel", "").lower() == "canonical")
        base_url = canonical[0].attrs.get("href") if canonical else None
    content = main_content(root)
    h1 = content.first("h1") or root.first("h1")
    title = h1.text() if h1 else ""
    if h1 is not None and h1.parent is not None and _inside(h1, content):
        h1.remove()
    if not title:  # no <h1>: the <title>, and a first heading that repeats it is left out
        title = page_title(root)
        headings = content.find_all(lambda n: re.fullmatch(r"h[1-6]", n.tag) is not None)
        if headings and same_text(headings[0].text(), title):
            headings[0].remove()
    for node in content.find_all(lambda n: n is not content and _is_boilerplate(n)):
        node.remove()
    converted = _Converter(base_url).document(content)
    return Page(title, converted.markdown, converted.questions, lang)


def _inside(node: Node, ancestor: Node) -> bool:
    current: Node | None = node
    while current is not None:
        if current is ancestor:
            return True
        current = current.parent
    return False


# --- conversion ---------------------------------------------------------------------------------


def escape_text(text: str) -> str:
    """Text as markdown that shows exactly this text: markdown's inline characters escaped, ``<`` and
    ``&`` as entities (no raw HTML)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _ESCAPE.sub(r"\\\1", text)
    return _UNDERSCORE.sub(r"\\_", text)


def escape_line_start(line: str) -> str:
    """No heading, list, or quote where the source had a plain line starting with such characters."""
    found = _LINE_START.match(line)
    if not found:
        return line
    indent, marker = found.group(1), found.group(2)
    if found.group(3):
        escaped = f"{found.group(3)}\\{found.group(4)}"
    else:
        escaped = "\\" + marker
    return indent + escaped + line[found.end() :]


@dataclass(frozen=True)
class Converted:
    markdown: str
    questions: tuple[str, ...]


def html_to_markdown(text: str, base_url: str | None = None, title: str | None = None) -> Converted:
    """An HTML fragment (an export's article body) as markdown, with its question headings; a first
    heading that repeats ``title`` is left out (the title is the draft's own)."""
    root = parse_html(text)
    if title:
        headings = root.find_all(lambda n: re.fullmatch(r"h[1-6]", n.tag) is not None)
        if headings and same_text(headings[0].text(), title):
            headings[0].remove()
    return _Converter(base_url).document(root)


def nodes_to_markdown(nodes: list[Node | str], base_url: str | None = None) -> Converted:
    """A run of parsed nodes (a part of a document) as markdown, with its question headings."""
    return _Converter(base_url).document(Node("div", children=list(nodes)))


def same_text(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return re.sub(r"[\W_]+", " ", s).strip().lower()

    return norm(a) == norm(b)


def is_question(text: str) -> bool:
    return text.rstrip().endswith(("?", "？")) and len(text.split()) >= 2


class _Converter:
    def __init__(self, base_url: str | None):
        self.base_url = base_url
        self.questions: list[str] = []
        self.heading_shift = 0
        self.list_depth = 0

    def document(self, root: Node) -> Converted:
        levels = [int(n.tag[1]) for n in root.find_all(lambda n: re.fullmatch(r"h[1-6]", n.tag) is not None)]
        self.heading_shift = 2 - min(levels) if levels else 0
        body = "\n\n".join(self.blocks(root)).strip()
        body = re.sub(r"\n{3,}", "\n\n", body)
        return Converted(body, tuple(dict.fromkeys(self.questions)))

    # blocks ------------------------------------------------------------------------------------

    def blocks(self, node: Node) -> list[str]:
        """The markdown blocks of a container: runs of inline children become paragraphs."""
        out: list[str] = []
        run: list[Node | str] = []

        def flush() -> None:
            if run:
                paragraph = self.paragraph(run)
                if paragraph:
                    out.append(paragraph)
                run.clear()

        for child in node.children:
            if isinstance(child, Node) and child.tag in DROP:
                continue
            if isinstance(child, Node) and child.tag in BLOCK:
                flush()
                out.extend(self.block(child))
            else:
                run.append(child)
        flush()
        return out

    def paragraph(self, items: list[Node | str]) -> str:
        text = "".join(self.inline(item) for item in items)
        lines = [" ".join(line.split()) for line in text.split("\n")]
        lines = [escape_line_start(line) for line in lines if line]
        return "  \n".join(lines)  # a <br> inside a paragraph: markdown's hard line break

    def block(self, node: Node) -> list[str]:
        tag = node.tag
        if re.fullmatch(r"h[1-6]", tag):
            text = " ".join(self.inline(node).split())
            if not text:
                return []
            plain = node.text()
            if is_question(plain):
                self.questions.append(plain)
            level = min(6, max(2, int(tag[1]) + self.heading_shift))
            return ["#" * level + " " + text]
        if tag in {"ul", "ol"}:
            listed = self.list_block(node)
            return [listed] if listed else []
        if tag == "pre":
            return [self.code_block(node)]
        if tag == "table":
            table = self.table(node)
            return [table] if table else []
        if tag == "blockquote":
            inner = "\n\n".join(self.blocks(node))
            return ["\n".join(("> " + line).rstrip() for line in inner.splitlines())] if inner else []
        if tag == "hr":
            return ["---"]
        if tag == "dl":
            return self.definition_list(node)
        return self.blocks(node)

    def list_block(self, node: Node) -> str:
        ordered = node.tag == "ol"
        try:
            number = int(node.attrs.get("start", "1"))
        except ValueError:
            number = 1
        items: list[str] = []
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    items.append(("1. " if ordered else "- ") + escape_text(" ".join(child.split())))
                continue
            if child.tag in DROP:
                continue
            if child.tag != "li":  # a list inside a list without <li> (sloppy editors): nest it in the last item
                nested = self.blocks(Node("div", children=[child]))
                if nested and items:
                    items[-1] += "\n\n" + _indent("\n\n".join(nested), 4)
                continue
            marker = f"{number}." if ordered else "-"
            number += 1
            self.list_depth += 1
            try:
                parts = self.blocks(child)
            finally:
                self.list_depth -= 1
            if not parts:
                parts = [""]
            first, rest = parts[0], parts[1:]
            item = f"{marker} " + _indent(first, 4).lstrip() if first else marker
            # a nested list directly after the item's text stays tight; other blocks get a blank line
            for part in rest:
                separator = "\n" if part.lstrip().startswith(("- ", "1.")) or re.match(r"\d+\. ", part) else "\n\n"
                item += separator + _indent(part, 4)
            items.append(item)
        loose = any("\n\n" in item for item in items)
        return ("\n\n" if loose else "\n").join(items)

    def code_block(self, node: Node) -> str:
        code = node.first("code")
        source = code or node
        classes = f"{source.attrs.get('class', '')} {node.attrs.get('class', '')}"
        found = _CODE_LANG.search(classes)
        language = found.group(1).lower() if found else ""
        text = _raw_text(source).strip("\n")
        if self.list_depth:  # the KB's renderer (Python-Markdown) knows no fences inside a list item
            return _indent(text, 4)
        fence = "~~~" if "```" in text else "```"
        return f"{fence}{language}\n{text}\n{fence}"

    def table(self, node: Node) -> str:
        rows: list[list[str]] = []
        for row in node.find_all(lambda n: n.tag == "tr"):
            if _nearest(row, "table") is not node:
                continue  # a table inside a cell is flattened into that cell
            cells: list[str] = []
            for cell in row.children:
                if isinstance(cell, Node) and cell.tag in {"td", "th"}:
                    content = " ".join(self.inline(cell, in_table=True).split()).replace("|", "\\|")
                    try:
                        span = max(1, min(20, int(cell.attrs.get("colspan", "1"))))
                    except ValueError:
                        span = 1
                    cells.extend([content] + [""] * (span - 1))
            if cells:
                rows.append(cells)
        if not rows:
            return ""
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        # markdown needs a header row: the first row is it, <th> or not
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join(["---"] * width) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines)

    def definition_list(self, node: Node) -> list[str]:
        out: list[str] = []
        for child in node.children:
            if isinstance(child, Node) and child.tag == "dt":
                term = " ".join(self.inline(child).split())
                if term:
                    out.append(f"**{term}**")
            elif isinstance(child, Node) and child.tag == "dd":
                out.extend(self.blocks(child))
        return out

    # inline ------------------------------------------------------------------------------------

    def inline(self, item: Node | str, in_table: bool = False) -> str:
        if isinstance(item, str):
            return escape_text(_SPACE.sub(" ", item))
        tag = item.tag
        if tag in DROP:
            return ""
        if tag == "br":
            return " " if in_table else "\n"
        if tag == "img":
            return self.image(item)
        inner = "".join(self.inline(child, in_table) for child in item.children)
        if tag in BLOCK or tag in {"tr", "td", "th"}:
            return f" {inner} "
        if tag == "code" or tag in {"kbd", "samp", "tt"}:
            return _code_span(_raw_text(item))
        if not inner.strip():
            return inner
        if tag in {"strong", "b"}:
            return _wrap(inner, "**")
        if tag in {"em", "i"}:
            return _wrap(inner, "*")
        if tag in {"del", "s", "strike"}:
            return _wrap(inner, "~~")
        if tag == "a":
            return self.link(item, inner)
        return inner

    def resolve(self, url: str) -> str | None:
        url = url.strip()
        if not url or url.startswith("#"):
            return None
        scheme = urlsplit(url).scheme.lower()
        if scheme in {"http", "https", "mailto", "tel"}:
            return url
        if scheme:  # javascript:, data:, file: ...
            return None
        if self.base_url and urlsplit(self.base_url).scheme in {"http", "https"}:
            return urljoin(self.base_url, url)
        return None

    def link(self, node: Node, inner: str) -> str:
        href = self.resolve(node.attrs.get("href", ""))
        if href is None:
            return inner
        href = href.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return f"[{inner.strip()}]({href})"

    def image(self, node: Node) -> str:
        alt = " ".join(node.attrs.get("alt", "").split())
        src = self.resolve(node.attrs.get("src", ""))
        if src is None or not src.startswith(("http://", "https://")):
            return escape_text(alt)
        return f"![{escape_text(alt)}]({src.replace(' ', '%20').replace('(', '%28').replace(')', '%29')})"


def _nearest(node: Node, tag: str) -> Node | None:
    current = node.parent
    while current is not None and current.tag != tag:
        current = current.parent
    return current


def _raw_text(node: Node) -> str:
    parts: list[str] = []
    for child in node.children:
        if isinstance(child, str):
            parts.append(child)
        elif child.tag == "br":
            parts.append("\n")
        elif child.tag not in DROP:
            parts.append(_raw_text(child))
    return "".join(parts)


def _code_span(text: str) -> str:
    text = " ".join(text.split("\n")).strip()
    if not text:
        return ""
    ticks = "`"
    while ticks in text:
        ticks += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _wrap(inner: str, marker: str) -> str:
    """``**text**`` with the spaces of ``inner`` kept outside the markers (``** text**`` is no emphasis)."""
    stripped = inner.strip()
    lead = inner[: len(inner) - len(inner.lstrip())]
    trail = inner[len(inner.rstrip()) :]
    return f"{lead}{marker}{stripped}{marker}{trail}"


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.split("\n"))
