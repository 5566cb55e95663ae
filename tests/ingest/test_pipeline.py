"""Ingest end to end on the fixture site: what is indexed, what is skipped and why, and re-runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index import DEFAULT_MODEL, FolderStore
from ingest.check import check_index
from ingest.pipeline import IngestReport, run_ingest
from ingest.settings import IngestSettings
from service.search.holder import IndexHolder
from tests.helpers import FIXTURE_POSTS


def test_broken_post_is_reported_with_path_and_line_and_the_rest_indexed(built_index):
    index_dir, report = built_index
    assert [str(e) for e in report.skipped] == [
        f"{FIXTURE_POSTS}/posts/broken-front-matter.md:3: front matter: did not find expected key"
    ]
    assert report.posts == 15
    assert "posts/broken-front-matter.md" not in FolderStore(index_dir).open().posts


def test_drafts_and_non_markdown_files_are_not_indexed(index_dir):
    version = FolderStore(index_dir).open()
    assert "posts/draft-quarterly-roadmap.md" not in version.posts
    assert not [p for p in version.passages if "MARMALADE" in p.text or "PLAINTEXT-ONLY-NOTE" in p.text]


def test_boilerplate_sentence_is_kept_out_of_every_passage(built_index):
    index_dir, report = built_index
    assert report.boilerplate_sentences == 1
    assert not [p for p in FolderStore(index_dir).open().passages if "Subscribe to the Lighthouse newsletter" in p.text]


def test_near_copy_is_recorded_against_the_original(index_dir):
    posts = FolderStore(index_dir).open().posts
    assert posts["posts/caching-redis-copy.md"].duplicate_of == "posts/caching-redis.md"
    assert posts["posts/caching-redis.md"].duplicate_of is None


def test_series_come_from_hubs_with_posts_in_reading_order(index_dir):
    series = FolderStore(index_dir).open().series
    assert sorted(series) == ["gatekeeper", "lighthouse", "tidepool"]
    assert series["lighthouse"].title == "Lighthouse Ledger"
    assert (series["gatekeeper"].title, series["gatekeeper"].hub_path) == ("Gatekeeper", None)  # no hub page
    assert series["lighthouse"].posts == (
        "series/lighthouse/part-1-double-entry.md",
        "series/lighthouse/part-2-idempotency-keys.md",
        "series/lighthouse/part-3-reconciliation.md",
    )


def test_nothing_is_truncated_by_the_model(built_index):
    _, report = built_index
    assert report.truncated == 0
    assert report.passages == len(FolderStore(built_index[0]).open().passages)


def _copy_site(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_POSTS, content)
    return content


def _ingest(content: Path, index_dir: Path, embedder) -> IngestReport:
    return run_ingest(IngestSettings(content_dir=content, index_dir=index_dir), embedder=embedder)


def test_rerun_reembeds_only_the_changed_post_and_drops_deleted_ones(tmp_path, index_dir, embedder):
    content = _copy_site(tmp_path)
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    part3 = content / "series/lighthouse/part-3-reconciliation.md"
    part3.write_text(part3.read_text() + "\n## Audit trail\n\nEvery adjustment is signed by two people.\n")
    (content / "posts/k8s-pod-autoscaling.md").unlink()

    report = _ingest(content, target, embedder)

    assert 1 <= report.embedded <= 2
    assert report.reused == report.passages - report.embedded
    version = FolderStore(target).open()
    assert "posts/k8s-pod-autoscaling.md" not in version.posts
    assert any(p.anchor == "audit-trail" for p in version.passages)


def test_unchanged_site_publishes_nothing_new(tmp_path, index_dir, embedder):
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    report = _ingest(FIXTURE_POSTS, target, embedder)
    assert report.up_to_date and report.version == FolderStore(index_dir).open().manifest.version


def test_unchanged_site_still_reports_its_broken_post(tmp_path, built_index, embedder):
    index_dir, first = built_index
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    report = _ingest(FIXTURE_POSTS, target, embedder)
    assert report.up_to_date and report.skipped == first.skipped and len(report.skipped) == 1  # --strict fails again


def test_check_says_which_posts_differ(tmp_path, index_dir):
    content = _copy_site(tmp_path)
    (content / "posts/caching-redis.md").write_text("+++\ntitle = \"Changed\"\n+++\nNew text.\n")
    (content / "posts/new-post.md").write_text("---\ntitle: New\n---\nHello.\n")
    (content / "posts/write-ahead-log.md").unlink()

    report = check_index(IngestSettings(content_dir=content, index_dir=index_dir))

    assert not report.current
    assert (report.added, report.changed, report.removed) == (
        ["posts/new-post.md"], ["posts/caching-redis.md"], ["posts/write-ahead-log.md"])
    assert check_index(IngestSettings(content_dir=FIXTURE_POSTS, index_dir=index_dir)).current


def test_check_reports_a_model_or_chunker_change_as_stale(index_dir):
    settings = IngestSettings(content_dir=FIXTURE_POSTS, index_dir=index_dir, chunk_tokens=120)
    assert check_index(settings).problem == "chunker or index settings changed"


def test_the_index_shape_is_picked_by_size_recorded_with_why_and_an_explicit_one_rebuilds(tmp_path, index_dir,
                                                                                           embedder):
    manifest = FolderStore(index_dir).open().manifest
    assert manifest.index_kind == "flat" and manifest.extra["index_kind"].startswith("flat: auto,")
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    asked = IngestSettings(content_dir=FIXTURE_POSTS, index_dir=target, index_kind="ivf")
    assert check_index(asked).problem == "chunker or index settings changed"

    report = run_ingest(asked, embedder=embedder)

    assert not report.up_to_date and report.embedded == 0  # same passages, same vectors, another index
    version = FolderStore(target).open()
    assert version.manifest.index_kind == "ivf" and version.manifest.extra["index_kind"].startswith("ivf: asked")
    assert check_index(asked).current and _ingest(FIXTURE_POSTS, target, embedder).version != report.version


def test_switching_precision_reembeds_everything_and_the_service_follows_the_index(tmp_path, index_dir, embedders):
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    int8 = IngestSettings(content_dir=FIXTURE_POSTS, index_dir=target, embed_precision="int8")
    assert check_index(int8).problem == "model precision changed (fp32 -> int8)"

    report = run_ingest(int8, embedder=embedders.get(DEFAULT_MODEL, "int8"))

    assert (report.up_to_date, report.reused, report.embedded) == (False, 0, report.passages)
    assert FolderStore(target).manifest().precision == "int8"
    # The quantized model is kept beside the versions, on its own, for servers without PyTorch.
    fp32_copy, int8_copy = (FolderStore(target).model_path(DEFAULT_MODEL, p) for p in ("fp32", "int8"))
    assert fp32_copy is not None and int8_copy is not None
    assert (int8_copy / "model.onnx").stat().st_size < (fp32_copy / "model.onnx").stat().st_size / 2
    holder = IndexHolder(FolderStore(target), embedders, cache_bytes=0)  # a service configured for fp32
    holder.refresh()
    assert holder.live is not None and holder.live.embedder.precision == "int8"
    fp32 = IngestSettings(content_dir=FIXTURE_POSTS, index_dir=target)
    back = run_ingest(fp32, embedder=embedders.get(DEFAULT_MODEL, "fp32"))
    assert (back.reused, back.embedded) == (0, back.passages)  # no int8 vector in an fp32 index


def test_missing_content_folder_is_a_clear_error(tmp_path):
    from ingest.errors import IngestError

    with pytest.raises(IngestError, match="content folder not found"):
        run_ingest(IngestSettings(content_dir=tmp_path / "nope", index_dir=tmp_path / "index"))
