"""run_ingest: discover → parse → drop repeats → chunk → embed (reusing unchanged vectors) → publish."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import numpy as np

from index import (
    Embedder,
    IndexBuild,
    IndexCorrupt,
    IndexMismatch,
    IndexMissing,
    Manifest,
    Passage,
    PostMeta,
    SkippedPost,
)
from index.embedder import TextEncoder
from index.location import open_store
from index.store import Store, StoreWriter
from index.vectors import choose_kind
from ingest.built import discover_pages, read_built_site
from ingest.chunk import PassageDraft, chunk_post, split_draft
from ingest.document import Post
from ingest.errors import IngestError, PostError
from ingest.hugo import discover_posts, file_digest, read_post
from ingest.repeats import find_boilerplate, find_near_duplicates, normalise
from ingest.series import collect_series
from ingest.settings import IngestSettings
from ingest.site import SiteConfig, read_site_config

# Bump when parsing or chunking changes what an unchanged site produces, so re-runs rebuild.
INGEST_VERSION = 7
BUILT_READER = "built-html"  # manifest.extra["reader"] of an index read from a generator's output folder


@dataclass(frozen=True, kw_only=True)
class IngestReport:
    """What one run did, for the summary line, `--json` and the benchmarks."""

    version: str | None
    up_to_date: bool
    posts: int
    passages: int
    series: int
    seconds: float
    skipped: list[SkippedPost] = field(default_factory=list)
    drafts: int = 0
    embedded: int = 0
    reused: int = 0
    split_for_model: int = 0
    truncated: int = 0
    boilerplate_sentences: int = 0
    near_duplicates: int = 0
    tokens: int = 0
    embed_seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    not_articles: list[SkippedPost] = field(default_factory=list)  # built pages left out: lists, redirects ...


@dataclass(frozen=True)
class Sources:
    """The content folder as files and hashes: what --check compares with the published index."""

    site: SiteConfig
    files: dict[str, str]  # content-relative path -> sha256 of bytes
    fingerprint: str  # over files, site config and settings

    @classmethod
    def scan(cls, settings: IngestSettings) -> Sources:
        """Hash every Markdown file under the content folder (or HTML file of the built site), plus the site config."""
        folder = settings.built_dir or settings.content_dir
        if not folder.is_dir():
            kind = "built site" if settings.built_dir else "content"
            raise IngestError(f"{folder}: {kind} folder not found")
        site = read_site_config(settings.site_dir) if settings.site_dir else SiteConfig("/", {}, True)
        found = discover_pages(folder) if settings.built_dir else discover_posts(folder)
        files = {path.relative_to(folder).as_posix(): file_digest(path) for path in found}
        # A precision other than fp32 joins the fingerprint, so switching rebuilds; fp32 indexes keep theirs.
        precision = [] if settings.embed_precision == "fp32" else [settings.embed_precision]
        # `auto` hashes as flat, what every index was built with before it existed, so those stay current; the
        # shape it picks depends on the passage count, which the files decide (and `index_current` checks).
        kind = "flat" if settings.index_kind == "auto" else settings.index_kind
        reader = [BUILT_READER, settings.base_url] if settings.built_dir else []
        blob = json.dumps([INGEST_VERSION, files, repr(site), settings.model, settings.chunker, kind, *precision,
                           *reader], sort_keys=True)
        return cls(site, files, hashlib.sha256(blob.encode()).hexdigest())


def run_ingest(
    settings: IngestSettings, embedder: TextEncoder | None = None, progress: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> IngestReport:
    """Build and publish a new index version from the content folder; skip broken posts and report them."""
    started = time.perf_counter()
    stage = on_stage or (lambda name: None)
    store = settings.store()
    try:
        return _run(settings, store, embedder, progress, stage, started)
    finally:
        store.close()


def _run(settings: IngestSettings, store: Store, embedder: TextEncoder | None, progress: bool,
         stage: Callable[[str], None], started: float) -> IngestReport:
    """The ingest itself, under the store's write lock."""
    timings: dict[str, float] = {}
    with store.lock(settings.lock_wait_seconds) as writer:
        sources = Sources.scan(settings)
        published = _published_manifest(store)
        if published is not None and published.content_hash == sources.fingerprint and index_current(published,
                                                                                                     settings):
            _keep_model(store, writer, settings, embedder)  # an index from before models/ was kept gains it here
            counts = published.counts
            # The broken posts are still broken: --strict must fail again on an unchanged site.
            return IngestReport(version=published.version, up_to_date=True, posts=counts["posts"],
                                passages=counts["passages"], series=counts["series"], reused=counts["passages"],
                                seconds=time.perf_counter() - started, skipped=store.skipped(published.version))
        stage("parse")
        posts, skipped, drafts, not_articles, base_url = _read(settings, sources.site)
        timings["parse"] = time.perf_counter() - started
        boilerplate = find_boilerplate(posts)
        duplicates = find_near_duplicates(posts)
        posts = [replace(p, meta=replace(p.meta, duplicate_of=duplicates.get(p.meta.path))) for p in posts]
        stage("chunk")
        drafts_ = [d for p in posts for d in chunk_post(p, settings.chunk_tokens, settings.overlap_tokens,
                                                          lambda s: normalise(s) in boilerplate)]
        # The copy an earlier run left beside the versions loads without PyTorch and exports nothing.
        embedder = embedder or Embedder(settings.model, settings.runtime,
                                        store.model_path(settings.model, settings.embed_precision))
        known = _reusable(store, settings)
        embedded_before = {i for i, d in enumerate(drafts_) if _embed_key(settings, d) in known}
        drafts_, split_count, truncated = _fit_model(drafts_, embedder, embedded_before)
        timings["chunk"] = time.perf_counter() - started - timings["parse"]
        stage("embed")
        embed_started = time.perf_counter()
        keys = [_embed_key(settings, d) for d in drafts_]
        vectors, reused = _embed(drafts_, keys, embedder, settings, known, progress)
        embed_seconds = time.perf_counter() - embed_started
        stage("publish")
        metas = [p.meta for p in posts]
        passages = [Passage(id=i, post_path=d.post_path, heading=d.heading, anchor=d.anchor, text=d.text,
                            kind=d.kind, n_tokens=d.n_tokens) for i, d in enumerate(drafts_)]
        series = collect_series(metas, base_url)
        version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + sources.fingerprint[:8]
        kind, why = choose_kind(settings.index_kind, len(passages))
        manifest = Manifest(
            version=version, model=settings.model, dim=embedder.dim, index_kind=kind,
            chunker=settings.chunker,
            counts={"posts": len(metas), "passages": len(passages), "series": len(series), "skipped": len(skipped)},
            content_hash=sources.fingerprint, built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            seconds=round(time.perf_counter() - started, 3), precision=settings.embed_precision,
            extra={"sources": sources.files, "index_kind": why,
                   **({"reader": BUILT_READER} if settings.built_dir else {})},
        )
        publish_started = time.perf_counter()
        written = writer.write(IndexBuild(
            manifest=manifest, posts=metas, series=series, passages=passages, embed_keys=keys, vectors=vectors,
            lexical_texts=[d.embed_text for d in drafts_], post_texts=_post_texts(metas, drafts_),
            skipped=skipped))
        _keep_model(store, writer, settings, embedder)  # before publishing: a server may load the version at once
        writer.publish(written)
        timings["publish"] = time.perf_counter() - publish_started
    return IngestReport(
        version=version, up_to_date=False, posts=len(metas), passages=len(passages), series=len(series),
        seconds=time.perf_counter() - started, skipped=skipped, drafts=drafts, embedded=len(drafts_) - reused,
        reused=reused, split_for_model=split_count, truncated=truncated, boilerplate_sentences=len(boilerplate),
        near_duplicates=len(duplicates), tokens=sum(d.n_tokens for d in drafts_), embed_seconds=embed_seconds,
        timings=timings, not_articles=not_articles,
    )


