"""`casebook gaps`: the logged unanswered questions grouped by meaning, the most asked groups first."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from service.authors.gap_log import Unanswered
from service.search.live import Live

# Questions join a group while their average cosine distance to it stays under this: near-copies and
# rewordings of one question (0.1 to 0.3 apart with MiniLM), not merely questions on one broad topic.
GROUP_DISTANCE = 0.45
MAX_QUESTIONS = 5_000  # distinct texts clustered, the most asked first: linkage needs n² memory
EXAMPLES = 3
CLOSEST_POSTS = 3
CLOSEST_PASSAGES = 50  # nearest passages looked at to find the closest distinct posts


@dataclass(frozen=True)
class PostRef:
    """An existing post close to a group's questions, with the cosine of its closest passage."""

    path: str
    title: str
    url: str
    score: float


@dataclass(frozen=True)
class GapGroup:
    """Questions that ask the same thing."""

    asked: int  # how many times, all wordings together
    examples: tuple[str, ...]  # its most asked wordings
    wordings: int  # distinct wordings
    first_asked: str
    last_asked: str
    closest: tuple[PostRef, ...]  # the posts that come nearest today: what to extend, or what not to repeat
    weekly: dict[str, int]  # times asked per week, keyed by the week's Monday (YYYY-MM-DD, UTC), oldest first


@dataclass(frozen=True)
class GapReport:
    """Everything `casebook gaps` prints."""

    log: str
    since: str | None
    questions: int  # logged questions read
    version: str | None  # the index version the closest posts come from (None when nothing was logged)
    groups: tuple[GapGroup, ...]


def build_report(live: Live, rows: list[Unanswered], log: str, since: str | None) -> GapReport:
    """Group the questions by meaning (agglomerative, average link, cosine) and rank groups by times asked."""
    counts = Counter(" ".join(r.query.split()) for r in rows)
    texts = [text for text, _ in counts.most_common(MAX_QUESTIONS)]
    groups: list[GapGroup] = []
    if texts:
        vectors = live.embedder.encode(texts)
        labels = _cluster(vectors)
        dates: dict[str, list[str]] = {}
        for r in rows:
            dates.setdefault(" ".join(r.query.split()), []).append(r.asked_at)
        for label in np.unique(labels):
            members = np.flatnonzero(labels == label).tolist()
            wordings = sorted((texts[i] for i in members), key=lambda t: (-counts[t], t))
            asked = [d for t in wordings for d in dates[t]]
            centre = vectors[members].mean(axis=0)
            groups.append(GapGroup(
                asked=sum(counts[t] for t in wordings), examples=tuple(wordings[:EXAMPLES]), wordings=len(wordings),
                first_asked=min(asked), last_asked=max(asked),
                closest=tuple(closest_posts(live, centre / (np.linalg.norm(centre) or 1.0))),
                weekly=dict(sorted(Counter(week_of(when) for when in asked).items())),
            ))
    groups.sort(key=lambda g: g.last_asked, reverse=True)  # among equally asked groups, the latest first
    groups.sort(key=lambda g: g.asked, reverse=True)
    return GapReport(log, since, len(rows), live.version_id, tuple(groups))


def week_of(asked_at: str) -> str:
    """The Monday of the week a question was asked in (YYYY-MM-DD)."""
    day = date.fromisoformat(asked_at[:10])
    return (day - timedelta(days=day.weekday())).isoformat()


def _cluster(vectors: np.ndarray) -> np.ndarray:
    """One label per vector."""
    if len(vectors) == 1:
        return np.ones(1, dtype=np.int64)
    tree = linkage(vectors, method="average", metric="cosine")
    labels: np.ndarray = fcluster(tree, t=GROUP_DISTANCE, criterion="distance")
    return labels


def closest_posts(live: Live, vector: np.ndarray) -> list[PostRef]:
    """The distinct posts whose passages come nearest a vector, best first."""
    version = live.version
    found: dict[str, float] = {}
    hits = version.vectors.search(vector, CLOSEST_PASSAGES)
    passages = version.fetch_passages(h.passage_id for h in hits)
    for hit in hits:
        post = version.posts[passages[hit.passage_id].post_path]
        path = post.duplicate_of or post.path  # one post per near-copy group, as search shows
        if path not in found:
            found[path] = hit.score
        if len(found) == CLOSEST_POSTS:
            break
    return [PostRef(p, version.posts[p].title, version.posts[p].url, round(s, 3)) for p, s in found.items()]


def to_json(report: GapReport) -> str:
    """The report as JSON, for dashboards."""
    return json.dumps(asdict(report), indent=2, ensure_ascii=False)


def to_markdown(report: GapReport, top: int) -> str:
    """The report as Markdown: the groups worth a post, most asked first."""
    since = f" since {report.since}" if report.since else ""
    lines = [
        "# Content gaps: what readers asked that the blog does not answer",
        "",
        f"{report.questions} unanswered questions{since} in `{report.log}`, in {len(report.groups)} groups; "
        f"closest posts from index version `{report.version}` (cosine of their nearest passage).",
        "",
    ]
    for n, group in enumerate(report.groups[:top], 1):
        when = group.first_asked[:10] if group.first_asked[:10] == group.last_asked[:10] else \
            f"{group.first_asked[:10]} to {group.last_asked[:10]}"
        lines.append(f"## {n}. {code_span(group.examples[0])} — asked {group.asked}×"
                     f" ({group.wordings} wording{'s' if group.wordings > 1 else ''}, {when})")
        lines.append("")
        lines += [f"- {code_span(example)}" for example in group.examples[1:]]
        lines.append("- Closest posts: " + ("; ".join(f"[{escape(p.title)}](<{p.url.translate(_ANGLES)}>) "
                                                     f"{p.score:.2f}" for p in group.closest) or "none"))
        lines.append("")
    if len(report.groups) > top:
        lines.append(f"{len(report.groups) - top} smaller groups not shown (--top, or --format json for all).")
    return "\n".join(lines).rstrip() + "\n"


def code_span(text: str) -> str:
    """Reader text as a Markdown code span: no link, image, HTML, heading or emphasis in it is ever rendered.

    The fence is one backtick longer than any run inside; the spaces inside it are dropped by the renderer.
    """
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def escape(text: str) -> str:
    """Text with every Markdown punctuation mark backslash-escaped (CommonMark lets any of them be)."""
    return _PUNCTUATION.sub(r"\\\g<0>", text)


_PUNCTUATION = re.compile(r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]""")
_ANGLES = str.maketrans("", "", "<>")
