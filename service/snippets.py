"""Snippets: the part of a passage with most query terms, HTML-escaped, matched words in <mark>."""

from __future__ import annotations

import html
import re

from index.lexical import stem, term_stems

_WORD = re.compile(r"\w+")


def snippet(text: str, query: str, width: int = 300) -> str:
    """Escape `text`, cut it to a window of about `width` characters, and mark the query's words."""
    terms = term_stems(query)
    # Stem each distinct word once; most words of a passage repeat or never match.
    hits = {word for word in set(_WORD.findall(text)) if stem(word) in terms}
    matches = [m for m in _WORD.finditer(text) if m.group() in hits] if hits else []
    start = _best_window(text, matches, width)
    end = min(len(text), start + width)
    if end < len(text):  # end on a word boundary
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    pieces = ["…" if start > 0 else ""]
    cursor = start
    for m in matches:
        if m.start() < start or m.end() > end:
            continue
        pieces += [html.escape(text[cursor : m.start()]), "<mark>", html.escape(m.group()), "</mark>"]
        cursor = m.end()
    pieces += [html.escape(text[cursor:end]), "…" if end < len(text) else ""]
    return "".join(pieces)


def _best_window(text: str, matches: list[re.Match[str]], width: int) -> int:
    if not matches or len(text) <= width:
        return 0
    best, best_count = 0, 0
    for i, m in enumerate(matches):
        count = sum(1 for other in matches[i:] if other.end() <= m.start() + width)
        if count > best_count:
            best, best_count = m.start(), count
    # start a little before the first match, on a word boundary, so the sentence reads naturally
    start = max(0, best - width // 5)
    space = text.find(" ", start)
    return 0 if start == 0 else (space + 1 if 0 <= space < best else start)
