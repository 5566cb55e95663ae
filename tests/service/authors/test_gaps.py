"""Content gaps: the service logs what it could not answer, and `casebook gaps` groups it by meaning."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import escape as escape_html
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markdown_it import MarkdownIt

from casebook.cli import main
from index import Embedders
from service.authors.gap_log import (
    OFFERS_PER_HOUR,
    ROWS_PER_HOUR,
    Asked,
    GapLog,
    Unanswered,
    most_asked,
    prune,
    read_unanswered,
    record,
)
from service.authors.gap_report import GapGroup, GapReport, PostRef, to_markdown
from service.http.app import create_app
from service.search.holder import IndexHolder
from service.search.live import Live
from service.settings import ServiceSettings
from tests.helpers import FIXTURES, wait_until

Capture = pytest.CaptureFixture[str]
SYNTHETIC = json.loads((FIXTURES / "gap-questions.json").read_text(encoding="utf-8"))
UNANSWERABLE = "How do I split a GraphQL schema across several teams with federation?"
ANSWERABLE = "when do idempotency keys expire?"


def synthetic_rows() -> list[Unanswered]:
    """A few hundred logged questions: five topics asked 90, 60, 40, 25 and 15 times in several wordings,
    then twelve one-off questions, the one-offs logged later than the rest."""
    rows = []
    for wordings in SYNTHETIC["topics"].values():
        for query, times in wordings.items():
            rows += [Unanswered(f"2026-11-{1 + i % 9:02d}T10:00:00+00:00", "search", query, 0.2, None)
                     for i in range(times)]
    rows += [Unanswered("2026-11-20T10:00:00+00:00", "ask", q, 0.1, None) for q in SYNTHETIC["one_offs"]]
    return rows


@pytest.fixture
def synthetic_log(tmp_path: Path) -> Path:
    path = tmp_path / "gaps.sqlite"
    record(path, synthetic_rows())
    return path


def gaps_json(index_dir: Path, log: Path, capsys: Capture, *flags: str) -> dict:
    assert main(["gaps", "--index", str(index_dir), "--log", str(log), "--format", "json", *flags]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def fixture_live(index_dir: Path, embedders: Embedders) -> Live:
    """The fixture blog's version as the service serves it."""
    holder = IndexHolder(ServiceSettings(index_dir=index_dir, gap_log=None).store(), embedders, cache_bytes=2**20)
    holder.refresh()
    assert holder.live is not None
    return holder.live


def topic_of(question: str) -> str:
    return next((t for t, wordings in SYNTHETIC["topics"].items() if question in wordings), question)


def test_near_duplicates_and_rewordings_form_one_group_ranked_by_times_asked(index_dir: Path, synthetic_log: Path,
                                                                              capsys: Capture) -> None:
    report = gaps_json(index_dir, synthetic_log, capsys)
    assert report["questions"] == len(synthetic_rows()) == 242
    groups = report["groups"]
    assert [(g["asked"], g["wordings"]) for g in groups[:5]] == [(90, 6), (60, 4), (40, 4), (25, 3), (15, 2)]
    assert [topic_of(g["examples"][0]) for g in groups[:5]] == ["graphql", "terraform", "push", "vacuum", "wasm"]
    assert all(len({topic_of(e) for e in g["examples"]}) == 1 for g in groups)  # no group mixes subjects
    assert sorted(g["examples"][0] for g in groups[5:]) == sorted(SYNTHETIC["one_offs"])  # one-offs stay alone
    assert groups[0]["examples"][0] == UNANSWERABLE  # its most asked wording first
    assert (groups[0]["first_asked"], groups[0]["last_asked"]) == ("2026-11-01T10:00:00+00:00",
                                                                    "2026-11-09T10:00:00+00:00")
    # 2026-11-01 is a Sunday: its week starts on 26 October; the 2nd to the 8th are one week, the 9th the next
    assert list(groups[0]["weekly"]) == ["2026-10-26", "2026-11-02", "2026-11-09"]
    assert sum(groups[0]["weekly"].values()) == 90
    closest = groups[0]["closest"]
    assert 1 <= len(closest) <= 3 and set(closest[0]) == {"path", "title", "url", "score"}
    assert [c["score"] for c in closest] == sorted((c["score"] for c in closest), reverse=True)


