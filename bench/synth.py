"""A synthetic blog N times the real one, written from OUR content/ text by a word-level Markov chain.

Recombining whole paragraphs would repeat sentences across thousands of posts, and ingest rightly drops
those as boilerplate; a second-order Markov chain over our own posts gives new sentences with the same
vocabulary, sentence lengths and heading rhythm, so chunking, BM25 and the index see realistic work.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from pathlib import Path

_FRONT = re.compile(r"\A---\n.*?\n---\n", re.S)


class Chain:
    """Second-order word Markov chain trained on the Markdown prose of a content folder."""

    def __init__(self, content: Path, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.next: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
        self.headings: list[str] = []
        self.words: list[str] = []
        for path in sorted(content.rglob("*.md")):
            body = _FRONT.sub("", path.read_text(encoding="utf-8"))
            for line in body.splitlines():
                if line.startswith("#"):
                    self.headings.append(line.lstrip("#").strip())
                elif line.strip() and not line.startswith(("```", "|", "{{")):
                    words = line.split()
                    self.words += words
                    for a, b, c in zip(["", *words], [*words], words[1:], strict=False):
                        self.next[(a, b)].append(c)
        self.starts = [k for k in self.next if k[0] == ""]

    def sentence(self, limit: int = 40) -> str:
        """One generated sentence (stops at a full stop or the word limit)."""
        a, b = self.rng.choice(self.starts)
        out = [b]
        while len(out) < limit and not out[-1].endswith((".", "?", "!")):
            options = self.next.get((a, b))
            if not options:
                break
            a, b = b, self.rng.choice(options)
            out.append(b)
        return " ".join(out).rstrip(".") + "."

    def post(self, n: int, target_bytes: int) -> str:
        """One Markdown post with front matter, headings and paragraphs, about target_bytes long."""
        title = self.rng.choice(self.headings) or "Notes"
        tags = sorted({w.strip(".,:;()`*").lower() for w in self.rng.sample(self.words, 3)} - {""})
        date = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}"
        parts = [f'---\ntitle: "{title.replace(chr(34), "")} {n}"\ndate: "{date}"\ntags: {tags!r}\n---\n']
        size = 0
        while size < target_bytes:
            if self.rng.random() < 0.2:
                parts.append(f"\n## {self.rng.choice(self.headings)}\n")
            paragraph = " ".join(self.sentence() for _ in range(self.rng.randint(2, 6)))
            parts.append("\n" + paragraph + "\n")
            size += len(paragraph)
        return "".join(parts)


def write_site(content: Path, out: Path, posts: int, avg_bytes: int, seed: int = 11) -> Path:
    """Write `posts` generated posts into out/content/posts and return out (a Hugo-shaped site folder)."""
    chain = Chain(content, seed)
    folder = out / "content" / "posts"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(posts):
        size = int(avg_bytes * chain.rng.uniform(0.4, 1.6))
        (folder / f"synthetic-{n:06d}.md").write_text(chain.post(n, size), encoding="utf-8")
    return out
