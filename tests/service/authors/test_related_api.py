"""GET /api/related and `casebook related`: the posts an author would link, each signal on the fixture blog."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casebook.cli import main
from index import FolderStore
from service.authors.related import SIGNALS, LinkModel, PassageSpace, reason, related_posts, signals
from service.search.live import Live

PART_1 = "series/lighthouse/part-1-double-entry.md"
LIGHTHOUSE = {"series/lighthouse/part-2-idempotency-keys.md", "series/lighthouse/part-3-reconciliation.md"}
GATE_1, GATE_2, GATE_3 = ("series/gatekeeper/part-1-token-bucket.md", "series/gatekeeper/part-2-sliding-window.md",
                          "series/gatekeeper/part-3-distributed-limits-redis.md")


def related(client: TestClient, **params: object) -> dict:
    response = client.get("/api/related", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def space(index_dir: Path) -> PassageSpace:
    """What related posts derive from the fixture index."""
    return PassageSpace(Live(FolderStore(index_dir).open()))


def paths_of(space: PassageSpace, path: str, k: int = 10, **model: object) -> list[str]:
    return [r.post.path for r in related_posts(space.live, space, path, k, **model)]  # type: ignore[arg-type]


def test_series_part_is_related_first_to_its_own_series_and_never_to_itself(client: TestClient) -> None:
    body = related(client, path=PART_1)
    paths = [r["path"] for r in body["related"]]
    assert PART_1 not in paths
    assert set(paths[:2]) == LIGHTHOUSE
    assert (body["path"], body["count"]) == (PART_1, len(paths))


def test_hubs_and_root_pages_are_never_suggested(space: PassageSpace) -> None:
    for source in (PART_1, "series/lighthouse/_index.md", "posts/write-ahead-log.md"):
        assert not [p for p in paths_of(space, source, 20) if p.endswith("_index.md") or "/" not in p]


def test_the_next_part_outranks_a_farther_part_that_matches_more_text(space: PassageSpace) -> None:
    found = {r.post.path: r for r in related_posts(space.live, space, PART_1, 3)}
    part_2, part_3 = found["series/lighthouse/part-2-idempotency-keys.md"], found[
        "series/lighthouse/part-3-reconciliation.md"]
    assert part_3.signals["passages"] > part_2.signals["passages"]
    assert part_2.score > part_3.score


def test_the_part_a_post_builds_on_comes_first(space: PassageSpace) -> None:
    assert paths_of(space, GATE_3, 2) == [GATE_2, GATE_1]


def test_a_shared_technology_links_posts_across_series(space: PassageSpace) -> None:
    first = related_posts(space.live, space, "posts/caching-redis.md", 5)
    assert first[0].post.path == GATE_3  # both use Redis and carry its tag
    assert first[0].signals["names"] == max(r.signals["names"] for r in first)


@pytest.mark.parametrize(("source", "target", "signal"), [
    (GATE_3, GATE_2, "series"), (GATE_3, GATE_2, "neighbour"), (GATE_3, GATE_2, "previous"),
    (GATE_2, GATE_1, "previous"), ("posts/caching-redis.md", GATE_3, "names"),
    (GATE_2, GATE_1, "description"), (GATE_2, GATE_1, "passages"), (GATE_2, GATE_1, "best_pair"),
    (GATE_3, GATE_1, "section_inbound"), (GATE_3, GATE_1, "series_inbound"),  # part 2 links part 1
])
def test_each_signal_is_set_for_a_pair_that_has_it_and_zero_or_lower_for_unrelated_posts(
        space: PassageSpace, source: str, target: str, signal: str) -> None:
    values = signals(space, space.live.post(source))
    column = values[:, SIGNALS.index(signal)]
    assert column[space.row[target]] > column[space.row["posts/escaping-untrusted-html.md"]]
    assert 0.0 <= column.min() and column.max() <= 1.0


def test_series_templates_are_neither_evidence_nor_a_reason(space: PassageSpace) -> None:
    passages = space.live.version.passages
    assert sorted((passages[i].post_path, passages[i].heading) for i in space.templates) == [
        (GATE_1, "Operational Checklist"), (GATE_2, "Operational Checklist"), (GATE_3, "Operational Checklist")]
    assert not set(space.evidence[GATE_1]) & space.templates
    reasons = [reason(r) for p in (GATE_1, GATE_2, GATE_3) for r in related_posts(space.live, space, p, 5)]
    assert reasons and not [r for r in reasons if "Checklist" in r]


def with_links(space: PassageSpace, path: str, *links: str) -> PassageSpace:
    """The fixture index as if the post at `path` linked to exactly these URL paths."""
    version = space.live.version
    post = dataclasses.replace(version.posts[path], links=links)
    return PassageSpace(Live(dataclasses.replace(version, posts={**version.posts, path: post})))


@pytest.mark.parametrize(("source", "links"), [
    (GATE_3, None),  # its own link to the part it builds on
    ("posts/caching-redis.md", ("/posts/write-ahead-log/", "/series/tidepool/part-1-backpressure/")),
])
def test_a_posts_own_links_only_set_linked_and_never_move_its_ranking(space: PassageSpace, source: str,
                                                                      links: tuple[str, ...] | None) -> None:
    linked = space if links is None else with_links(space, source, *links)
    before = related_posts(linked.live, linked, source, 10)
    unlinked = with_links(space, source)
    after = related_posts(unlinked.live, unlinked, source, 10)
    assert [(r.post.path, r.score) for r in before] == [(r.post.path, r.score) for r in after]
    assert any(r.linked for r in before) and not any(r.linked for r in after)


@pytest.mark.parametrize(("source", "peer", "stranger"), [
    ("posts/caching-redis.md", "posts/write-ahead-log.md", "series/tidepool/part-1-backpressure.md"),
    ("series/tidepool/part-2-exactly-once-sinks.md", "series/tidepool/part-1-backpressure.md", GATE_1),
])
def test_a_link_from_the_sources_peers_counts_more_than_the_same_link_from_elsewhere(
        space: PassageSpace, source: str, peer: str, stranger: str) -> None:
    """Peers: the other articles of the source's section, the other parts of its series."""
    target = "posts/k8s-pod-autoscaling.md"

    def score(linker: str) -> float:
        version = space.live.version
        linking = with_links(space, linker, *version.posts[linker].links, "/posts/k8s-pod-autoscaling/")
        return next(r.score for r in related_posts(linking.live, linking, source, 10) if r.post.path == target)

    assert score(peer) > score(stranger)


