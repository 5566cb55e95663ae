"""The systems `casebook eval` measures: Casebook in-process over an index, or a running service over HTTP."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from casebook.eval.built_names import Names
from casebook.eval.questions import Original, Outcome, System
from casebook.eval.related import RelatedSystem

K = 10  # results asked for: the measures look at the top 10


def local_system(index_dir: Path | None, store: str | None = None) -> System | None:
    """Casebook in-process over an index folder: run_search for the ranking, run_ask for the answer."""
    from index.errors import IndexError_
    from index.settings import SharedSettings
    from service.answers.answer import run_ask
    from service.search.holder import open_live
    from service.search.live import Filters
    from service.search.results import run_search

    try:
        live = open_live(SharedSettings.from_env(index_dir=index_dir, store_location=store))
    except (IndexError_, ValueError) as e:
        print(f"casebook eval: {e}", file=sys.stderr)
        return None

    def system(query: str) -> Outcome:
        started = time.perf_counter()
        response = run_search(live, query, Filters(), K)
        latency = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        asked = run_ask(live, query, Filters(), K)
        ask_ms = (time.perf_counter() - started) * 1000
        answer, found = asked.answer or "", asked.found
        return Outcome([p.path for p in response.posts], [s.slug for s in response.series], answer, found,
                       latency, response.posts[0].score if response.posts else 0.0, ask_ms,
                       response.passages[0].text if response.passages else None, asked.confidence)

    return system


def read_answer(body: dict[str, Any]) -> tuple[str | None, bool | None]:
    """The answer text and `found` flag of an /api/ask JSON body."""
    return body.get("answer") or "", bool(body.get("found"))


def http_system(url: str) -> System | None:
    """Casebook over HTTP: /api/search for the ranking, /api/ask for the answer."""
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=60)

    def system(query: str) -> Outcome:
        started = time.perf_counter()
        response = client.get("/api/search", params={"q": query, "k": K})
        latency = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        body = response.json()
        started = time.perf_counter()
        asked = client.get("/api/ask", params={"q": query})
        ask_ms = (time.perf_counter() - started) * 1000
        asked.raise_for_status()
        answer = read_answer(asked.json())
        top = body["posts"][0]["score"] if body["posts"] else 0.0
        return Outcome([p["path"] for p in body["posts"]], [s["slug"] for s in body["series"]], *answer,
                       latency_ms=latency, top_score=top, ask_ms=ask_ms,
                       top_passage=body["passages"][0]["text"] if body["passages"] else None,
                       confidence=asked.json().get("confidence"))

    try:
        client.get("/api/search", params={"q": "health check", "k": 1}).raise_for_status()
    except httpx.HTTPError as e:
        print(f"casebook eval: {url}: {e}", file=sys.stderr)
        return None
    return system


def index_originals(index_dir: Path | None, store: str | None = None) -> Original:
    """Each near-copy's original, as the index records it (PostMeta.duplicate_of)."""
    from index.settings import SharedSettings

    opened = SharedSettings.from_env(index_dir=index_dir, store_location=store).store()
    try:
        copies = {p.path: p.duplicate_of for p in opened.open().posts.values() if p.duplicate_of}
    finally:
        opened.close()
    return lambda path: copies.get(path, path)


def http_originals(url: str) -> Original:
    """Each near-copy's original, as the service's /api/posts/{path} reports it (asked once per path)."""
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=60)

    @cache
    def original(path: str) -> str:
        response = client.get(f"/api/posts/{path}")
        return (response.json().get("duplicate_of") or path) if response.status_code == 200 else path

    return original


def local_related(index_dir: Path | None, store: str | None = None) -> RelatedSystem | None:
    """Casebook's related posts in-process over an index folder (the stored vectors; no model loaded)."""
    from index.errors import IndexError_
    from index.settings import SharedSettings
    from service.authors.related import PassageSpace, related_posts
    from service.search.holder import open_live
    from service.search.live import UnknownName

    try:
        live = open_live(SharedSettings.from_env(index_dir=index_dir, store_location=store), prepare=False)
    except (IndexError_, ValueError) as e:
        print(f"casebook eval: {e}", file=sys.stderr)
        return None
    space = PassageSpace(live)

    def system(path: str) -> list[str]:
        try:
            return [r.post.path for r in related_posts(live, space, path, K)]
        except UnknownName:
            return []  # a post the index does not hold finds nothing

    return system


def http_related(url: str) -> RelatedSystem | None:
    """Casebook's related posts from a running service's /api/related."""
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=60)

    def system(path: str) -> list[str]:
        response = client.get("/api/related", params={"path": path, "k": K})
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return [r["path"] for r in response.json()["related"]]

    try:
        client.get("/readyz").raise_for_status()
    except httpx.HTTPError as e:
        print(f"casebook eval: {url}: {e}", file=sys.stderr)
        return None
    return system


def built_names(index_dir: Path | None, store: str | None, site: Path | None) -> Names | None:
    """For an index read from a built site: its pages paired with the content files the judgments name."""
    from casebook.eval.built_names import is_built, names
    from index.settings import SharedSettings

    opened = SharedSettings.from_env(index_dir=index_dir, store_location=store).store()
    try:
        if not is_built(opened.manifest().extra):
            return None
        if site is None or not (site / "content").is_dir():
            raise ValueError("the index was read from a built site: give --site (the Hugo site root) so its pages "
                             "are matched with the content files the judgments name")
        return names(site, list(opened.open().posts.values()))
    finally:
        opened.close()


def renamed(system: System, names: Names) -> System:
    """The system with its posts named by their content files."""
    return lambda query: replace(outcome := system(query), posts=[names.content(p) for p in outcome.posts])


def renamed_related(system: RelatedSystem, names: Names) -> RelatedSystem:
    """Related posts of a built index asked and answered by content file."""
    return lambda path: [names.content(p) for p in system(names.index(path))]
