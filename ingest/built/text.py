"""The text of built HTML elements as the Markdown reader writes it: one-line paragraphs, "- item" lists,
"a | b" table rows, code as written, and what a page leaves out of its text."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ingest.built.tree import Element, text_of

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
SPACE = re.compile(r"[ \t\r\n\f\v]+")
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "..."})


def plain(text: str) -> str:
    """Typographic quotes and ellipses as typed: generators curl them (Hugo's typographer); readers type them."""
    return text.translate(_TYPOGRAPHY)


def ignored(element: Element) -> bool:
    """Whether the element is left out of a page's text: site furniture, hidden, or marked to ignore."""
    tag = element.tag if isinstance(element.tag, str) else ""
    return (tag.lower() in LEFT_OUT or any(element.get(m) is not None for m in IGNORE_MARKERS)
            or element.get("hidden") is not None or element.get("aria-hidden") == "true")


def inline_text(element: Element, links: list[str]) -> tuple[str, int]:
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
            parts.append(SPACE.sub(" ", node.text))
            linked[0] += len(parts[-1]) if in_link else 0
        for child in node:
            if isinstance(child.tag, str) and not ignored(child):
                visit(child, in_link)
            if child.tail:
                parts.append(SPACE.sub(" ", child.tail))
                linked[0] += len(parts[-1]) if in_link else 0

    visit(element, False)
    text = plain("\n".join(SPACE.sub(" ", line).strip() for line in "".join(parts).split("\n")))
    return text.strip(), min(linked[0], len(text.strip()))


def block_lines(element: Element, links: list[str], indent: int,
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
        text, in_links = inline_run(run, links)
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
            sub, sub_linked, sub_items = block_lines(child, links, indent + (tag in LISTS), listing=tag in LISTS)
            lines += sub
            linked += sub_linked
            items += sub_items
        elif tag == "pre":
            lines += [pad + line for line in pre_text(child).splitlines()]
        elif tag == "table":
            lines += [pad + line for line in table_text(child, links).splitlines()]
        elif tag in HEADINGS or tag in PROSE:
            text, in_links = inline_text(child, links)
            lines += [pad + line for line in text.splitlines() if line.strip()]
            linked += in_links
        else:
            sub, sub_linked, sub_items = block_lines(child, links, indent)
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
        text, in_links = inline_run(inline, links)
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
        sub, sub_linked, _ = block_lines(child, links, indent + 1 if nested else indent, listing=nested)
        if not nested:
            sub = ["  " * indent + "  " + line.strip() for line in sub]
        lines += sub
        linked += sub_linked
    flush()
    return lines, linked, []


def inline_run(run: list[Element | str], links: list[str]) -> tuple[str, int]:
    parts: list[str] = []
    linked = 0
    for piece in run:
        if isinstance(piece, str):
            parts.append(SPACE.sub(" ", piece))
        else:
            text, in_links = inline_text(piece, links)
            parts.append(text)
            linked += in_links
            if piece.tail and piece.tag.lower() in INLINE:  # a block's tail comes as its own piece
                parts.append(SPACE.sub(" ", piece.tail))
    text = plain("\n".join(SPACE.sub(" ", line).strip() for line in "".join(parts).split("\n")))
    return text.strip(), linked


def _flow(element: Element, keep_inline: bool = False) -> Iterator[Element | str]:
    """The element's loose text and its children that are not left out; tails of inline children stay with them."""
    if element.text and element.text.strip():
        yield element.text
    for child in element:
        if isinstance(child.tag, str) and not ignored(child):
            yield child
            if keep_inline and child.tag.lower() in INLINE:
                continue  # inline_run reads the tail with its element
        if child.tail and child.tail.strip():
            yield child.tail


def pre_text(element: Element) -> str:
    return text_of(element).rstrip("\n")


def is_mermaid(element: Element) -> bool:
    code = element.find("code")
    marks = [element.get("class"), element.get("data-lang"), *((code.get("class"), code.get("data-lang"))
                                                                if code is not None else ())]
    return "mermaid" in " ".join(m for m in marks if m).lower()


def table_text(table: Element, links: list[str]) -> str:
    rows = []
    for row in table.iter("tr"):
        cells = [inline_text(cell, links)[0].replace("\n", " ") for cell in row if cell.tag in ("td", "th")]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)