def test_since_keeps_the_questions_asked_from_that_day_on(index_dir: Path, synthetic_log: Path,
                                                           capsys: Capture) -> None:
    report = gaps_json(index_dir, synthetic_log, capsys, "--since", "2026-11-20")
    assert (report["since"], report["questions"], len(report["groups"])) == ("2026-11-20", 12, 12)


def test_markdown_report_lists_the_top_groups_with_examples_and_closest_posts(index_dir: Path, synthetic_log: Path,
                                                                               capsys: Capture) -> None:
    assert main(["gaps", "--index", str(index_dir), "--log", str(synthetic_log), "--top", "2"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Content gaps: what readers asked that the blog does not answer\n\n242 unanswered "
                           "questions in ")
    assert f"## 1. ` {UNANSWERABLE} ` — asked 90× (6 wordings, 2026-11-01 to 2026-11-09)\n" in text
    assert "## 2. ` How do you lock Terraform state so two engineers cannot apply at once? ` — asked 60×" in text
    assert "## 3." not in text and text.count("- Closest posts: [") == 2
    assert text.endswith("15 smaller groups not shown (--top, or --format json for all).\n")


def test_an_empty_or_missing_log_is_a_clear_message(index_dir: Path, tmp_path: Path, capsys: Capture) -> None:
    empty = tmp_path / "empty.sqlite"
    record(empty, [])
    for log in (tmp_path / "missing.sqlite", empty):
        assert main(["gaps", "--index", str(index_dir), "--log", str(log)]) == 0
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith(f"casebook gaps: no unanswered questions in {log} yet.")
    report = gaps_json(index_dir, empty, capsys)  # JSON stays JSON when empty
    assert (report["questions"], report["groups"]) == (0, [])


@pytest.mark.parametrize(("flags", "env", "message"), [
    (["--since", "last week"], {}, "casebook gaps: --since has value 'last week'. Not a date (YYYY-MM-DD)."),
    ([], {"CASEBOOK_GAP_LOG": "off"}, "casebook gaps: the gap log is off (CASEBOOK_GAP_LOG=off); nothing was recorded"),
])
def test_bad_input_is_one_line_and_exit_2(index_dir: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch,
                                          flags: list[str], env: dict[str, str], message: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["gaps", "--index", str(index_dir), *flags]) == 2
    assert capsys.readouterr().err.strip() == message


def test_a_file_that_is_not_a_gap_log_is_exit_2(index_dir: Path, tmp_path: Path, capsys: Capture) -> None:
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).close()
    assert main(["gaps", "--index", str(index_dir), "--log", str(other)]) == 2
    assert capsys.readouterr().err.startswith(f"casebook gaps: {other}: not a readable gap log (no such table")


def test_the_log_is_beside_the_index_by_default_and_off_with_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASEBOOK_GAP_LOG", raising=False)
    assert ServiceSettings.from_env(index_dir=Path("/srv/index")).gap_log == Path("/srv/index/gaps.sqlite")
    monkeypatch.setenv("CASEBOOK_GAP_LOG", "off")
    assert ServiceSettings.from_env(index_dir=Path("/srv/index")).gap_log is None
    monkeypatch.setenv("CASEBOOK_GAP_LOG", "/var/lib/casebook/gaps.sqlite")
    assert ServiceSettings.from_env().gap_log == Path("/var/lib/casebook/gaps.sqlite")
    monkeypatch.setenv("CASEBOOK_PROFILE", "production")
    production = ServiceSettings.from_env()
    assert (production.gap_log_max_rows, production.gap_log_max_days) == (50_000, 90)


def ask_like_the_page(client: TestClient, question: str) -> None:
    """What the search page sends for a question: /api/search and /api/ask with the same text."""
    assert client.get("/api/search", params={"q": question}).status_code == 200
    assert client.get("/api/ask", params={"q": question}).status_code == 200


