"""`casebook export hugo`: every post's related posts as the Hugo data file the theme's partial reads."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casebook.cli import main
from index import FolderStore

Capture = pytest.CaptureFixture[str]
PART_1 = "series/lighthouse/part-1-double-entry.md"


def export(site: Path, index_dir: Path, capsys: Capture, *flags: str) -> tuple[int, str]:
    code = main(["export", "hugo", "--site", str(site), "--index", str(index_dir), *flags])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def read_lists(site: Path) -> dict[str, list[dict[str, object]]]:
    return json.loads((site / "data" / "casebook" / "related.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def site(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site folder the fixture index's lists were exported into once."""
    folder = tmp_path_factory.mktemp("site")
    assert main(["export", "hugo", "--site", str(folder), "--index", str(index_dir)]) == 0
    return folder


def test_every_post_of_the_index_is_a_key_as_hugo_names_its_file(site: Path, index_dir: Path) -> None:
    assert sorted(read_lists(site)) == sorted(FolderStore(index_dir).open().posts)


def test_each_list_is_what_the_api_gives_for_the_post(site: Path, client: TestClient) -> None:
    for path, links in read_lists(site).items():
        if not links:
            continue
        api = client.get("/api/related", params={"path": path, "k": 5}).json()["related"]
        assert links == [{name: r[name] for name in ("path", "title", "url", "score", "reason")} for r in api], path


def test_articles_get_five_best_first_and_section_pages_an_empty_list(site: Path) -> None:
    lists = read_lists(site)
    assert len(lists[PART_1]) == 5
    scores = [link["score"] for link in lists[PART_1]]
    assert scores == sorted(scores, reverse=True)
    assert lists["series/lighthouse/_index.md"] == lists["series/tidepool/_index.md"] == []
    assert all(links for path, links in lists.items() if not path.endswith("_index.md"))


def test_the_file_is_readable_by_the_site_build(site: Path) -> None:
    mode = (site / "data" / "casebook" / "related.json").stat().st_mode
    assert mode & stat.S_IRGRP and mode & stat.S_IROTH


def test_the_same_version_is_not_exported_twice_unless_forced(site: Path, index_dir: Path, capsys: Capture) -> None:
    data = site / "data" / "casebook" / "related.json"
    before = data.stat().st_mtime_ns
    code, out = export(site, index_dir, capsys)
    assert code == 0 and "is up to date" in out and data.stat().st_mtime_ns == before
    code, out = export(site, index_dir, capsys, "-k", "3")  # another count is another file
    assert code == 0 and out.startswith(f"wrote {data}: 15 pages, up to 3 related posts each")
    assert len(read_lists(site)[PART_1]) == 3
    code, out = export(site, index_dir, capsys, "--force")
    assert code == 0 and out.startswith("wrote ") and len(read_lists(site)[PART_1]) == 5


@pytest.mark.parametrize(("flags", "message"), [
    (["--site", "no/such/site"], "--site no/such/site is not a folder"),
    (["-k", "0"], "-k has value 0. Not within 1..50."),
])
def test_bad_flags_exit_2_saying_why(flags: list[str], message: str, index_dir: Path, tmp_path: Path,
                                     capsys: Capture) -> None:
    code = main(["export", "hugo", "--site", str(tmp_path), "--index", str(index_dir), *flags])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_an_index_folder_without_a_version_exits_2(tmp_path: Path, capsys: Capture) -> None:
    code = main(["export", "hugo", "--site", str(tmp_path), "--index", str(tmp_path / "index")])
    assert code == 2 and capsys.readouterr().err.startswith("casebook export: ")
