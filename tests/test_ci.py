"""`casebook ci`, the one script both CI files run: on the fixture blog twice, the second run after one post changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from casebook.cli import build_parser, main
from index import FolderStore
from tests.conftest import FIXTURE_POSTS

CI_FILES = Path(__file__).resolve().parents[1] / "docs" / "ci"
CHANGED = "series/lighthouse/part-3-reconciliation.md"
DRAFT = "posts/next-quarter.md"
MODEL_FILES = {"model.onnx", "tokenizer.json", "config.json", "sentence_bert_config.json", "1_Pooling/config.json"}


@dataclass(frozen=True)
class Run:
    """One `casebook ci` run: its exit code and output folder."""

    code: int
    out: Path

    @property
    def ingest(self) -> dict:  # type: ignore[type-arg]
        return json.loads((self.out / "ingest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    def read(self, name: str) -> str:
        return (self.out / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Runs:
    """A push to main with a cold cache, then a pull request editing one post with the cache restored."""

    push: Run
    review: Run
    cache: Path  # the index folder the CI cache carries from run to run
    step_summary: Path  # GitHub's $GITHUB_STEP_SUMMARY


def git(site: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(site), "-c", "user.name=ci", "-c", "user.email=ci@example.com", *args],
                   check=True, capture_output=True)


def ci(site: Path, index: Path, out: Path, *flags: str) -> Run:
    return Run(main(["ci", "--site", str(site), "--index", str(index), "--out", str(out), *flags]), out)


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture blog as a Hugo site in its own git repository, without its broken post."""
    site = tmp_path_factory.mktemp("blog")
    shutil.copytree(FIXTURE_POSTS, site / "content")
    (site / "content" / "posts" / "broken-front-matter.md").unlink()
    git(site, "init", "-q", "-b", "main")
    git(site, "add", "-A")
    git(site, "commit", "-q", "-m", "the blog")
    return site


