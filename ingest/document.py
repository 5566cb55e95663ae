"""What the parser hands the chunker: a post with its metadata and its body cut into sections."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from index.records import PostMeta

BlockKind = Literal["text", "links", "code", "mermaid", "table", "faq"]


@dataclass(frozen=True)
class Block:
    """One block of a section's body, already cleaned to readable text."""

    kind: BlockKind  # "text" paragraphs/lists/quotes; "links" mostly link text; "code"/"mermaid"; "table"; "faq"
    text: str  # clean text: no markdown syntax, no HTML, links reduced to their text
    line: int  # 1-based line in the source file where the block starts


@dataclass(frozen=True)
class Section:
    """The text under one heading, up to the next heading of any level."""

    heading_path: tuple[str, ...]  # ("Architecture", "Cell routing"); () before the first heading
    anchor: str  # Hugo auto id of the last heading ("cell-routing"); "" before the first heading
    blocks: tuple[Block, ...]


Heading = tuple[int, str, str]  # (level, heading text, anchor)


def sections_of(events: Iterable[Block | Heading]) -> tuple[Section, ...]:
    """Blocks and headings in page order into sections: a heading opens one, its path the enclosing headings."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    anchor, blocks = "", list[Block]()
    for event in events:
        if isinstance(event, Block):
            blocks.append(event)
            continue
        if blocks:
            sections.append(Section(tuple(title for _, title in path), anchor, tuple(blocks)))
        level, title, anchor = event
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, title))
        blocks = []
    if blocks:
        sections.append(Section(tuple(title for _, title in path), anchor, tuple(blocks)))
    return tuple(sections)


@dataclass(frozen=True)
class Post:
    """A parsed source file: its public metadata, its sections, and whether it is a draft."""

    meta: PostMeta
    sections: tuple[Section, ...]
    draft: bool
