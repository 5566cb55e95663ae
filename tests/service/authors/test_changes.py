"""`casebook crosslinks --changed/--since`: the report limited to the posts a change touches."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from casebook.cli import main
from tests.helpers import FIXTURE_POSTS

Capture = pytest.CaptureFixture[str]
WAL = "posts/write-ahead-log.md"
PART_1 = "series/lighthouse/part-1-double-entry.md"


def report(index_dir: Path, capsys: Capture, *flags: str) -> dict:  # type: ignore[type-arg]
    assert main(["crosslinks", "--index", str(index_dir), "--format", "json", "--min-score", "0.5", *flags]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def git(site: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(site), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The fixture blog (the index was built from it) as a site committed to git."""
    shutil.copytree(FIXTURE_POSTS, tmp_path / "content")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "blog")
    return tmp_path


def test_changed_limits_suggestions_and_orphans_to_the_named_posts(index_dir: Path, capsys: Capture) -> None:
    whole = report(index_dir, capsys)
    limited = report(index_dir, capsys, "--changed", WAL, f"content/{PART_1}")
    assert limited["scope"] == [WAL, PART_1]
    assert [row["path"] for row in limited["posts"]] == [row["path"] for row in whole["posts"] if row["path"] == PART_1]
    assert [o["path"] for o in limited["orphans"]] == [WAL]
    assert whole["scope"] is None and len(whole["orphans"]) > 1


def test_a_changed_post_may_be_named_by_its_file(index_dir: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch,
                                                 site: Path) -> None:
    monkeypatch.chdir(site / "content" / "posts")
    assert report(index_dir, capsys, "--site", str(site), "--changed", "write-ahead-log.md")["scope"] == [WAL]


@pytest.mark.parametrize("name", ["posts/nope.md", "posts/draft-quarterly-roadmap.md", "notes.txt"])
def test_a_name_that_is_no_indexed_post_is_one_line_and_exit_2(index_dir: Path, capsys: Capture, name: str) -> None:
    assert main(["crosslinks", "--index", str(index_dir), "--changed", WAL, name]) == 2
    error = capsys.readouterr().err
    assert error.startswith("casebook crosslinks: not posts of index version ") and error.count("\n") == 1
    assert f": {name} (drafts, broken posts and files outside content/ are not indexed)" in error


def test_since_takes_the_posts_git_sees_changed_drafts_and_new_files_left_out(
        index_dir: Path, capsys: Capture, site: Path) -> None:
    git(site, "checkout", "-q", "-b", "edit")
    (site / "content" / WAL).write_text((site / "content" / WAL).read_text() + "\nOne more line.\n")
    git(site, "commit", "-q", "-am", "edit")
    (site / "content" / PART_1).write_text((site / "content" / PART_1).read_text() + "\nUncommitted.\n")
    (site / "content" / "posts" / "draft-quarterly-roadmap.md").write_text("---\ndraft: true\n---\nStill a draft.\n")
    (site / "content" / "posts" / "brand-new.md").write_text("---\ntitle: New\n---\nNot indexed yet.\n")
    (site / "content" / "posts" / "caching-redis-copy.md").unlink()  # deleted: nothing left to link from
    (site / "layouts").mkdir()
    (site / "layouts" / "single.html").write_text("<main></main>")  # not a post
    flags = ["--index", str(index_dir), "--site", str(site), "--since", "main", "--format", "json"]
    assert main(["crosslinks", *flags]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out)["scope"] == [WAL, PART_1]
    left_out = "content/posts/brand-new.md, content/posts/draft-quarterly-roadmap.md"
    assert printed.err == f"casebook crosslinks: changed but not in the index, left out: {left_out}\n"


def test_since_an_unknown_revision_is_one_line_and_exit_2(index_dir: Path, capsys: Capture, site: Path) -> None:
    assert main(["crosslinks", "--index", str(index_dir), "--site", str(site), "--since", "no-such-branch"]) == 2
    assert capsys.readouterr().err.startswith(f"casebook crosslinks: git merge-base in {site}: fatal: ")


def test_markdown_report_says_which_posts_it_covers(index_dir: Path, capsys: Capture) -> None:
    assert main(["crosslinks", "--index", str(index_dir), "--changed", WAL]) == 0
    assert f"\nOnly the posts this change touches: `{WAL}`.\n" in capsys.readouterr().out
