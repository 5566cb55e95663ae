"""The CI files of docs/ci/, run the way their runners run them, on the fixture blog with its index cache restored.

GitLab: gitlabci-local in host mode (`gcil -H`, no container, no Docker) runs a job as a runner's shell executor
does: `extends` merged, the job's variables and GitLab's own (CI_PROJECT_DIR, CI_COMMIT_SHA, CI_COMMIT_REF_SLUG,
CI_DEFAULT_BRANCH, ...), before_script and script under `set -e`, then after_script. It leaves `rules:`, `cache:`,
`needs:` and `artifacts:` to the server, so the test picks the jobs each event runs, restores the cache folder,
collects the paths a job declares as artifacts as the runner would upload them (leaving the next job without
them), and hands a job's artifacts to the job that `needs` it. The `image:` is this machine: the Hugo job runs
Debian's hugo.

GitHub: its runner is GitHub's own, so the test runs the workflow's `run:` steps in order, each as `bash -e` (the
runner's default shell on Linux) with the env the workflow and step declare and GitHub's variables, and stops at
a failed step as the runner does (save the `if: always()` ones). The `uses:` steps are what they stand for here:
the checkout is the repository, setup-python is this virtualenv, the cache is the restored folder, and
upload-artifact collects its paths. The step that installs Hugo finds the pinned version on PATH (Debian's) and
downloads nothing.

Both files install Casebook with their own `pip install "$CASEBOOK"`, CASEBOOK being, as docs/ci.md says, the
Casebook you run: here the one under test, already installed, so pip installs nothing (PIP_NO_INDEX keeps it off
the network). Then the real `casebook ci` runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from index import FolderStore
from tests.helpers import BROWSER_DIR, FIXTURE_POSTS, ROOT

CI_FILES = ROOT / "docs" / "ci"
THEME = BROWSER_DIR / "hugo-theme"  # a minimal theme whose single-page template includes casebook-related.html
PARTIALS = ROOT / "service" / "static" / "hugo"
GITLAB_FILE = ".gitlab-ci.yml"  # where docs/ci.md tells a blog to put each file
GITHUB_FILE = ".github/workflows/casebook.yml"
BIN = Path(sys.executable).parent  # pip and casebook of the Casebook under test, first on the runners' PATH
EDITED = "series/lighthouse/part-3-reconciliation.md"


@dataclass(frozen=True)
class Job:
    """One CI job's run: its exit code, its log, and what it uploaded."""

    code: int
    log: str
    artifacts: Path  # the declared artifact paths, copied as the runner uploads them
    missing: list[str]  # declared artifact paths that were not there

    def read(self, name: str) -> str:
        return (self.artifacts / "casebook-out" / name).read_text(encoding="utf-8")

    @property
    def ingest(self) -> dict[str, Any]:
        return json.loads(self.read("ingest.json"))


@dataclass(frozen=True)
class Pipelines:
    """A push to main, then a review of a branch that edits one post; the cache folder carries over."""

    push: Job
    review: Job
    cache: Path  # the folder the CI file caches, restored before the push from the session's fixture index
    site: Path  # where the push's built site (public/) was uploaded


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=ci", "-c", "user.email=ci@example.com", *args],
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


def blog_repository(root: Path) -> Path:
    """The fixture blog as a Hugo site in a repository on main (a theme with Casebook's partials), with both CI
    files where docs/ci.md puts them."""
    repo = root / "blog"
    shutil.copytree(FIXTURE_POSTS, repo / "content", ignore=shutil.ignore_patterns("broken-front-matter.md"))
    (repo / "hugo.toml").write_text('title = "Fixture blog"\ntheme = "casebook"\nignoreFiles = ["\\\\.txt$"]\n',
                                    encoding="utf-8")
    shutil.copytree(THEME / "layouts", repo / "themes" / "casebook" / "layouts")
    shutil.copytree(PARTIALS, repo / "themes" / "casebook" / "layouts" / "partials")
    shutil.copy(CI_FILES / "gitlab-ci.yml", repo / GITLAB_FILE)
    (repo / GITHUB_FILE).parent.mkdir(parents=True)
    shutil.copy(CI_FILES / "github-actions.yml", repo / GITHUB_FILE)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the blog")
    return repo


def restore_cache(repo: Path, index: Path, folder: str) -> Path:
    """Put last run's index where the CI file's cache restores it; that folder."""
    shutil.copytree(index, repo / folder)
    return repo / folder


def gitlab_cache_folder(repo: Path) -> str:
    """The folder the GitLab jobs cache under the casebook-index-<branch> key."""
    caches = yaml.safe_load((repo / GITLAB_FILE).read_text(encoding="utf-8"))[".casebook"]["cache"]
    return next(cache["paths"][0] for cache in caches if str(cache["key"]).startswith("casebook-index-")).rstrip("/")