def test_where_no_peer_link_leaves_its_series_sections_weigh_their_share_of_articles_and_scores_stay_chances(
        space: PassageSpace) -> None:
    """The fixture's series parts link nothing outside their own series, so there is no share to read."""
    source = space.live.post("series/lighthouse/part-3-reconciliation.md")
    column = signals(space, source)[:, SIGNALS.index("section_share")]
    sections = [space.live.version.posts[p].section for p in space.paths]
    assert column.tolist() == pytest.approx([sections.count(s) / len(sections) for s in sections])
    builds_on = related_posts(space.live, space, source.path, 1)[0]
    assert builds_on.post.path == "series/lighthouse/part-2-idempotency-keys.md" and builds_on.score > 0.5


def test_links_from_other_posts_raise_the_post_they_point_to(space: PassageSpace) -> None:
    version = space.live.version
    target = "series/lighthouse/part-3-reconciliation.md"
    linker = dataclasses.replace(version.posts["posts/write-ahead-log.md"],
                                 links=("/series/lighthouse/part-3-reconciliation/",))
    live = Live(dataclasses.replace(version, posts={**version.posts, linker.path: linker}))

    def score(space_: PassageSpace) -> float:
        return next(r.score for r in related_posts(space_.live, space_, PART_1, 10) if r.post.path == target)

    assert score(PassageSpace(live)) > score(space)


def test_equal_scores_fall_back_to_the_newer_post(space: PassageSpace) -> None:
    indifferent = LinkModel(weights=(0.0,) * len(SIGNALS), intercept=0.0)
    found = related_posts(space.live, space, PART_1, 20, indifferent)
    dates = [r.post.date for r in found]
    assert dates == sorted(dates, reverse=True) and {r.score for r in found} == {0.5}


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


def test_existing_links_are_reported(client: TestClient) -> None:
    rows = related(client, path="series/lighthouse/_index.md")["related"]
    assert {r["path"] for r in rows if r["linked"]} == {PART_1, *LIGHTHOUSE}
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