def index_current(published: Manifest, settings: IngestSettings) -> bool:
    """Whether the published version has the index shape these settings give its passage count."""
    return published.index_kind == choose_kind(settings.index_kind, published.counts.get("passages", 0))[0]


def _keep_model(store: Store, writer: StoreWriter, settings: IngestSettings, embedder: TextEncoder | None) -> None:
    """Keep the model's ONNX export and tokenizer with the index, so a server without PyTorch runs it."""
    if store.model_path(settings.model, settings.embed_precision) is not None:
        return
    embedder = embedder or Embedder(settings.model, settings.runtime)
    serving_files = getattr(embedder, "serving_files", None)  # a stand-in encoder (tests, bench) has none
    if serving_files is not None:
        writer.keep_model(settings.model, serving_files(), settings.embed_precision)


def _post_texts(metas: list[PostMeta], drafts: list[PassageDraft]) -> list[str]:
    """Each post's whole text (title, description, passages), in `metas` order, for post-level BM25."""
    bodies: dict[str, list[str]] = {m.path: [m.title, m.description] for m in metas}
    for draft in drafts:
        bodies[draft.post_path].append(draft.text)
    return ["\n".join(bodies[m.path]) for m in metas]


def _read(settings: IngestSettings,
          site: SiteConfig) -> tuple[list[Post], list[SkippedPost], int, list[SkippedPost], str]:
    """The reader the settings name: posts, broken files, drafts left out, pages that are no article, base URL."""
    if settings.built_dir is not None:
        built = read_built_site(settings.built_dir, settings.base_url)
        return built.posts, built.broken, 0, built.not_articles, built.base_url
    posts, skipped, drafts = _read_posts(settings, site)
    return posts, skipped, drafts, [], site.base_url


