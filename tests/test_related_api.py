"""GET /api/related and `casebook related`: posts worth linking, from passage-level evidence."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casebook.cli import main

PART_1 = "series/lighthouse/part-1-double-entry.md"
LIGHTHOUSE = {"series/lighthouse/_index.md", "series/lighthouse/part-2-idempotency-keys.md",
              "series/lighthouse/part-3-reconciliation.md"}


def related(client: TestClient, **params: object) -> dict:
    response = client.get("/api/related", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_series_part_is_related_first_to_its_own_series_and_never_to_itself(client: TestClient) -> None:
    body = related(client, path=PART_1)
    paths = [r["path"] for r in body["related"]]
    assert PART_1 not in paths
    assert set(paths[:3]) == LIGHTHOUSE
    assert (body["path"], body["count"]) == (PART_1, len(paths))


def test_each_result_has_the_documented_fields_and_a_reason_naming_two_sections(client: TestClient) -> None:
    first = related(client, path=PART_1, k=1)["related"][0]
    assert set(first) == {"path", "title", "url", "series", "score", "linked", "reason"}
    assert "↔" in first["reason"]
    assert first["series"] == ["lighthouse"]


def test_scores_are_best_first_and_k_limits_the_list(client: TestClient) -> None:
    scores = [r["score"] for r in related(client, path=PART_1, k=4)["related"]]
    assert len(scores) == 4
    assert scores == sorted(scores, reverse=True)


def test_near_duplicate_of_the_source_is_not_suggested(client: TestClient) -> None:
    paths = [r["path"] for r in related(client, path="posts/caching-redis.md")["related"]]
    assert "posts/caching-redis.md" not in paths
    assert "posts/caching-redis-copy.md" not in paths


def test_existing_links_are_reported_not_used_to_rank(client: TestClient) -> None:
    rows = related(client, path="series/lighthouse/_index.md")["related"]
    linked = {r["path"] for r in rows if r["linked"]}
    assert linked == {PART_1, *LIGHTHOUSE} - {"series/lighthouse/_index.md"}
    assert not any(r["linked"] for r in related(client, path=PART_1)["related"])


@pytest.mark.parametrize("url", [
    "/series/lighthouse/part-1-double-entry/",
    "https://blog.example/series/lighthouse/part-1-double-entry",
    "/SERIES/Lighthouse/part-1-double-entry/",
])
def test_post_can_be_named_by_its_url(client: TestClient, url: str) -> None:
    assert related(client, url=url)["related"] == related(client, path=PART_1)["related"]


@pytest.mark.parametrize(("params", "status", "detail"), [
    ({"path": "posts/nope.md"}, 404, "no post at path 'posts/nope.md'"),
    ({"url": "/posts/nope/"}, 404, "no post at URL '/posts/nope/'"),
    ({}, 422, "give exactly one of path or url"),
    ({"path": PART_1, "url": "/posts/write-ahead-log/"}, 422, "give exactly one of path or url"),
])
def test_unknown_or_missing_post_is_an_error_with_message(client: TestClient, params: dict, status: int,
                                                           detail: str) -> None:
    response = client.get("/api/related", params=params)
    assert (response.status_code, response.json()["detail"]) == (status, detail)


def test_cli_related_prints_the_list(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["related", PART_1, "--index", str(index_dir), "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Related to Lighthouse Part 1: Double-Entry Bookkeeping")
    assert out.count("↔") == 3


def test_cli_related_unknown_path_exits_2(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["related", "posts/nope.md", "--index", str(index_dir)]) == 2
    assert "no post at path 'posts/nope.md'" in capsys.readouterr().err