def github_cache_folder(repo: Path) -> str:
    """The folder the workflow's actions/cache step saves and restores."""
    steps = yaml.safe_load((repo / GITHUB_FILE).read_text(encoding="utf-8"))["jobs"]["casebook"]["steps"]
    return next(step["with"]["path"] for step in steps if step.get("uses", "").startswith("actions/cache@"))


def edit_one_post(repo: Path) -> str:
    """Branch off main and add a sentence to one post; the base commit a review compares against."""
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "edit-reconciliation")
    post = repo / "content" / EDITED
    post.write_text(post.read_text(encoding="utf-8") + "\nLate fees are matched against the ledger too.\n",
                    encoding="utf-8")
    git(repo, "commit", "-q", "-am", "one more sentence")
    return base


def runner_env(home: Path) -> dict[str, str]:
    """This machine's environment as a runner's shell sees it, with the Casebook under test first on PATH."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CASEBOOK_")}
    home.mkdir(parents=True, exist_ok=True)
    env.update(PATH=f"{BIN}{os.pathsep}{env['PATH']}", HOME=str(home), PIP_NO_INDEX="1",
               DEBUG_UPDATES_DISABLE="1")  # gitlabci-local's daily look for a newer release of itself
    return env


def upload(repo: Path, paths: list[str], into: Path) -> list[str]:
    """Move the artifact paths out of the job's folder (returning those missing); the next job starts without them."""
    missing = []
    for name in paths:
        source, target = repo / name, into / name.rstrip("/")
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
            shutil.rmtree(source)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
            source.unlink()
        else:
            missing.append(name)
    shutil.rmtree(repo / "casebook-out", ignore_errors=True)
    return missing


def download(artifacts: Path, repo: Path) -> None:
    """What `needs:` does: the artifacts of the job needed, unpacked into the job's folder."""
    shutil.copytree(artifacts, repo, dirs_exist_ok=True)


def gitlab_job(repo: Path, name: str, into: Path, *variables: str) -> Job:
    """Run one job of the repository's .gitlab-ci.yml with gitlabci-local, on this machine."""
    done = subprocess.run([str(BIN / "gcil"), "--no-color", "-H", "-e", "CASEBOOK=casebook", *variables, name],
                          cwd=repo, env=runner_env(into.parent / "home"), capture_output=True, text=True, timeout=600)
    declared = yaml.safe_load((repo / GITLAB_FILE).read_text(encoding="utf-8"))[name]["artifacts"]["paths"]
    return Job(done.returncode, done.stdout + done.stderr, into, upload(repo, declared, into))


def github_job(repo: Path, event: str, base: str | None, into: Path) -> Job:
    """Run the workflow's steps for a push or a pull_request event: `run:` in bash, `uses:` by what they stand for."""
    workflow = yaml.safe_load((repo / GITHUB_FILE).read_text(encoding="utf-8"))
    # The workflow's few expressions and conditions as GitHub evaluates them for this event; a new one fails here.
    values = {"github.event.pull_request.base.sha": base or ""}
    conditions = {"github.event_name == 'push'": event == "push"}

    def expand(text: str) -> str:
        return re.sub(r"\$\{\{\s*(.+?)\s*\}\}", lambda match: values[match[1]], text)

    summary = into.parent / "step-summary.md"
    env = {**runner_env(into.parent / "home"), **workflow.get("env", {}), "CASEBOOK": "casebook",
           "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(repo), "GITHUB_EVENT_NAME": event,
           "GITHUB_SHA": git(repo, "rev-parse", "HEAD"), "GITHUB_STEP_SUMMARY": str(summary)}
    code, log, uploads = 0, "", []
    for number, step in enumerate(workflow["jobs"]["casebook"]["steps"]):
        condition = step.get("if")
        if condition != "always()" and (code != 0 or (condition is not None and not conditions[condition])):
            continue
        if "run" in step:
            script = into.parent / f"step-{number}.sh"
            script.write_text(expand(step["run"]), encoding="utf-8")
            step_env = {name: expand(str(value)) for name, value in step.get("env", {}).items()}
            done = subprocess.run(["bash", "-e", str(script)], cwd=repo, env={**env, **step_env},
                                  capture_output=True, text=True, timeout=600)
            code, log = code or done.returncode, log + done.stdout + done.stderr
        elif step["uses"].startswith("actions/upload-artifact@"):
            uploads += step["with"]["path"].split()
    missing = upload(repo, uploads, into)
    if summary.exists():
        shutil.copy(summary, into / "step-summary.md")
    return Job(code, log, into, missing)


