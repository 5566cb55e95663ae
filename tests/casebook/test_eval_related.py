"""`casebook eval --related`: Hugo's related content (checked against the hugo binary), and the table it prints."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from casebook.cli import main
from casebook.eval.hugo_related import HugoPage, HugoRelated, read_pages
from casebook.eval.questions import BadQuestions
from casebook.eval.related import LinkedPost, read_related, run_related, summarise_related
from tests.helpers import FIXTURE_POSTS

Capture = pytest.CaptureFixture[str]
GATE_1, GATE_2, GATE_3 = ("series/gatekeeper/part-1-token-bucket.md", "series/gatekeeper/part-2-sliding-window.md",
                          "series/gatekeeper/part-3-distributed-limits-redis.md")
LINKS = [
    {"path": GATE_3, "links": [GATE_2]},
    {"path": "posts/caching-redis.md", "links": [GATE_3]},
    {"path": "series/lighthouse/part-1-double-entry.md", "links": ["series/lighthouse/part-2-idempotency-keys.md"]},
    {"path": "posts/k8s-pod-autoscaling.md", "links": []},
]
# What `hugo` prints for every regular page: `.Site.RegularPages.Related .`, the first ten, as JSON lines.
HUGO_TEMPLATE = """{{- range .Site.RegularPages -}}
{"path": {{ .File.Path | jsonify }}, "related": [{{ range $i, $p := first 10 (.Site.RegularPages.Related .) }}\
{{ if $i }}, {{ end }}{{ $p.File.Path | jsonify }}{{ end }}]}
{{ end -}}"""
SHORTCODE = re.compile(r"\{\{[<%]\s*([\w-]+)")
HUGO_CONFIG = """baseURL = "https://blog.example/"
buildFuture = true
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
[related]
  includeNewer = true
  threshold = 80
  [[related.indices]]
    name = "keywords"
    weight = 100
  [[related.indices]]
    name = "date"
    weight = 10
  [[related.indices]]
    name = "tags"
    weight = 80
"""


def page(path: str, tags: tuple[str, ...] = (), keywords: tuple[str, ...] = (), year: str = "2026",
         published: float = 0.0) -> HugoPage:
    return HugoPage(path=path, keywords=keywords, year=year, tags=tags, published=published)


def test_hugo_ranks_by_shared_keywords_and_tags_and_drops_pages_sharing_only_the_year() -> None:
    hugo = HugoRelated([
        page("a.md", tags=("go", "kafka"), keywords=("outbox",)),
        page("b.md", tags=("go", "kafka")),  # 10 + 80 + 80 = 170
        page("c.md", tags=("go",), keywords=("outbox",)),  # 10 + 80 + 100 = 190
        page("d.md", tags=("Go",)),  # toLower is off: "Go" is not "go"; the year alone is below the threshold
        page("e.md", tags=("kafka",), year="2020"),  # one tag, another year: 80 on its own passes
    ])
    assert hugo.related("a.md") == ["c.md", "b.md", "e.md"]
    assert hugo.related("d.md") == []
    assert hugo.related("nope.md") == []


def test_hugo_breaks_ties_by_the_newer_page_and_lists_newer_pages_too() -> None:
    hugo = HugoRelated([page("old.md", tags=("x",), published=1.0), page("mid.md", tags=("x",), published=2.0),
                        page("new.md", tags=("x",), published=3.0)])
    assert hugo.related("mid.md") == ["new.md", "old.md"]  # includeNewer: a newer page is a candidate


def hugo_binary_related(content: Path, work: Path) -> dict[str, list[str]]:
    """Build a copy of `content` with the real hugo and a theme that prints related content per page."""
    site = work / "site"
    shutil.copytree(content, site / "content")
    (site / "content" / "posts" / "broken-front-matter.md").unlink(missing_ok=True)  # hugo refuses the build
    (site / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    layouts = site / "layouts"
    (layouts / "_default").mkdir(parents=True)
    (layouts / "shortcodes").mkdir()
    (layouts / "index.html").write_text(HUGO_TEMPLATE, encoding="utf-8")
    for name in ("_default/single.html", "_default/list.html"):
        (layouts / name).write_text("", encoding="utf-8")
    # Every shortcode the posts use gets a template (related content never reads the body); hugo wants
    # one that reads .Inner where the shortcode is closed, and one that does not where it stands alone.
    texts = [f.read_text(encoding="utf-8") for f in (site / "content").rglob("*.md")]
    for name in {m for text in texts for m in SHORTCODE.findall(text)} - {"/"}:
        closed = any(re.search(r"\{\{[<%]\s*/\s*" + re.escape(name) + r"\b", text) for text in texts)
        (layouts / "shortcodes" / f"{name}.html").write_text("{{ .Inner }}" if closed else "", encoding="utf-8")
    subprocess.run(["hugo", "--quiet", "-s", str(site), "-d", str(work / "public")], check=True, timeout=120)
    lines = (work / "public" / "index.html").read_text(encoding="utf-8").splitlines()
    return {row["path"]: row["related"] for row in map(json.loads, filter(str.strip, lines))}


@pytest.mark.skipif(shutil.which("hugo") is None, reason="the hugo binary is not installed")
def test_the_reimplementation_lists_what_the_hugo_binary_lists_on_the_fixture_blog(tmp_path: Path) -> None:
    expected = hugo_binary_related(FIXTURE_POSTS, tmp_path)
    ours = HugoRelated(read_pages(FIXTURE_POSTS))
    assert set(ours.pages) == set(expected)
    for path, related in expected.items():
        # Exact ties (same weight, same timestamp) come in Go's map order, which is random: compare as sets.
        assert set(ours.related(path)) == set(related), path


def test_related_file_is_read_and_a_bad_line_names_its_path_and_line(tmp_path: Path) -> None:
    good = tmp_path / "related.jsonl"
    good.write_text("\n".join(json.dumps(row) for row in LINKS) + "\n\n", encoding="utf-8")
    assert read_related(good)[0] == LinkedPost(GATE_3, (GATE_2,))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(LINKS[0]) + '\n{"path": "x.md", "links": "y.md"}\n', encoding="utf-8")
    with pytest.raises(BadQuestions, match=r"bad.jsonl:2: not a linked post \(links must be a list"):
        read_related(bad)


def test_recall_and_ndcg_per_section_leave_out_posts_without_links() -> None:
    posts = [LinkedPost(**row) for row in LINKS]  # type: ignore[arg-type]
    answers = {GATE_3: [GATE_1, GATE_2], "posts/caching-redis.md": [GATE_3]}
    table = summarise_related(run_related(lambda path: answers.get(path, []), posts))
    assert table["posts"] == {"n": 1, "recall": 1.0, "ndcg": 1.0}
    assert table["series"] == {"n": 2, "recall": 0.5, "ndcg": pytest.approx(0.3155, abs=1e-4)}  # 1/log2(3) / 2
    assert table["all"]["n"] == 3


@pytest.fixture
def fixture_site(tmp_path: Path) -> tuple[Path, Path]:
    """A Hugo site root around the fixture content, and a related file for it."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "content").symlink_to(FIXTURE_POSTS)
    related = tmp_path / "related.jsonl"
    related.write_text("\n".join(json.dumps(row) for row in LINKS), encoding="utf-8")
    return tmp_path / "site", related


