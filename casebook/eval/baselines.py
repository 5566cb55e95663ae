"""Two reference systems built in-process from the content folder: BM25 over whole posts, and naive dense."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss
import numpy as np

from casebook.eval.questions import Outcome
from index import DEFAULT_MODEL, Embedder
from index.embedder import ModelRuntime
from index.text import tokenize
from ingest.document import Post
from ingest.errors import PostError
from ingest.hugo import discover_posts, read_post
from ingest.site import SiteConfig, read_site_config

WINDOW_WORDS = 200
POOL = 20  # posts kept per query: the top 10 are scored, the rest only feed the series ranking


@dataclass(frozen=True)
class Corpus:
    """The published posts of a site: paths, their series and their whole readable text."""

    paths: tuple[str, ...]
    series: tuple[tuple[str, ...], ...]
    texts: tuple[str, ...]


def read_corpus(content_dir: Path, site_dir: Path | None = None) -> Corpus:
    """Parse every post as ingest does (drafts and broken posts left out) into plain text."""
    site = read_site_config(site_dir) if site_dir else SiteConfig()
    posts: list[Post] = []
    for path in discover_posts(content_dir):
        try:
            post = read_post(path, content_dir, site)
        except PostError:
            continue
        if not post.draft:
            posts.append(post)
    return Corpus(tuple(p.meta.path for p in posts), tuple(p.meta.series for p in posts),
                  tuple(post_text(p) for p in posts))


def post_text(post: Post) -> str:
    """Title, description, headings and every block of a post, as one text."""
    parts = [post.meta.title, post.meta.description]
    for section in post.sections:
        if section.heading_path:
            parts.append(section.heading_path[-1])
        parts.extend(block.text for block in section.blocks)
    return "\n".join(p for p in parts if p)


def rank_series(ranked_posts: list[int], corpus: Corpus) -> list[str]:
    """Series of the ranked posts, each at the rank of its best post (a hub counts for its own series)."""
    return list(dict.fromkeys(slug for i in ranked_posts for slug in corpus.series[i]))


class Bm25Posts:
    """BM25 over whole posts with the index's own stemming and stop words."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self._bm25 = bm25s.BM25()
        self._bm25.index(tokenize(list(corpus.texts)), show_progress=False)

    def __call__(self, query: str) -> Outcome:
        """Rank posts by their BM25 score for the query."""
        started = time.perf_counter()
        scores = np.asarray(self._bm25.get_scores(tokenize([query])[0]))
        top = [int(i) for i in np.argsort(-scores, kind="stable")[:POOL] if scores[i] > 0]
        return Outcome([self.corpus.paths[i] for i in top], rank_series(top, self.corpus),
                       latency_ms=(time.perf_counter() - started) * 1000,
                       top_score=float(scores[top[0]]) if top else 0.0)


class NaiveDense:
    """Fixed 200-word windows embedded with MiniLM in a flat FAISS index; a post scores its best window."""

    def __init__(self, corpus: Corpus, runtime: ModelRuntime, model: str = DEFAULT_MODEL,
                 cache_dir: Path | None = None) -> None:
        self.corpus = corpus
        self.embedder = Embedder(model, runtime)
        windows: list[str] = []
        owners: list[int] = []
        for i, text in enumerate(corpus.texts):
            words = text.split()
            for start in range(0, max(len(words), 1), WINDOW_WORDS):
                windows.append(" ".join(words[start:start + WINDOW_WORDS]))
                owners.append(i)
        self.owners = np.asarray(owners)
        vectors = self._embed(windows, model, cache_dir)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def _embed(self, windows: list[str], model: str, cache_dir: Path | None) -> np.ndarray:
        # Embedding the whole blog takes minutes on a shared CPU; the same windows give the same vectors.
        key = hashlib.sha256("\0".join([model, *windows]).encode()).hexdigest()[:16]
        cached = cache_dir / f"naive-dense-{key}.npy" if cache_dir else None
        if cached and cached.is_file():
            stored: np.ndarray = np.load(cached)
            return stored
        vectors = self.embedder.encode(windows)
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.save(cached, vectors)
        return vectors

    def __call__(self, query: str) -> Outcome:
        """Rank posts by the cosine of their best window to the query."""
        started = time.perf_counter()
        vector = self.embedder.encode([query])
        scores, ids = self.index.search(vector, min(self.index.ntotal, POOL * 20))
        # Hits come best first, so a post's first appearance is its best window.
        top = list(dict.fromkeys(int(self.owners[i]) for i in ids[0] if i >= 0))[:POOL]
        return Outcome([self.corpus.paths[i] for i in top], rank_series(top, self.corpus),
                       latency_ms=(time.perf_counter() - started) * 1000, top_score=float(scores[0][0]))