@pytest.fixture(scope="module")
def runs(blog: Path, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Run the job as both CI files do: on a push, then on a pull request that edits one post."""
    cache = tmp_path_factory.mktemp("cache") / "index"
    push = ci(blog, cache, tmp_path_factory.mktemp("push"))
    git(blog, "checkout", "-q", "-b", "edit-reconciliation")
    post = blog / "content" / CHANGED
    post.write_text(post.read_text(encoding="utf-8") + "\nLate fees are matched against the ledger too.\n",
                    encoding="utf-8")
    (blog / "content" / DRAFT).write_text("---\ntitle: Next quarter\ndraft: true\n---\nNot yet.\n", encoding="utf-8")
    git(blog, "add", "-A")
    git(blog, "commit", "-q", "-m", "one more sentence, and a draft")
    step_summary = tmp_path_factory.mktemp("github") / "step-summary.md"
    review = ci(blog, cache, tmp_path_factory.mktemp("pr"), "--since", "main", "--summary", str(step_summary))
    return Runs(push, review, cache, step_summary)


def test_first_run_indexes_every_post_and_ships_the_version_with_its_model(runs: Runs) -> None:
    assert runs.push.code == 0
    report = runs.push.ingest
    assert report["embedded"] == report["passages"] > 0 and report["skipped"] == []
    assert runs.push.read("VERSION").strip() == report["version"]
    shipped = FolderStore(runs.push.out / "index")
    assert shipped.versions() == [report["version"]] and shipped.published() is None  # the server publishes it
    model = shipped.model_path("all-MiniLM-L6-v2")
    assert model is not None
    assert {p.relative_to(model).as_posix() for p in model.rglob("*") if p.is_file()} == MODEL_FILES


def test_second_run_reembeds_only_the_changed_post(runs: Runs) -> None:
    assert runs.review.code == 0
    assert 1 <= runs.review.ingest["embedded"] <= 3
    assert runs.review.ingest["reused"] >= runs.push.ingest["passages"] - 3
    assert runs.review.ingest["version"] != runs.push.ingest["version"]


def test_review_report_lists_only_the_touched_post(runs: Runs) -> None:
    report = runs.review.read("crosslinks.md")
    assert f"Only the posts this change touches: `{CHANGED}`." in report
    assert [line for line in report.splitlines() if line.startswith("`")] == [f"`{CHANGED}`"]
    assert "## Orphans (nothing links here)\n\nNone.\n" in report
    assert report.endswith(f"\nChanged but not indexed: `content/{DRAFT}`.\n")  # a draft has no links to check
    assert not (runs.push.out / "crosslinks.md").exists()  # a push has nothing to review


def test_job_summary_holds_the_ingest_and_the_review(runs: Runs) -> None:
    summary = runs.review.read("summary.md")
    assert summary.startswith("# Casebook\n\nPublished index version")
    assert "\n## Cross-link report\n" in summary and "\n#### [Lighthouse Part 3" in summary
    assert runs.step_summary.read_text(encoding="utf-8") == summary


def test_cache_keeps_one_version_for_the_next_run(runs: Runs) -> None:
    store = FolderStore(runs.cache)
    assert store.versions() == [runs.review.ingest["version"]] == [store.published()]


def test_the_artifact_is_published_on_the_server_by_rollback(runs: Runs, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    server = tmp_path / "srv-index"
    shutil.copytree(runs.review.out / "index", server)
    assert main(["index", "rollback", "-i", str(server), "--to", runs.review.ingest["version"]]) == 0
    capsys.readouterr()
    assert main(["search", "month-end reconciliation of the ledger", "-i", str(server), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["posts"][0]["path"] == CHANGED


def test_a_broken_post_fails_the_job_with_path_line_reason(runs: Runs, blog: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "blog"
    shutil.copytree(blog / "content", site / "content")
    shutil.copy(FIXTURE_POSTS / "posts" / "broken-front-matter.md", site / "content" / "posts")
    index = tmp_path / "index"
    shutil.copytree(runs.cache, index)  # the restored cache: nothing but the broken post is new
    capsys.readouterr()
    run = ci(site, index, tmp_path / "out")
    assert run.code == 1
    where = f"{site / 'content'}/posts/broken-front-matter.md:3: "
    assert f"skipped {where}" in capsys.readouterr().out
    assert f"- `{where}" in run.read("summary.md")
    assert run.ingest["skipped"][0]["line"] == 3
    assert not (run.out / "index").exists()  # nothing to deploy from a failed job


def _commands(node: object) -> Iterator[str]:
    if isinstance(node, str) and "casebook ci " in node:
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _commands(value)
    elif isinstance(node, list):
        for value in node:
            yield from _commands(value)


def _cached_folders(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        if str(node.get("key", "")).startswith("casebook-index-"):
            paths = node["paths"] if "paths" in node else [node["path"]]
            yield from (path.rstrip("/") for path in paths)
        for value in node.values():
            yield from _cached_folders(value)
    elif isinstance(node, list):
        for value in node:
            yield from _cached_folders(value)


@pytest.mark.parametrize(("name", "reviews"), [("github-actions.yml", ["BASE"]),
                                               ("gitlab-ci.yml", [None, "BASE"]),
                                               ("github-actions-built.yml", [None]),
                                               ("gitlab-ci-built.yml", [None])])
def test_both_ci_files_run_the_one_script_on_the_folder_they_cache(name: str, reviews: list[str | None]) -> None:
    """Each `casebook ci` line, run by the shell as CI would, parses with the command's own flags."""
    spec = yaml.safe_load((CI_FILES / name).read_text(encoding="utf-8"))
    env = {"PATH": os.environ["PATH"], "SINCE": "BASE", "CI_MERGE_REQUEST_DIFF_BASE_SHA": "BASE",
           "GITHUB_STEP_SUMMARY": "/summary.md", "BUILT": "_site"}
    runs = []
    for command in _commands(spec):
        shell = 'casebook() { printf "%s\\0" "$@"; }; ' + command
        argv = subprocess.run(["bash", "-c", shell], env=env, capture_output=True, text=True, check=True).stdout
        runs.append(build_parser().parse_args(argv.split("\0")[:-1]))
    assert [args.command for args in runs] == ["ci"] * len(reviews)
    assert [args.since for args in runs] == reviews
    assert {str(args.index) for args in runs} == set(_cached_folders(spec)) == {"casebook-index"}
