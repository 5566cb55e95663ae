"""Series from hub pages and posts' `series` fields, each with its posts in reading order."""

from __future__ import annotations

from pathlib import PurePosixPath

from index.records import PostMeta, SeriesMeta


def collect_series(posts: list[PostMeta], base_url: str) -> list[SeriesMeta]:
    """Every series named by a hub or a post, with its parts ordered by weight, date, then path."""
    hubs = {p.series[0]: p for p in posts if p.is_hub and p.series and _heads_series(p)}
    members: dict[str, list[PostMeta]] = {slug: [] for slug in hubs}
    for post in posts:
        for slug in post.series:
            if not (post.is_hub and hubs.get(slug) is post):
                members.setdefault(slug, []).append(post)
    result = []
    for slug in sorted(members):
        hub = hubs.get(slug)
        parts = sorted(members[slug], key=lambda p: (p.weight or 1_000_000, p.date or "", p.path))
        result.append(
            SeriesMeta(
                slug=slug,
                title=hub.title if hub else slug.replace("-", " ").title(),
                url=hub.url if hub else f"{base_url.rstrip('/')}/series/{slug}/",
                description=hub.description if hub else "",
                hub_path=hub.path if hub else None,
                posts=tuple(p.path for p in parts),
            )
        )
    return result


def _heads_series(hub: PostMeta) -> bool:
    """A hub heads its series when it sits in series/, or in a folder named as the series (a built site's)."""
    return hub.path.startswith("series/") or PurePosixPath(hub.path).parent.name == hub.series[0]