def test_eval_related_scores_casebook_and_hugo_per_section(index_dir: Path, fixture_site: tuple[Path, Path],
                                                           capsys: Capture) -> None:
    site, related = fixture_site
    args = ["eval", "--related", str(related), "--index", str(index_dir), "--site", str(site)]
    assert main([*args, "--json"]) == 0
    systems = json.loads(capsys.readouterr().out)["systems"]
    assert systems["casebook"]["all"] == {"n": 3, "recall": 1.0, "ndcg": 1.0}
    # Hugo ranks the near-copy of caching-redis and the other Lighthouse part above the linked post.
    assert systems["hugo"]["posts"] == {"n": 1, "recall": 1.0, "ndcg": pytest.approx(0.6309, abs=1e-4)}
    assert systems["hugo"]["series"]["ndcg"] == pytest.approx(0.8155, abs=1e-4)
    assert main(args) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split("|")[1:-1] == [
        " section ", " posts ", " casebook R@10 ", " casebook nDCG@10 ", " hugo R@10 ", " hugo nDCG@10 "]
    assert "| series  | 2     | 1.000         | 1.000            | 1.000     | 0.816        |" in table
    assert "3 posts with links scored (1 without links left out)" in table


@pytest.mark.parametrize(("extra", "message"), [
    ([], "casebook eval: --related needs --site (the Hugo site root), for Hugo's related content"),
    (["--site", "nowhere"], "casebook eval: nowhere has no content/ folder; --site is the Hugo site root"),
])
def test_eval_related_without_a_site_is_one_line_and_exit_2(index_dir: Path, fixture_site: tuple[Path, Path],
                                                            capsys: Capture, extra: list[str], message: str) -> None:
    _, related = fixture_site
    assert main(["eval", "--related", str(related), "--index", str(index_dir), *extra]) == 2
    assert capsys.readouterr().err.strip() == message


def test_eval_related_with_a_missing_file_or_none_with_links_is_exit_2(index_dir: Path, tmp_path: Path,
                                                                       fixture_site: tuple[Path, Path],
                                                                       capsys: Capture) -> None:
    site, _ = fixture_site
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps(LINKS[-1]) + "\n", encoding="utf-8")
    for path in (tmp_path / "missing.jsonl", empty):
        assert main(["eval", "--related", str(path), "--index", str(index_dir), "--site", str(site)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"casebook eval: {tmp_path / 'missing.jsonl'}: cannot read")
    assert err[1] == f"casebook eval: no post with links in {empty}"


def test_eval_needs_queries_or_related(capsys: Capture) -> None:
    assert main(["eval"]) == 2
    assert "give --queries FILE (judged questions) or --related FILE (authors' links)" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("hugo") is None, reason="the hugo binary is not installed")
def test_the_reimplementation_agrees_with_hugo_on_the_real_blog(shared_site: Path, tmp_path: Path) -> None:
    expected = hugo_binary_related(shared_site / "content", tmp_path)
    ours = HugoRelated(read_pages(shared_site / "content"))
    assert set(ours.pages) == set(expected)
    for path, related in expected.items():
        ranked = ours.ranked(path)
        key = {other: (weight, ours.pages[other].published) for other, weight in ranked}
        listed = [other for other, _ in ranked[:10]]
        # Lists may differ only where the tenth place is an exact tie (same weight, same time),
        # which Hugo settles in Go's map order, at random.
        assert all(key.get(other) == key[listed[-1]] for other in set(related) ^ set(listed)), path
