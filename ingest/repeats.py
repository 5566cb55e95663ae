"""What a real blog repeats: boilerplate sentences across many posts, and near-copies of whole posts."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

import numpy as np

from index.text import split_sentences
from ingest.chunk import section_text
from ingest.document import Post

_WORD = re.compile(r"\w+")
SHINGLE_WORDS = 8
MIN_SHINGLES = 20  # a post with fewer 8-word runs is too short to call a copy
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
    paths = [post.meta.path for post in posts]
    metas = {post.meta.path: post.meta for post in posts}
    marks = [_shingles(post) for post in posts]
    owner = np.repeat(np.arange(len(posts)), [len(m) for m in marks])
    flat = np.concatenate(marks) if marks else np.zeros(0, dtype=np.uint64)
    order = np.argsort(flat, kind="stable")
    flat, owner = flat[order], owner[order]
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]]) if len(flat) else np.zeros(0, dtype=np.int64)
    holders = np.diff(np.r_[starts, len(flat)])
    # A run of words held by many posts is boilerplate, not a sign of copying; counted, each of its
    # holders would be compared with all the others, which grows with the square of the blog.
    common = np.repeat(holders > COPY_GROUP_LIMIT, holders)
    sizes = np.bincount(owner[~common], minlength=len(posts))
    pairable = (holders > 1) & (holders <= COPY_GROUP_LIMIT)
    shared: Counter[tuple[int, int]] = Counter()
    for start, count in zip(starts[pairable].tolist(), holders[pairable].tolist(), strict=True):
        shared.update(itertools.combinations(owner[start : start + count].tolist(), 2))
    parent = list(range(len(posts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (a, b), count in shared.items():
        if max(sizes[a], sizes[b]) >= MIN_SHINGLES and count / min(sizes[a], sizes[b]) >= min_containment:
            parent[root(a)] = root(b)
    groups: defaultdict[int, list[str]] = defaultdict(list)
    for i, path in enumerate(paths):
        groups[root(i)].append(path)
    duplicate_of: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        # The representative: a post outside research/ notes, then the original (oldest), then the shortest path.
        keeper = min(members, key=lambda p: (metas[p].section == "research", metas[p].date or "9999", len(p), p))
        duplicate_of.update({p: keeper for p in members if p != keeper})
    return duplicate_of


def _shingles(post: Post) -> np.ndarray:
    """The post's distinct 8-word runs, hashed (within one process: Python's string hash is salted)."""
    words = _WORD.findall(" ".join(section_text(s) for s in post.sections).lower())
    if len(words) < SHINGLE_WORDS:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)
    runs = np.zeros(len(words) - SHINGLE_WORDS + 1, dtype=np.uint64)
    for offset in range(SHINGLE_WORDS):  # a polynomial hash of each run, wrapping at 64 bits
        runs = runs * np.uint64(1_000_003) + hashes[offset : offset + len(runs)]
    return np.unique(runs)
