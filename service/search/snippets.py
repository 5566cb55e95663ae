"""Snippets: the part of a passage with most query terms, HTML-escaped, matched words in <mark>."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Collection, Iterable

from index.text import stem

_WORD = re.compile(r"\w+")


class WordForms:
    """An index version's words (as written) by stem: a query's words to mark, without stemming each word.

    Stemming every word of ten passages per search cost ~0.3 ms; a set lookup per word costs half of
    that, once this map is built (a few MB for the real blog's 31,000 distinct words).
    """

    def __init__(self, words: Iterable[str]) -> None:
        """Args: words: the version's words, as spelling knows them (index/spelling.py, letters only)."""
        forms: defaultdict[str, list[str]] = defaultdict(list)
        for word in words:
            forms[stem(word)].append(word)
        self._forms = {s: tuple(words) for s, words in forms.items()}

    def marked(self, terms: Iterable[str], text: str) -> frozenset[str]:
        """The words BM25 would match to one of a query's terms (stems), as the blog writes them; and the words of
        its text that hold a digit or underscore ("p99", "max_retries"; not in the vocabulary), as typed."""
        return frozenset([*(w for term in terms for w in self._forms.get(term, ())),
                          *(w for w in _WORD.findall(text) if not w.isalpha())])


def snippet(text: str, marked: Collection[str], width: int = 300) -> str:
    """Escape `text`, cut it to a window of about `width` characters, and mark the words in `marked`."""
    spans = [m.span() for m in _WORD.finditer(text) if m.group() in marked] if marked else []
    start = _best_window(text, spans, width)
    end = min(len(text), start + width)
    if end < len(text):  # end on a word boundary
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    pieces = ["…" if start > 0 else ""]
    cursor = start
    for left, right in spans:
        if left < start or right > end:
            continue
        pieces += [html.escape(text[cursor:left]), "<mark>", html.escape(text[left:right]), "</mark>"]
        cursor = right
    pieces += [html.escape(text[cursor:end]), "…" if end < len(text) else ""]
    return "".join(pieces)


def _best_window(text: str, spans: list[tuple[int, int]], width: int) -> int:
    """Where a window of `width` characters holding the most matched words begins."""
    if not spans or len(text) <= width:
        return 0
    best, best_count, last = 0, 0, 0
    for first, (left, _) in enumerate(spans):  # slide: `last` is one past the window's last match
        last = max(last, first)
        while last < len(spans) and spans[last][1] <= left + width:
            last += 1
        if last - first > best_count:
            best, best_count = left, last - first
    # start a little before the first match, on a word boundary, so the sentence reads naturally
    start = max(0, best - width // 5)
    space = text.find(" ", start)
    return 0 if start == 0 else (space + 1 if 0 <= space < best else start)
