"""The cross-link report: for every post, strong related posts it does not link to yet, and orphan posts."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import asdict, dataclass

from index import PostMeta
from service.authors.related import PassageSpace, RelatedSpace, linked_paths, reason, related_posts
from service.search.live import Live

# Scores are the related-posts model's chance that the author would link the post: from 0.5 on, more
# likely than not (on the real blog, 61% of the dev posts' suggestions at 0.5 were links the author made).
DEFAULT_MIN_SCORE = 0.5
PER_POST = 5


@dataclass(frozen=True)
class Suggestion:
    """A post the source should probably link to."""

    path: str
    title: str
    url: str
    score: float
    reason: str


@dataclass(frozen=True)
class PostLinks:
    """One source post and its missing links, strongest first."""

    path: str
    title: str
    url: str
    suggestions: tuple[Suggestion, ...]


@dataclass(frozen=True)
class PageRef:
    """A post named in the report."""

    path: str
    title: str
    url: str


@dataclass(frozen=True)
class CrosslinkReport:
    """Everything `casebook crosslinks` prints."""

    version: str
    min_score: float
    posts: tuple[PostLinks, ...]  # only posts with at least one suggestion
    orphans: tuple[PageRef, ...]  # articles no other page links to
    scope: tuple[str, ...] | None = None  # the posts the report is limited to (a change's); None: every post


def articles(live: Live) -> list[PostMeta]:
    """The posts an author links between: not hubs, not root pages (about, legal: menus reach those)."""
    return sorted((p for p in live.version.posts.values() if not p.is_hub and p.section),
                  key=lambda p: p.path)


def crosslinks(live: Live, min_score: float = DEFAULT_MIN_SCORE, per_post: int = PER_POST,
               only: Collection[str] | None = None, space: RelatedSpace | None = None) -> CrosslinkReport:
    """Run related posts for every article (or those `only` names) and keep the unlinked ones scoring >= min_score.

    `space` is where the candidates' evidence comes from: by default the whole version in memory, built here.
    """
    space = space or PassageSpace(live)
    rows = []
    for post in articles(live):
        if only is not None and post.path not in only:
            continue
        found = related_posts(live, space, post.path, per_post + len(post.links))
        missing = [r for r in found if not r.linked and r.score >= min_score][:per_post]
        if missing:
            rows.append(PostLinks(post.path, post.title, post.url, tuple(
                Suggestion(r.post.path, r.post.title, r.post.url, r.score, reason(r)) for r in missing)))
    lonely = tuple(o for o in orphans(live) if only is None or o.path in only)
    scope = None if only is None else tuple(sorted(only))
    return CrosslinkReport(live.version_id, min_score, tuple(rows), lonely, scope)


def orphans(live: Live) -> list[PageRef]:
    """Articles that no other page of the index links to (hubs and series pages included as linkers)."""
    inbound: set[str] = set()
    for post in live.version.posts.values():
        inbound.update(p for p in linked_paths(live, post) if p != post.path)
    return [PageRef(p.path, p.title, p.url) for p in articles(live) if p.path not in inbound]


def to_json(report: CrosslinkReport) -> str:
    """The report as JSON, for CI."""
    return json.dumps(asdict(report), indent=2, ensure_ascii=False)


def to_markdown(report: CrosslinkReport) -> str:
    """The report as a Markdown checklist an author can work through."""
    lines = [
        "# Cross-link report",
        "",
        f"Index version `{report.version}`; suggestions score at least {report.min_score:.2f}. "
        f"{len(report.posts)} posts have links to add; {len(report.orphans)} posts have no inbound links.",
        "",
        *_scope_lines(report.scope),
        "## Links to add",
        "",
    ]
    for row in report.posts:
        lines.append(f"### [{row.title}]({row.url})\n\n`{row.path}`\n")
        lines += [f"- [ ] [{s.title}]({s.url}) — {s.score:.2f} — {s.reason}" for s in row.suggestions]
        lines.append("")
    lines += ["## Orphans (nothing links here)", ""]
    lines += [f"- [ ] [{o.title}]({o.url}) `{o.path}`" for o in report.orphans] or ["None."]
    return "\n".join(lines) + "\n"


def _scope_lines(scope: tuple[str, ...] | None) -> list[str]:
    if scope is None:
        return []
    if not scope:
        return ["This change touches no post, so there is nothing to check.", ""]
    return ["Only the posts this change touches: " + ", ".join(f"`{path}`" for path in scope) + ".", ""]