def test_the_service_logs_what_it_could_not_answer_once_and_nothing_else(index_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "gaps.sqlite"
    with TestClient(create_app(ServiceSettings(index_dir=index_dir, gap_log=log))) as client:
        ask_like_the_page(client, UNANSWERABLE)
        ask_like_the_page(client, ANSWERABLE)
        for typed in ("how do I tune post", "how do I tune postgres autovacuum", "idempotency keys"):
            assert client.get("/api/search", params={"q": typed}).status_code == 200
    rows = read_unanswered(log)  # the lifespan's end wrote what was still settling
    assert [(r.endpoint, r.query) for r in rows] == [("ask", UNANSWERABLE),
                                                     ("search", "how do I tune postgres autovacuum")]
    assert all(0.0 < r.top_score < 0.48 and r.closest and r.closest.endswith(".md") for r in rows)
    columns = [c[1] for c in sqlite3.connect(log).execute("PRAGMA table_info(unanswered)")]
    assert columns == ["id", "asked_at", "endpoint", "query", "top_score", "closest"]  # no client, no header
    today = datetime.now(UTC).date().isoformat()
    asked = [(a.query, a.asked) for a in most_asked(log, today, 10)]  # answered or not, each once
    assert asked == [(UNANSWERABLE, 1), ("how do I tune postgres autovacuum", 1), ("idempotency keys", 1),
                     (ANSWERABLE, 1)]
    columns = [c[1] for c in sqlite3.connect(log).execute("PRAGMA table_info(asked)")]
    assert columns == ["day", "key", "query", "n"]


def test_the_most_asked_questions_count_every_wording_that_differs_only_in_case_and_spacing(tmp_path: Path) -> None:
    log = tmp_path / "gaps.sqlite"
    record(log, [], [("2026-11-02T08:00:00+00:00", "What is a WAL?"), ("2026-11-03T09:00:00+00:00", "what is  a wal?"),
                     ("2026-11-03T10:00:00+00:00", "How do Redis locks expire?"),
                     ("2026-10-01T10:00:00+00:00", "How do Redis locks expire?")])
    assert most_asked(log, "2026-11-01", 5) == [Asked("what is a wal?", 2, "2026-11-03"),
                                                Asked("How do Redis locks expire?", 1, "2026-11-03")]
    assert most_asked(log, "2026-11-01", 1) == [Asked("what is a wal?", 2, "2026-11-03")]
    assert most_asked(tmp_path / "missing.sqlite", "2026-11-01", 5) == []


def test_an_unwritable_log_never_fails_a_request_and_is_logged_once(index_dir: Path, tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="casebook.gaps")
    with TestClient(create_app(ServiceSettings(index_dir=index_dir, gap_log=tmp_path))) as client:  # a folder
        for question in (UNANSWERABLE, "how do I tune postgres autovacuum?"):
            assert client.get("/api/ask", params={"q": question}).status_code == 200
    errors = [r.getMessage() for r in caplog.records if r.name == "casebook.gaps"]
    assert len(errors) == 1 and errors[0].startswith(f"gap log {tmp_path} cannot be written")


def test_retention_keeps_the_newest_rows_within_the_age_limit(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    rows = [Unanswered((now - timedelta(days=age)).isoformat(timespec="seconds"), "search", f"q{age}", 0.1, None)
            for age in (40, 20, 10, 5, 1, 0)]
    log = tmp_path / "gaps.sqlite"
    record(log, rows, [(r.asked_at, r.query) for r in rows])
    con = sqlite3.connect(log)
    with con:
        prune(con, max_rows=3, max_days=30)
    con.close()
    assert [r.query for r in read_unanswered(log)] == ["q5", "q1", "q0"]
    assert sorted(a.query for a in most_asked(log, "2000-01-01", 10)) == ["q0", "q1", "q5"]


def written(log: Path) -> list[str]:
    """The questions in the log, oldest first."""
    return [r.query for r in read_unanswered(log)]


def not_found(gaps: GapLog, live: Live, question: str, client: str) -> None:
    """What /api/ask hands the log when it found no answer."""
    gaps.offer(live, "ask", question, False, asker=client)


@pytest.fixture
def running_log(tmp_path: Path) -> Iterator[GapLog]:
    gaps = GapLog(tmp_path / "gaps.sqlite", max_rows=50_000, max_days=90, settle_seconds=0.01)
    gaps.start()
    yield gaps
    gaps.close()


@pytest.mark.parametrize("junk", ["qwrtz plkjh", "zzzzzzzzzz", "!!!???", "12345 67890", "\u4e00\u4e01\u4e02",
                                  "aGVsbG8gd29ybGQ=", "🔥🔥🔥"])
def test_junk_is_not_logged(fixture_live: Live, running_log: GapLog, junk: str) -> None:
    not_found(running_log, fixture_live, junk, "203.0.113.1")
    not_found(running_log, fixture_live, UNANSWERABLE, "203.0.113.1")
    running_log.close()
    assert written(running_log.path) == [UNANSWERABLE]  # type: ignore[arg-type]
    assert running_log.junk == 1


def test_ten_thousand_questions_from_one_client_leave_the_others_in_the_log(fixture_live: Live,
                                                                            running_log: GapLog) -> None:
    spam = ["cheap pills casino bonus", "qwrtz plkjh mnbvc", "free crypto prize now"]
    for n in range(10_000):
        not_found(running_log, fixture_live, f"{n} {spam[n % 3]}", "203.0.113.66")  # never a prefix of another
    readers = [UNANSWERABLE, "How do you lock Terraform state so two engineers cannot apply at once?"]
    for n, question in enumerate(readers):
        not_found(running_log, fixture_live, question, f"198.51.100.{n}")
    running_log.close()
    logged = written(running_log.path)  # type: ignore[arg-type]
    assert set(readers) <= set(logged)
    assert len(logged) - len(readers) <= ROWS_PER_HOUR  # the flood's rows: its hourly cap, no more
    assert running_log.dropped >= 10_000 - OFFERS_PER_HOUR


def test_the_log_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    fresh, old = tmp_path / "fresh.sqlite", tmp_path / "old.sqlite"
    sqlite3.connect(old).close()
    old.chmod(0o644)  # as an earlier Casebook left it
    for log in (fresh, old):
        record(log, [Unanswered("2026-11-01T10:00:00+00:00", "ask", "a question", 0.1, None)])
        assert [f.stat().st_mode & 0o777 for f in tmp_path.glob(f"{log.name}*")] == [0o600] * len(
            list(tmp_path.glob(f"{log.name}*")))


def test_retention_runs_at_start_and_on_a_timer_without_waiting_for_writes(tmp_path: Path) -> None:
    log = tmp_path / "gaps.sqlite"
    old = (datetime.now(UTC) - timedelta(days=100)).isoformat(timespec="seconds")
    for every in (3600.0, 0.2):  # an hour: only the pass at start can prune in time; then a short timer
        record(log, [Unanswered(old, "ask", "asked long ago", 0.1, None)])
        gaps = GapLog(log, max_rows=0, max_days=90, prune_seconds=every)
        gaps.start()
        try:
            if every < 1:
                wait_until(lambda: written(log) == [])
                record(log, [Unanswered(old, "ask", "asked long ago, once the log was running", 0.1, None)])
            wait_until(lambda: written(log) == [], timeout=10)  # nothing was offered: no write prunes it
        finally:
            gaps.close()


def test_reader_text_in_the_markdown_report_is_never_a_link_image_or_html() -> None:
    hostile = ["see [my site](https://evil.example) now", "![x](https://evil.example/pixel.png)",
               "<script>alert(1)</script> <img src=x onerror=alert(1)>", "# heading `tick` ``two`` **bold**",
               "https://evil.example/autolink www.evil.example"]
    post = PostRef("posts/x.md", "A [title] with *marks* <b>", "https://blog.example/x/", 0.4)
    report = GapReport("gaps.sqlite", None, 5, "v1", tuple(
        GapGroup(1, (q, hostile[0]), 2, "2026-11-01T10:00:00+00:00", "2026-11-01T10:00:00+00:00", (post,),
                 {"2026-10-26": 2})
        for q in hostile))
    html = MarkdownIt("commonmark", {"linkify": False}).render(to_markdown(report, top=10))
    assert "<script" not in html and "<img" not in html and "<h3" not in html and "<strong>" not in html
    assert html.count("<a ") == len(hostile)  # the blog's own link to its post, once per group
    assert html.count('href="https://blog.example/x/"') == len(hostile) and "evil.example\"" not in html
    for question in hostile:  # each shown as typed, in a code span
        assert f"<code>{escape_html(question)}</code>" in html
