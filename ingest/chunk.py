"""Sections into token-sized passages: never across headings, split on sentences, with a small overlap."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from index.records import PassageKind
from index.text import count_tokens, encoding, split_sentences
from ingest.document import Block, Post, Section

# Title and headings tell the model what a passage is about (a bare "It scales to 10k" says little);
# capped so a long title cannot crowd out the text.
MAX_CONTEXT_TOKENS = 40
MIN_TEXT_TOKENS = 48
# A passage's kind is that of most of its tokens; link lists make navigation, prose and the rest "text".
_PASSAGE_KIND: dict[str, PassageKind] = {"code": "code", "table": "table", "faq": "faq", "links": "nav"}


@dataclass(frozen=True)
class PassageDraft:
    """A passage before it has an id: its text, where it sits, and what gets embedded."""

    post_path: str
    heading: str
    anchor: str
    text: str
    kind: PassageKind
    n_tokens: int
    context: str  # "Post title > Heading > Subheading", put in front of the text before embedding

    @property
    def embed_text(self) -> str:
        """What the model sees: the context line, then the text."""
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(frozen=True)
class _Unit:
    text: str
    kind: str
    tokens: int


def chunk_post(post: Post, max_tokens: int, overlap_tokens: int, drop: Callable[[str], bool]) -> list[PassageDraft]:
    """Cut every section of a post into passages of at most `max_tokens` (sentences dropped by `drop`)."""
    drafts: list[PassageDraft] = []
    for section in post.sections:
        heading = " > ".join(section.heading_path)
        context = passage_context(post.meta.title, section.heading_path)
        # The budget covers what the model sees, so the context line is paid for by the text.
        budget = max(MIN_TEXT_TOKENS, max_tokens - count_tokens(context) - 1)
        units = [u for block in section.blocks for u in _units(block, budget, drop)]
        for group in _pack(units, budget, min(overlap_tokens, budget // 3)):
            text = "\n".join(u.text for u in group)
            drafts.append(
                PassageDraft(post.meta.path, heading, section.anchor, text, _kind(group), count_tokens(text), context)
            )
    return drafts


def passage_context(title: str, heading_path: tuple[str, ...]) -> str:
    """The line put before a passage: title and heading path, shortened to the innermost heading if long."""
    context = " > ".join((title, *heading_path))
    if count_tokens(context) <= MAX_CONTEXT_TOKENS:
        return context
    tail = heading_path[-1] if heading_path else ""
    ids = encoding().encode(" > ".join(filter(None, (title, tail))), disallowed_special=())
    return encoding().decode(ids[:MAX_CONTEXT_TOKENS])


def split_draft(draft: PassageDraft) -> list[PassageDraft]:
    """Halve a passage on a sentence (or token) boundary; used when the model's tokenizer finds it too long."""
    sentences = split_sentences(draft.text)
    if len(sentences) > 1:
        middle = len(sentences) // 2
        halves = [" ".join(sentences[:middle]), " ".join(sentences[middle:])]
    else:
        tokens = encoding().encode(draft.text, disallowed_special=())
        middle = len(tokens) // 2
        halves = [encoding().decode(tokens[:middle]), encoding().decode(tokens[middle:])]
    return [
        PassageDraft(draft.post_path, draft.heading, draft.anchor, h, draft.kind, count_tokens(h), draft.context)
        for h in halves
        if h.strip()
    ]


def _units(block: Block, max_tokens: int, drop: Callable[[str], bool]) -> Iterable[_Unit]:
    # Code and tables split on lines, prose on sentences; a piece longer than the budget is cut by tokens.
    if block.kind in ("code", "mermaid", "table"):
        marker = {"code": "[code]", "mermaid": "[diagram]", "table": ""}[block.kind]
        pieces = block.text.splitlines()
        kind = "table" if block.kind == "table" else "code"
        if marker:
            pieces = [marker, *pieces]
    else:
        pieces = [s for s in split_sentences(block.text) if not drop(s)]
        kind = block.kind
    for piece in pieces:
        tokens = count_tokens(piece)
        if tokens <= max_tokens:
            yield _Unit(piece, kind, tokens)
            continue
        ids = encoding().encode(piece, disallowed_special=())
        for start in range(0, len(ids), max_tokens):
            part = encoding().decode(ids[start : start + max_tokens])
            yield _Unit(part, kind, count_tokens(part))


def _pack(units: list[_Unit], max_tokens: int, overlap_tokens: int) -> Iterable[list[_Unit]]:
    """Greedy packing; each new passage repeats the previous one's last units up to the overlap."""
    current: list[_Unit] = []
    size = 0
    for unit in units:
        if current and size + unit.tokens > max_tokens:
            yield current
            current, size = _overlap(current, overlap_tokens, max_tokens - unit.tokens)
        current.append(unit)
        size += unit.tokens
    if current:
        yield current


def _overlap(previous: list[_Unit], overlap_tokens: int, room: int) -> tuple[list[_Unit], int]:
    # Overlap keeps a sentence that straddles a cut findable from both sides, at ~15% extra tokens.
    kept: list[_Unit] = []
    size = 0
    for unit in reversed(previous):
        if size + unit.tokens > min(overlap_tokens, room):
            break
        kept.insert(0, unit)
        size += unit.tokens
    return kept, size


def _kind(group: list[_Unit]) -> PassageKind:
    totals: dict[str, int] = {}
    for unit in group:
        totals[unit.kind] = totals.get(unit.kind, 0) + unit.tokens
    return _PASSAGE_KIND.get(max(totals, key=lambda k: totals[k]), "text")


def section_text(section: Section) -> str:
    """All text of a section, for duplicate and boilerplate detection."""
    return "\n".join(b.text for b in section.blocks)
