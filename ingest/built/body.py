"""A built page's readable body: which element holds the article, and its text as sections of clean blocks.

The body is the element marked `data-casebook-body` (or Pagefind's `data-pagefind-body`), else the page's
one `<article>`, else `<main>` (or `role="main"`), else `<body>`. Inside it, navigation, headers, footers,
asides, forms, scripts and anything marked `data-casebook-ignore` (or `data-pagefind-ignore`) are left out.
Sections start at headings; a heading's `id` is its anchor, so `url#id` deep links land on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.built.text import (
    HEADINGS,
    INLINE,
    LISTS,
    PROSE,
    SPACE,
    block_lines,
    ignored,
    inline_text,
    is_mermaid,
    plain,
    pre_text,
    table_text,
)
from ingest.built.tree import Element, elements, line_of
from ingest.document import Block, BlockKind, Heading, Section, sections_of
from ingest.markdown import NAV_LINK_SHARE, NAV_LIST_LINK_SHARE

BODY_MARKERS = ("data-casebook-body", "data-pagefind-body")
MAX_DEPTH = 200  # deeper nesting is no page a generator writes; past it the walk would only burn stack
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
    articles = [a for a in root.iter("article") if not ignored(a)]
    if len(articles) == 1:
        return articles[0]
    main = elements(root, "//main | //*[@role='main']")
    if main:
        return main[0]
    return root.find("body")


def read_body(element: Element) -> Body:
    """Cut the body element into sections of clean blocks (the title banner heading left out)."""
    walk = _Walk()
    walk.container(element, 0)
    walk.flush()
    articles = sum(1 for a in element.iter("article") if a is not element)
    return Body(sections_of(walk.events), tuple(walk.links), walk.prose_words, articles)


def has_marker(root: Element, markers: tuple[str, ...]) -> bool:
    """Whether any element of the page carries one of the attributes."""
    return any(elements(root, f"//*[@{marker}]") for marker in markers)


# An event is a Block, or a heading (level, text, id or ""). A heading without an id cannot be linked to;
# its passages link to the page.
Event = Block | Heading


@dataclass
class _Walk:
    """A depth-first walk of the body that emits blocks and headings in reading order."""

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
            if isinstance(child.tag, str) and not ignored(child):
                self.child(child, depth + 1)
            self.loose(child.tail, line_of(child), 0)

    def child(self, child: Element, depth: int) -> None:
        tag = child.tag.lower()
        line = line_of(child)
        if tag in INLINE:
            text, linked = inline_text(child, self.links)
            self.loose(text, line, linked)
            return
        self.flush()
        if tag in HEADINGS:
            self.heading(child, HEADINGS[tag])
        elif tag == "pre":
            self.block("mermaid" if is_mermaid(child) else "code", pre_text(child), line)
        elif tag == "table":
            self.block("table", table_text(child, self.links), line)
        elif tag == "details":
            self.block("faq", "\n".join(block_lines(child, self.links, 0)[0]), line)
        elif tag in PROSE:
            text, linked = inline_text(child, self.links)
            self.prose([text], line, linked, [])
        elif tag in LISTS or tag == "blockquote":
            lines, linked, items = block_lines(child, self.links, 0, listing=tag in LISTS)
            self.prose(lines, line, linked, items)
        else:
            self.container(child, depth)
            self.flush()

    def heading(self, element: Element, level: int) -> None:
        text = _ANCHOR_MARKS.sub("", inline_text(element, [])[0])
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
            text = plain(SPACE.sub(" ", "".join(self.pending)).strip())
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
