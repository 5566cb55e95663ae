"""The posts a change touches, for `crosslinks --changed/--since`: paths as given, or from `git diff`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from service.search.live import Live


class ChangeError(ValueError):
    """A named post the index does not hold, or a revision git cannot resolve; the message is one line."""


@dataclass(frozen=True)
class Change:
    """The indexed posts a change touches, and the changed Markdown files the index does not hold."""

    posts: list[str]  # content paths (posts/x.md)
    left_out: list[str]  # drafts, broken posts: changed, but there is nothing of them to check


def touched(live: Live, changed: list[str] | None, since: str | None, site: Path | None) -> Change | None:
    """The posts named (each must be in the index), or changed since a git revision; None when neither is given."""
    if changed is not None:
        posts, unknown = resolve_posts(changed, live, site)
        if unknown:
            raise ChangeError(f"not posts of index version {live.version_id}: {', '.join(unknown)}"
                              " (drafts, broken posts and files outside content/ are not indexed)")
        return Change(posts, [])
    if since is None:
        return None
    posts, left_out = resolve_posts(changed_since(site or Path("."), since), live, site)
    return Change(posts, left_out)


def changed_since(site: Path, rev: str) -> list[str]:
    """Site-relative paths of the Markdown files under content/ added or changed since `rev`.

    The diff starts at the merge base of `rev` and HEAD, so a pull request's base branch moving on
    does not count as a change, and it reaches the work tree, untracked posts included.
    """
    base = _git(site, "merge-base", rev, "HEAD").strip()
    changed = _git(site, "diff", "--name-only", "--relative", "--diff-filter=ACMR", "-z", base, "--", "content")
    new = _git(site, "ls-files", "--others", "--exclude-standard", "-z", "--", "content")
    names = {name for name in (changed + new).split("\0") if name}
    return sorted(name for name in names if name.endswith((".md", ".markdown")))


def resolve_posts(names: Iterable[str], live: Live, site: Path | None) -> tuple[list[str], list[str]]:
    """Content paths of the named posts, and the names that are no post of the index.

    A name may be a content path (posts/x.md), a site-relative one (content/posts/x.md), or a path
    to the file from here.
    """
    known: list[str] = []
    unknown: list[str] = []
    for name in names:
        found = next((c for c in _candidates(name, site) if c in live.version.posts), None)
        if found is None:
            unknown.append(name)
        elif found not in known:
            known.append(found)
    return known, unknown


def _candidates(name: str, site: Path | None) -> list[str]:
    path = PurePosixPath(name.replace("\\", "/"))
    parts = [p for p in path.parts if p != "."]
    found = ["/".join(parts)]
    if parts[:1] == ["content"]:
        found.append("/".join(parts[1:]))
    content = ((site or Path(".")) / "content").resolve()
    on_disk = Path(name).resolve()
    if on_disk.is_relative_to(content):
        found.append(on_disk.relative_to(content).as_posix())
    return found


def _git(site: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(site), *args], capture_output=True, text=True, check=False)
    except OSError as e:
        raise ChangeError(f"--since needs git: {e}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["failed"])[0]
        raise ChangeError(f"git {args[0]} in {site}: {reason}")
    return done.stdout