@pytest.fixture(scope="module")
def gitlab(tmp_path_factory: pytest.TempPathFactory, index_dir: Path) -> Pipelines:
    """The GitLab file: `casebook:index` on a push to main, then `casebook:review` in a merge request."""
    root = tmp_path_factory.mktemp("gitlab")
    repo = blog_repository(root)
    cache = restore_cache(repo, index_dir, gitlab_cache_folder(repo))
    push = gitlab_job(repo, "casebook:index", root / "push" / "artifacts")
    needs = yaml.safe_load((repo / GITLAB_FILE).read_text(encoding="utf-8"))["casebook:site"]["needs"]
    assert needs == ["casebook:index"]
    download(push.artifacts, repo)
    site = gitlab_job(repo, "casebook:site", root / "site" / "artifacts")
    assert site.code == 0 and site.missing == [], site.log
    base = edit_one_post(repo)
    review = gitlab_job(repo, "casebook:review", root / "review" / "artifacts", "-e",
                        "CI_PIPELINE_SOURCE=merge_request_event", "-e", f"CI_MERGE_REQUEST_DIFF_BASE_SHA={base}")
    return Pipelines(push, review, cache, site.artifacts)


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory, index_dir: Path) -> Pipelines:
    """The GitHub file: a push to main, then a pull request."""
    root = tmp_path_factory.mktemp("github")
    repo = blog_repository(root)
    cache = restore_cache(repo, index_dir, github_cache_folder(repo))
    push = github_job(repo, "push", None, root / "push" / "artifacts")
    base = edit_one_post(repo)
    review = github_job(repo, "pull_request", base, root / "review" / "artifacts")
    return Pipelines(push, review, cache, push.artifacts)


@pytest.fixture(params=["gitlab", "github"])
def pipelines(request: pytest.FixtureRequest) -> Pipelines:
    return request.getfixturevalue(request.param)


def test_a_push_publishes_a_version_from_the_restored_cache(pipelines: Pipelines) -> None:
    """Nothing changed since the cached index was built, so every vector is reused: the job indexes what it caches."""
    push = pipelines.push
    assert push.code == 0, push.log
    assert push.missing == []
    assert push.ingest["embedded"] == 0 and push.ingest["reused"] == push.ingest["passages"] > 0
    version = push.read("VERSION").strip()
    assert version == push.ingest["version"]
    assert FolderStore(push.artifacts / "casebook-out" / "index").versions() == [version]


def test_a_review_reembeds_the_edited_post_and_suggests_its_links(pipelines: Pipelines) -> None:
    review = pipelines.review
    assert review.code == 0, review.log
    assert review.missing == []
    assert 1 <= review.ingest["embedded"] <= 3
    assert f"Only the posts this change touches: `{EDITED}`." in review.read("summary.md")


def test_a_push_ships_the_site_built_with_casebooks_related_posts(pipelines: Pipelines) -> None:
    """The export ran before hugo: a built post lists its related posts from the data, best first."""
    page = (pipelines.site / "public" / "series" / "lighthouse" / "part-1-double-entry" / "index.html").read_text(
        encoding="utf-8")
    listed = re.findall(r'<li><a href="?([^ >"]+)"?>([^<]+)</a>', page.split("casebook-related")[-1])
    assert 'data-casebook-related="casebook"' in page or "data-casebook-related=casebook" in page
    assert {title for _, title in listed[:2]} == {"Lighthouse Part 2: Idempotency Keys for Retries",
                                                   "Lighthouse Part 3: Month-End Reconciliation"}
    assert all((pipelines.site / "public" / href.strip("/") / "index.html").is_file() for href, _ in listed)


def test_the_cache_folder_keeps_only_the_last_published_version(pipelines: Pipelines) -> None:
    assert FolderStore(pipelines.cache).versions() == [pipelines.review.ingest["version"]]


def test_gitlab_runs_the_install_line_and_shows_the_summary_in_the_log(gitlab: Pipelines) -> None:
    assert "+ pip install casebook\n" in gitlab.review.log  # before_script, traced by `set -x`
    assert gitlab.review.read("summary.md") in gitlab.review.log  # after_script's cat
    assert not (gitlab.review.artifacts / "casebook-out" / "index").exists()  # a review ships no index


def test_github_writes_the_job_summary_and_ships_the_index_only_on_a_push(github: Pipelines) -> None:
    for job in (github.push, github.review):
        assert (job.artifacts / "step-summary.md").read_text(encoding="utf-8") == job.read("summary.md")
    assert (github.push.artifacts / "casebook-out" / "index").is_dir()
    assert not (github.review.artifacts / "casebook-out" / "index").exists()