def _read_posts(settings: IngestSettings, site: SiteConfig) -> tuple[list[Post], list[SkippedPost], int]:
    posts: list[Post] = []
    skipped: list[SkippedPost] = []
    drafts = 0
    today = date.today().isoformat()
    for path in discover_posts(settings.content_dir):
        try:
            post = read_post(path, settings.content_dir, site)
        except PostError as error:
            skipped.append(error.record)
            continue
        future = not site.build_future and (post.meta.date or "") > today
        if (post.draft and not settings.drafts) or future:
            drafts += 1
            continue
        posts.append(post)
    return posts, skipped, drafts


def _fit_model(drafts: list[PassageDraft], embedder: TextEncoder,
               embedded_before: set[int]) -> tuple[list[PassageDraft], int, int]:
    """Split every passage the model would truncate, counting in the model's own tokenizer.

    Drafts in `embedded_before` are texts the published index embedded as they are, so they fit already.
    """
    counted = [i for i in range(len(drafts)) if i not in embedded_before]
    model_tokens = embedder.count_tokens([drafts[i].embed_text for i in counted]) if counted else []
    lengths = dict(zip(counted, model_tokens, strict=True))
    fitted: list[PassageDraft] = []
    splits = truncated = 0
    for i, draft in enumerate(drafts):
        if lengths.get(i, 0) <= embedder.max_tokens:
            fitted.append(draft)
            continue
        pending = [draft]
        for _ in range(4):  # each round halves; four rounds shrink a passage 16-fold
            splits += len(pending)
            pending = [half for d in pending for half in split_draft(d)]
            counts = embedder.count_tokens([d.embed_text for d in pending])
            if max(counts) <= embedder.max_tokens:
                break
        else:
            truncated += sum(n > embedder.max_tokens for n in counts)
        fitted.extend(pending)
    return fitted, splits, truncated


def _embed_key(settings: IngestSettings, draft: PassageDraft) -> str:
    # The precision is part of the key, so an int8 index never takes an fp32 vector or the other way
    # round; fp32 keeps the key it had before int8 existed, so those indexes still reuse their vectors.
    model = settings.model if settings.embed_precision == "fp32" else f"{settings.model}\0{settings.embed_precision}"
    blob = f"{model}\0{draft.embed_text}"
    return hashlib.sha256(blob.encode()).hexdigest()


def _embed(drafts: list[PassageDraft], keys: list[str], embedder: TextEncoder, settings: IngestSettings,
           known: dict[str, np.ndarray], progress: bool) -> tuple[np.ndarray, int]:
    """Vectors for every passage: reused when the published index embedded the same text, else computed."""
    missing = [i for i, key in enumerate(keys) if key not in known]
    vectors = np.zeros((len(drafts), embedder.dim), dtype=np.float32)
    for i, key in enumerate(keys):
        if key in known:
            vectors[i] = known[key]
    if missing:
        fresh = embedder.encode([drafts[i].embed_text for i in missing], settings.batch_size, progress)
        vectors[missing] = fresh
    return vectors, len(drafts) - len(missing)


def _reusable(store: Store, settings: IngestSettings) -> dict[str, np.ndarray]:
    """Vectors the published version (and `reuse_vectors_from`, when set) embedded, by embedded-text key."""
    known = store.reusable_vectors(settings.model, settings.embed_precision)
    if settings.reuse_vectors_from:
        other = open_store(settings.reuse_vectors_from)
        try:
            known = {**other.reusable_vectors(settings.model, settings.embed_precision), **known}
        finally:
            other.close()
    return known


def _published_manifest(store: Store) -> Manifest | None:
    """The published version's manifest, or None when there is none this code can read."""
    try:
        return store.manifest()
    except (IndexMissing, IndexCorrupt, IndexMismatch):
        return None
