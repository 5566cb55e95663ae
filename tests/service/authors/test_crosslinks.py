"""`casebook crosslinks`: missing links per post and orphan posts, as Markdown and JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from casebook.cli import main
from index import FolderStore
from service.authors.crosslinks import crosslinks, to_markdown
from service.search.live import Live

Capture = pytest.CaptureFixture[str]
GATE_2 = "series/gatekeeper/part-2-sliding-window.md"
GATE_3 = "series/gatekeeper/part-3-distributed-limits-redis.md"
STANDALONE = ["posts/caching-redis-copy.md", "posts/caching-redis.md", "posts/escaping-untrusted-html.md",
              "posts/k8s-pod-autoscaling.md", "posts/write-ahead-log.md"]


def run_json(index_dir: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> dict:
    assert main(["crosslinks", "--index", str(index_dir), "--format", "json", *flags]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_posts_nothing_links_to_are_orphans_but_series_parts_are_not(index_dir: Path,
                                                                       capsys: Capture) -> None:
    report = run_json(index_dir, capsys)
    assert [o["path"] for o in report["orphans"]] == STANDALONE


def test_series_parts_are_told_to_link_to_each_other(index_dir: Path, capsys: Capture) -> None:
    rows = {row["path"]: row for row in run_json(index_dir, capsys, "--min-score", "0.5")["posts"]}
    suggested = [s["path"] for s in rows[GATE_2]["suggestions"]]
    assert GATE_3 in suggested
    assert GATE_2 not in suggested
    assert all(s["score"] >= 0.5 for row in rows.values() for s in row["suggestions"])
    assert not [s for row in rows.values() for s in row["suggestions"] if "Checklist" in s["reason"]]


def test_a_link_the_post_already_has_is_not_suggested_again(index_dir: Path) -> None:
    version = FolderStore(index_dir).open()
    part_2 = dataclasses.replace(version.posts[GATE_2], links=("/series/gatekeeper/part-3-distributed-limits-redis/",))
    live = Live(dataclasses.replace(version, posts={**version.posts, GATE_2: part_2}))
    rows = {row.path: row for row in crosslinks(live, min_score=0.5).posts}
    assert GATE_2 not in rows or GATE_3 not in [s.path for s in rows[GATE_2].suggestions]
    assert GATE_3 not in [o.path for o in crosslinks(live).orphans]


def test_high_min_score_leaves_no_suggestions(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A series part's unlinked previous part can reach 0.99 (15% of the real blog's best suggestions do).
    assert run_json(index_dir, capsys, "--min-score", "0.999")["posts"] == []


def test_markdown_report_is_a_checklist(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crosslinks", "--index", str(index_dir), "--min-score", "0.5"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Cross-link report\n")
    part_2 = "[Gatekeeper Part 2: Sliding Window Counters](/series/gatekeeper/part-2-sliding-window/)"
    part_3 = "[Gatekeeper Part 3: Distributed Limits with Redis](/series/gatekeeper/part-3-distributed-limits-redis/)"
    assert f"### {part_2}" in text
    assert f"- [ ] {part_3}" in text
    assert "## Orphans (nothing links here)\n\n- [ ] [Caching with Redis](/posts/caching-redis-copy/)" in text


def test_report_can_be_written_to_a_file(index_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "links.md"
    assert main(["crosslinks", "--index", str(index_dir), "--site", "my-site", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8").startswith("# Cross-link report: my-site\n")
    assert to_markdown(crosslinks(Live(FolderStore(index_dir).open()), min_score=0.99)).endswith(
        "- [ ] [Write-Ahead Logs Explained](/posts/write-ahead-log/) `posts/write-ahead-log.md`\n")
