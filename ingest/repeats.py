"""What a real blog repeats: boilerplate sentences across many posts, and near-copies of whole posts."""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable

from ingest.chunk import section_text, split_sentences
from ingest.document import Post

_WORD = re.compile(r"\w+")
SHINGLE_WORDS = 8
COPY_GROUP_LIMIT = 20  # an 8-word run held by more posts than this is boilerplate, not a sign of copying


def normalise(sentence: str) -> str:
    """The form sentences are compared in: lower case, words only."""
    return " ".join(_WORD.findall(sentence.lower()))


def find_boilerplate(posts: Iterable[Post], min_share: float = 0.05, min_posts: int = 3) -> set[str]:
    """Normalised sentences that appear in at least `min_share` of the posts (and `min_posts` posts)."""
    posts = list(posts)
    seen_in: Counter[str] = Counter()
    for post in posts:
        sentences = {
            normalise(s)
            for section in post.sections
            for block in section.blocks
            if block.kind in ("text", "links", "faq")
            for s in split_sentences(block.text)
        }
        seen_in.update(s for s in sentences if s)
    threshold = max(min_posts, math.ceil(min_share * len(posts)))
    return {s for s, n in seen_in.items() if n >= threshold}


def find_near_duplicates(posts: Iterable[Post], min_containment: float = 0.8) -> dict[str, str]:
    """Map each post that is (nearly) contained in another to its group's representative post.

    Containment, not Jaccard: a monthly digest holding a daily entry, or a copy with a few edits,
    shares most of the smaller post's 8-word runs. Groups are closed transitively.
    """
    posts = list(posts)
    shingles = {post.meta.path: _shingles(post) for post in posts}
    metas = {post.meta.path: post.meta for post in posts}
    holders: defaultdict[int, list[str]] = defaultdict(list)
    for path, marks in shingles.items():
        for mark in marks:
            holders[mark].append(path)
    # Left in, each holder of a widely shared run would be compared with all the others, which grows
    # with the square of the blog (at 3,360 synthetic posts: 139 s without the cap, 28 s with it).
    common = {mark for mark, paths in holders.items() if len(paths) > COPY_GROUP_LIMIT}
    if common:
        shingles = {path: marks - common for path, marks in shingles.items()}
    parent = {path: path for path in shingles}

    def root(path: str) -> str:
        while parent[path] != path:
            parent[path] = parent[parent[path]]
            path = parent[path]
        return path

    for path, marks in shingles.items():
        if len(marks) < 20:  # too short to call a copy
            continue
        shared: Counter[str] = Counter(other for mark in marks for other in holders[mark] if other != path)
        for other, count in shared.items():
            if count / min(len(marks), len(shingles[other])) >= min_containment:
                parent[root(path)] = root(other)
    groups: defaultdict[str, list[str]] = defaultdict(list)
    for path in shingles:
        groups[root(path)].append(path)
    duplicate_of: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        # The representative: a post outside research/ notes, then the original (oldest), then the shortest path.
        keeper = min(members, key=lambda p: (metas[p].section == "research", metas[p].date or "9999", len(p), p))
        duplicate_of.update({p: keeper for p in members if p != keeper})
    return duplicate_of


def _shingles(post: Post) -> set[int]:
    words = _WORD.findall(" ".join(section_text(s) for s in post.sections).lower())
    return {zlib.crc32(" ".join(words[i : i + SHINGLE_WORDS]).encode()) for i in range(len(words) - SHINGLE_WORDS + 1)}
