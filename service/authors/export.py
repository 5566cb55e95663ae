"""`casebook export hugo`: every post's related posts as a Hugo data file, so a theme renders them at build time.

The theme's partial (`service/static/hugo/casebook-related.html`) reads `site.Data.casebook.related`, keyed by the
post's content path as Hugo's `.File.Path` gives it (`posts/x.md`, `series/s/part.md`, `posts/b/index.md`), which
is the path the index keys posts by. No request at read time: the built site stays whole when the service is down.

Every list depends on the whole version (a changed post can enter or leave any other post's list, and the
signals' word weights are over every post), so a new version is exported whole; the same version is not
exported twice (`export.json` beside the data file records what was written).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from index import PostMeta
from service.authors.related import RelatedSpace, reason, related_posts, related_space
from service.search.live import Live

DATA_DIR = Path("data") / "casebook"  # under the site root: Hugo reads it as site.Data.casebook
RELATED_FILE = "related.json"
STAMP_FILE = "export.json"  # what the data file was written from: an unchanged version is not exported again
DEFAULT_COUNT = 5  # what a post page shows; /api/related?k=5 gives the same list


@dataclass(frozen=True)
class RelatedLink:
    """One related post as the theme renders it."""

    path: str  # its content path, for site.GetPage: the link is the page Hugo builds, or none when it is gone
    title: str
    url: str  # its permalink under the site's baseURL, as Hugo builds it
    score: float
    reason: str


@dataclass(frozen=True)
class ExportReport:
    """What `casebook export hugo` did."""

    data_file: Path
    version: str
    posts: int  # keys written (articles and the pages that get an empty list)
    count: int  # related posts per article
    seconds: float
    up_to_date: bool  # the file already held this version's lists: nothing was computed


def lists_post(post: PostMeta) -> bool:
    """Whether a page gets related posts: an article, not a section or series page, not a root page (about)."""
    return not post.is_hub and bool(post.section)


def related_lists(live: Live, space: RelatedSpace, count: int) -> dict[str, list[RelatedLink]]:
    """Every post's related posts, best first, keyed by content path.

    Section pages and root pages map to an empty list: the data knows them, so the partial shows nothing there
    rather than Hugo's own list (which it keeps for pages written after the export).
    """
    lists: dict[str, list[RelatedLink]] = {}
    for path in sorted(live.version.posts):
        post = live.version.posts[path]
        found = related_posts(live, space, path, count) if lists_post(post) else []
        lists[path] = [RelatedLink(r.post.path, r.post.title, r.post.url, r.score, reason(r)) for r in found]
    return lists


def export_hugo(live: Live, site: Path, count: int = DEFAULT_COUNT, force: bool = False,
                space: RelatedSpace | None = None) -> ExportReport:
    """Write `site/data/casebook/related.json` for the live version, unless it already holds that version's lists.

    `space` defaults to the version's own (`live.derived(related_space)`), built only when there is work to do.
    """
    started = time.perf_counter()
    folder = site / DATA_DIR
    data_file = folder / RELATED_FILE
    stamp = {"version": live.version_id, "count": count}
    if not force and data_file.is_file() and _read_stamp(folder / STAMP_FILE) == stamp:
        return ExportReport(data_file, live.version_id, len(live.version.posts), count, 0.0, True)
    lists = related_lists(live, space or live.derived(related_space), count)
    folder.mkdir(parents=True, exist_ok=True)
    body = {path: [asdict(link) for link in links] for path, links in lists.items()}
    _write_atomically(data_file, json.dumps(body, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    _write_atomically(folder / STAMP_FILE, json.dumps(stamp, indent=1) + "\n")
    return ExportReport(data_file, live.version_id, len(lists), count, time.perf_counter() - started, False)


def _read_stamp(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one rename, so a build running meanwhile reads the old file or the new one, never half."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the site's other files are readable
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
