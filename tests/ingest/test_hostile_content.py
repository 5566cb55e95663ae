"""Hostile and broken content: each bad file is reported with a reason and skipped, the rest is indexed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index import Embedder, FolderStore
from ingest.pipeline import IngestReport, run_ingest
from ingest.settings import IngestSettings
from tests.stand_ins import HashEmbedder

GOOD = "---\ntitle: {title}\n---\n## Notes\n\n{title} survives its hostile neighbours.\n"


def _nested(opening: str, closing: str, depth: int) -> str:
    return opening * depth + "1" + closing * depth


# file name -> (bytes written, expected reason in the report)
HOSTILE: dict[str, tuple[bytes, str]] = {
    "binary.md": (bytes(range(256)) * 40, "not a text file"),
    "latin-1.md": ("---\ntitle: Café\n---\nbody\n".encode("latin-1"), "not valid UTF-8 (byte 0xe9)"),
    "list-front-matter.md": (b"---\n- a\n- b\n---\nbody\n", "front matter: expected a mapping, got list"),
    "scalar-front-matter.md": (b"---\njust words\n---\nbody\n", "front matter: expected a mapping, got str"),
    "yaml-bomb.md": (("---\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                      + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
                                for i in range(8)) + "---\nbody\n").encode(), "aliases are not allowed"),
    "deep-yaml.md": (f"---\ntitle: {_nested('[', ']', 5000)}\n---\nbody\n".encode(), "nested deeper than 20"),
    "deep-yaml-map.md": (f"---\ntitle: {_nested('{a: ', '}', 5000)}\n---\nbody\n".encode(),
                         "nested deeper than 20"),
    "deep-toml.md": (f"+++\na = {_nested('[', ']', 5000)}\n+++\nbody\n".encode(), "nested deeper than 20"),
    "deep-json.md": (f'{{"a": {_nested("[", "]", 5000)}}}\nbody\n'.encode(), "nested deeper than 20"),
    "huge-front-matter.md": (b"---\ntitle: x\n" + b"tags: [tag]\n" * 7000 + b"---\nbody\n",
                             "larger than 64 KiB"),
    "enormous.md": (b"---\ntitle: big\n---\n" + b"word " * 500_000, "too large (over 2 MiB)"),
    "heading-flood.md": (b"---\ntitle: flood\n---\n" + b"".join(b"## H%d\n\nx\n\n" % i for i in range(1200)),
                         "1200 sections by heading; the limit is 1000"),
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Path, IngestReport]:
    """One real ingest over two good posts surrounded by every hostile file."""
    base = tmp_path_factory.mktemp("hostile")
    content, outside = base / "content", base / "outside"
    (content / "posts").mkdir(parents=True)
    outside.mkdir()
    for title in ("Alpha", "Omega"):
        (content / "posts" / f"{title.lower()}.md").write_text(GOOD.format(title=title))
    for name, (data, _) in HOSTILE.items():
        (content / "posts" / name).write_bytes(data)
    (outside / "secret.md").write_text(GOOD.format(title="OUTSIDE-SECRET"))
    (content / "posts" / "link-to-secret.md").symlink_to(outside / "secret.md")
    (content / "posts" / "folder-outside").symlink_to(outside, target_is_directory=True)
    (content / "posts" / "loop").symlink_to(content, target_is_directory=True)
    (content / "posts" / "dangling.md").symlink_to(content / "nowhere.md")
    os.mkfifo(content / "posts" / "pipe.md")  # reading it would block forever
    with open(content / "posts" / "sparse-5gb.md", "wb") as handle:
        handle.truncate(5 * 1024**3)  # takes no disk; must be refused without being read
    report = run_ingest(IngestSettings(content_dir=content, index_dir=base / "index"), embedder=embedder)
    return base / "index", report


def _reasons(report: IngestReport) -> dict[str, str]:
    return {Path(error.path).name: error.reason for error in report.skipped}


@pytest.mark.parametrize(("name", "reason"), [(name, reason) for name, (_, reason) in HOSTILE.items()]
                         + [("pipe.md", "not a regular file"), ("sparse-5gb.md", "too large (over 2 MiB)"),
                            ("dangling.md", "cannot read")])
def test_each_hostile_file_is_reported_with_its_reason(hostile_run, name, reason):
    assert reason in _reasons(hostile_run[1])[name]


def test_the_good_posts_around_them_are_indexed_and_nothing_else(hostile_run):
    index_dir, report = hostile_run
    version = FolderStore(index_dir).open()
    assert sorted(version.posts) == ["posts/alpha.md", "posts/omega.md"]
    assert report.posts == 2 and len(report.skipped) == len(HOSTILE) + 3


def test_symlinks_out_of_the_content_folder_and_loops_are_not_followed(hostile_run):
    index_dir, report = hostile_run
    texts = " ".join(p.text for p in FolderStore(index_dir).open().passages)
    assert "OUTSIDE-SECRET" not in texts
    assert not [e for e in report.skipped if "/loop/" in e.path or "folder-outside" in e.path]


def test_thousands_of_tiny_files_are_all_indexed(tmp_path):
    for i in range(3000):
        folder = tmp_path / "content" / "posts" / f"batch-{i // 500}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note-{i}.md").write_text(f"---\ntitle: Note {i}\n---\nTiny note {i} on shard {i % 7}.\n")
    report = run_ingest(IngestSettings(content_dir=tmp_path / "content", index_dir=tmp_path / "index"),
                        embedder=HashEmbedder())  # type: ignore[arg-type]
    assert report.posts == 3000 and report.skipped == []
    assert len(FolderStore(tmp_path / "index").open().posts) == 3000
