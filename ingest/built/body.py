"""A built page's readable body: which element holds the article, and its text as sections of clean blocks.

The body is the element marked `data-casebook-body` (or Pagefind's `data-pagefind-body`), else the page's
one `<article>`, else `<main>` (or `role="main"`), else `<body>`. Inside it, navigation, headers, footers,
asides, forms, scripts and anything marked `data-casebook-ignore` (or `data-pagefind-ignore`) are left out.
Sections start at headings; a heading's `id` is its anchor, so `url#id` deep links land on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ingest.built.tree import Element, elements, line_of, text_of
from ingest.document import Block, BlockKind, Section
from ingest.markdown import NAV_LINK_SHARE, NAV_LIST_LINK_SHARE

BODY_MARKERS = ("data-casebook-body", "data-pagefind-body")
IGNORE_MARKERS = ("data-casebook-ignore", "data-pagefind-ignore")
# Site furniture and what carries no readable text; "related posts" boxes are asides in most themes.
LEFT_OUT = frozenset({"nav", "header", "footer", "aside", "form", "button", "script", "style", "noscript",
                      "template", "svg", "math", "iframe", "object", "canvas", "select", "dialog", "input"})
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
LISTS = frozenset({"ul", "ol", "dl"})
PROSE = frozenset({"p", "figcaption", "address", "dt", "dd", "summary", "caption"})
INLINE = frozenset({"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "i", "img", "ins",
                    "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var",
                    "wbr", "br", "font", "tt", "strike", "big", "label", "output", "meter", "progress", "picture",
                    "source"})
MAX_DEPTH = 200  # deeper nesting is no page a generator writes; past it the walk would only burn stack
_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "..."})
_ANCHOR_MARKS = re.compile(r"^[\s#¶§🔗]+|[\s#¶§🔗]+$")


class TooDeep(Exception):
    """The body nests elements deeper than MAX_DEPTH; `line` is where."""

    def __init__(self, line: int | None) -> None:
        self.line = line
        super().__init__(f"elements nested deeper than {MAX_DEPTH} levels")


@dataclass(frozen=True)
class Body:
    """The readable part of a page: its sections, the links in it, and what tells an article from a list."""

    sections: tuple[Section, ...]
    links: tuple[str, ...]  # hrefs as written, in order
    prose_words: int  # words outside headings and link lists
    articles: int  # <article> elements inside the body: two or more is a list of post cards


def choose_body(root: Element) -> Element | None:
    """The element holding the article: a body marker, the one <article>, <main>, else <body>."""
    for marker in BODY_MARKERS:
        marked = elements(root, f"//*[@{marker}]")
        if marked:
            return marked[0]
    articles = [a for a in root.iter("article") if not _ignored(a)]
    if len(articles) == 1:
        return articles[0]
    main = elements(root, "//main | //*[@role='main']")
    if main:
        return main[0]
    return root.find("body")


def read_body(element: Element, title: str) -> Body:
    """Cut the body element into sections of clean blocks (the title banner heading left out)."""
    walk = _Walk(title)
    walk.container(element, 0)
    walk.flush()
    articles = sum(1 for a in element.iter("article") if a is not element)
    return Body(_sections(walk.events), tuple(walk.links), walk.prose_words, articles)


def has_marker(root: Element, markers: tuple[str, ...]) -> bool:
    """Whether any element of the page carries one of the attributes."""
    return any(elements(root, f"//*[@{marker}]") for marker in markers)


# An event is a Block, or a heading (level, text, id or "").
Event = Block | tuple[int, str, str]


@dataclass
class _Walk:
    """A depth-first walk of the body that emits blocks and headings in reading order."""

    title: str
    events: list[Event] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    prose_words: int = 0
    pending: list[str] = field(default_factory=list)  # loose inline text of a container, waiting for a block
    pending_line: int = 0
    pending_linked: int = 0

    def container(self, element: Element, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise TooDeep(line_of(element))
        self.loose(element.text, line_of(element), 0)
        for child in element:
            if isinstance(child.tag, str) and not _ignored(child):
                self.child(child, depth + 1)
            self.loose(child.tail, line_of(child), 0)

    def child(self, child: Element, depth: int) -> None:
        tag = child.tag.lower()
        line = line_of(child)
        if tag in INLINE:
            text, linked = _inline(child, self.links)
            self.loose(text, line, linked)
            return
        self.flush()
        if tag in HEADINGS:
            self.heading(child, HEADINGS[tag])
        elif tag == "pre":
            self.block("mermaid" if _is_mermaid(child) else "code", _pre_text(child), line)
        elif tag == "table":
            self.block("table", _table_text(child, self.links), line)
        elif tag == "details":
            self.block("faq", "\n".join(_lines(child, self.links, 0)[0]), line)
        elif tag in PROSE:
            text, linked = _inline(child, self.links)
            self.prose([text], line, linked, [])
        elif tag in LISTS or tag == "blockquote":
            lines, linked, items = _lines(child, self.links, 0, listing=tag in LISTS)
            self.prose(lines, line, linked, items)
        else:
            self.container(child, depth)
            self.flush()

    def heading(self, element: Element, level: int) -> None:
        text = _ANCHOR_MARKS.sub("", _inline(element, [])[0])
        anchor = element.get("id") or next((e.get("id") or e.get("name") for e in element.iter()
                                            if e is not element and (e.get("id") or e.get("name"))), "")
        # The theme's title banner (an <h1> without an id, before any text) is the post's title, not a section;
        # a heading the author wrote has an id and stays, as the Markdown reader keeps it.
        if level == 1 and not anchor and not any(isinstance(e, Block) for e in self.events):
            return
        if text:
            self.events.append((level, text, anchor or ""))

    def loose(self, text: str | None, line: int | None, linked: int) -> None:
        if text and text.strip():
            if not self.pending:
                self.pending_line = line or 0
            self.pending.append(text)
            self.pending_linked += linked

    def flush(self) -> None:
        if self.pending:
            text = plain(_SPACE.sub(" ", "".join(self.pending)).strip())
            self.prose([text], self.pending_line, self.pending_linked, [])
        self.pending, self.pending_linked = [], 0

    def prose(self, lines: list[str], line: int, linked: int, items: list[bool]) -> None:
        lines = [text for text in lines if text.strip()]
        if not lines:
            return
        text = "\n".join(lines)
        # As the Markdown reader does: mostly link text, or a list linking from every item, is navigation.
        share = linked / len(text) if text else 0.0
        list_of_links = len(items) >= 2 and all(items) and share >= NAV_LIST_LINK_SHARE
        kind: BlockKind = "links" if share >= NAV_LINK_SHARE or list_of_links else "text"
        if kind == "text":
            self.prose_words += len(text.split())
        self.block(kind, text, line)

    def block(self, kind: BlockKind, text: str, line: int) -> None:
        text = text.strip("\n")
        if text.strip():
            if kind in ("faq", "table"):
                self.prose_words += len(text.split())
            self.events.append(Block(kind, text, line))


def plain(text: str) -> str:
    """Typographic quotes and ellipses as typed: generators curl them (Hugo's typographer); readers type them."""
    return text.translate(_TYPOGRAPHY)


def _ignored(element: Element) -> bool:
    tag = element.tag if isinstance(element.tag, str) else ""
    return (tag.lower() in LEFT_OUT or any(element.get(m) is not None for m in IGNORE_MARKERS)
            or element.get("hidden") is not None or element.get("aria-hidden") == "true")


def _inline(element: Element, links: list[str]) -> tuple[str, int]:
    """An element's text as one line (whitespace collapsed, <br> kept), and how much of it is link text."""
    parts: list[str] = []
    linked = [0]

    def visit(node: Element, in_link: bool) -> None:
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag == "br":
            parts.append("\n")
        elif tag == "img" and node.get("alt"):
            parts.append(node.get("alt") or "")
        if tag == "a" and node.get("href") is not None:
            links.append(node.get("href") or "")
            in_link = True
        # Source line breaks are spaces; only <br> breaks a line.
        if node.text:
            parts.append(_SPACE.sub(" ", node.text))
            linked[0] += len(parts[-1]) if in_link else 0
        for child in node:
            if isinstance(child.tag, str) and not _ignored(child):
                visit(child, in_link)
            if child.tail:
                parts.append(_SPACE.sub(" ", child.tail))
                linked[0] += len(parts[-1]) if in_link else 0

    visit(element, False)
    text = plain("\n".join(_SPACE.sub(" ", line).strip() for line in "".join(parts).split("\n")))
    return text.strip(), min(linked[0], len(text.strip()))


def _lines(element: Element, links: list[str], indent: int,
           listing: bool = False) -> tuple[list[str], int, list[bool]]:
    """Lines of a list, quote or details: items as "- text", nested lists indented, as the Markdown reader writes.

    Returns the lines, the characters of link text, and for each list item whether it holds a link.
    """
    lines: list[str] = []
    linked = 0
    items: list[bool] = []
    pad = "  " * indent
    run: list[Element | str] = []  # loose text and inline elements: one line together

    def flush() -> None:
        nonlocal linked
        text, in_links = _inline_run(run, links)
        lines.extend(pad + line for line in text.splitlines() if line.strip())
        linked += in_links
        run.clear()

    for child in _flow(element, keep_inline=True):
        if isinstance(child, str) or (child.tag.lower() in INLINE and not (listing and child.tag.lower() == "li")):
            run.append(child)
            continue
        flush()
        tag = child.tag.lower()
        if listing and tag in ("li", "dt", "dd"):
            before = len(links)
            sub, sub_linked, _ = _item_lines(child, links, indent)
            items.append(len(links) > before)
            if sub:
                sub[0] = pad + "- " + sub[0][len(pad) + 2:]
            lines += sub
            linked += sub_linked
        elif tag in LISTS or tag == "blockquote":
            sub, sub_linked, sub_items = _lines(child, links, indent + (tag in LISTS), listing=tag in LISTS)
            lines += sub
            linked += sub_linked
            items += sub_items
        elif tag == "pre":
            lines += [pad + line for line in _pre_text(child).splitlines()]
        elif tag == "table":
            lines += [pad + line for line in _table_text(child, links).splitlines()]
        elif tag in HEADINGS or tag in PROSE:
            text, in_links = _inline(child, links)
            lines += [pad + line for line in text.splitlines() if line.strip()]
            linked += in_links
        else:
            sub, sub_linked, sub_items = _lines(child, links, indent)
            lines += sub
            linked += sub_linked
            items += sub_items
    flush()
    return lines, linked, items


def _item_lines(item: Element, links: list[str], indent: int) -> tuple[list[str], int, list[bool]]:
    """One list item: its own text on the first line(s), nested lists below, continuation lines indented."""
    lines: list[str] = []
    linked = 0
    inline: list[Element | str] = []

    def flush() -> None:
        nonlocal linked
        text, in_links = _inline_run(inline, links)
        if text:
            lines.extend("  " * indent + "  " + line for line in text.splitlines())
            linked += in_links
        inline.clear()

    for child in _flow(item, keep_inline=True):
        if isinstance(child, str) or child.tag.lower() in INLINE:
            inline.append(child)
            continue
        flush()
        nested = child.tag.lower() in LISTS
        if child.tag.lower() in PROSE or child.tag.lower() in HEADINGS:
            inline.append(child)  # a loose list's paragraph: its own line, read whole
            flush()
            continue
        sub, sub_linked, _ = _lines(child, links, indent + 1 if nested else indent, listing=nested)
        if not nested:
            sub = ["  " * indent + "  " + line.strip() for line in sub]
        lines += sub
        linked += sub_linked
    flush()
    return lines, linked, []


def _inline_run(run: list[Element | str], links: list[str]) -> tuple[str, int]:
    parts: list[str] = []
    linked = 0
    for piece in run:
        if isinstance(piece, str):
            parts.append(_SPACE.sub(" ", piece))
        else:
            text, in_links = _inline(piece, links)
            parts.append(text)
            linked += in_links
            if piece.tail and piece.tag.lower() in INLINE:  # a block's tail comes as its own piece
                parts.append(_SPACE.sub(" ", piece.tail))
    text = plain("\n".join(_SPACE.sub(" ", line).strip() for line in "".join(parts).split("\n")))
    return text.strip(), linked


def _flow(element: Element, keep_inline: bool = False) -> Iterator[Element | str]:
    """The element's loose text and its children that are not left out; tails of inline children stay with them."""
    if element.text and element.text.strip():
        yield element.text
    for child in element:
        if isinstance(child.tag, str) and not _ignored(child):
            yield child
            if keep_inline and child.tag.lower() in INLINE:
                continue  # _inline_run reads the tail with its element
        if child.tail and child.tail.strip():
            yield child.tail


def _pre_text(element: Element) -> str:
    return text_of(element).rstrip("\n")


def _is_mermaid(element: Element) -> bool:
    code = element.find("code")
    marks = [element.get("class"), element.get("data-lang"), *((code.get("class"), code.get("data-lang"))
                                                                if code is not None else ())]
    return "mermaid" in " ".join(m for m in marks if m).lower()


def _table_text(table: Element, links: list[str]) -> str:
    rows = []
    for row in table.iter("tr"):
        cells = [_inline(cell, links)[0].replace("\n", " ") for cell in row if cell.tag in ("td", "th")]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _sections(events: list[Event]) -> tuple[Section, ...]:
    """Events into sections: a heading opens one, its path is the chain of enclosing headings."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    anchor, blocks = "", list[Block]()
    for event in events:
        if isinstance(event, Block):
            blocks.append(event)
            continue
        if blocks:
            sections.append(Section(tuple(title for _, title in path), anchor, tuple(blocks)))
        level, title, heading_id = event
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, title))
        # A heading without an id cannot be linked to; its passages link to the page.
        anchor, blocks = heading_id, []
    if blocks:
        sections.append(Section(tuple(title for _, title in path), anchor, tuple(blocks)))
    return tuple(sections)
