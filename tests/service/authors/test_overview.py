"""What the authors' page shows: the change a version made, links to add, gaps per week, the most asked questions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from index import Embedder, FolderStore
from service.authors.crosslinks import PageRef, crosslinks
from service.authors.gap_log import Unanswered, record
from service.authors.overview import AuthorsView, weeks_ending
from service.search.live import Live
from tests.helpers import EDITED_POST, index_with_a_change

TODAY = date(2026, 11, 20)  # a Friday: the twelve weeks shown run from Monday 31 August to Monday 16 November
GRAPHQL = "How do I split a GraphQL schema across several teams with federation?"
ANSWERABLE = "when do idempotency keys expire?"


@pytest.fixture(scope="module")
def changed(index_dir: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The fixture index with a second version: one post edited, one added."""
    return index_with_a_change(index_dir, tmp_path_factory.mktemp("changed"), embedder)


def live_over(index: Path, embedder: Embedder) -> Live:
    store = FolderStore(index)
    return Live(store.open(), lambda: embedder)


@pytest.fixture
def gap_log(tmp_path: Path) -> Path:
    """Questions asked over the weeks before TODAY: one gap asked in three weeks, one question the blog answers,
    and a gap from before the twelve weeks shown."""
    log = tmp_path / "gaps.sqlite"
    times = ["2026-11-16T09:00:00+00:00"] * 3 + ["2026-11-10T09:00:00+00:00"] * 2 + ["2026-09-01T09:00:00+00:00"]
    rows = [Unanswered(at, "ask", GRAPHQL, 0.2, None) for at in times]
    rows.append(Unanswered("2026-06-01T09:00:00+00:00", "ask", "How do I tune autovacuum?", 0.2, None))
    answered = [("2026-11-19T09:00:00+00:00", ANSWERABLE)] * 7
    record(log, rows, [(r.asked_at, r.query) for r in rows] + answered)
    return log


def test_the_weeks_shown_are_the_twelve_mondays_up_to_today() -> None:
    weeks = weeks_ending(TODAY)
    assert (len(weeks), weeks[0], weeks[-1]) == (12, "2026-08-31", "2026-11-16")


def test_the_change_is_what_the_served_version_edited_and_added(changed: Path, embedder: Embedder) -> None:
    store = FolderStore(changed)
    first, second = store.versions()
    overview = AuthorsView(live_over(changed, embedder)).overview(store, None, TODAY)
    assert overview.version == second and overview.change.previous == first
    assert [p.path for p in overview.change.edited] == [EDITED_POST]
    assert overview.change.added == (PageRef("posts/new-drill.md", "new-drill", "/posts/new-drill/"),)
    assert overview.change.removed == ()


def test_a_version_with_nothing_before_it_has_no_change(index_dir: Path, embedder: Embedder) -> None:
    change = AuthorsView(live_over(index_dir, embedder)).overview(FolderStore(index_dir), None, TODAY).change
    assert (change.previous, change.added, change.edited, change.removed) == (None, (), (), ())


def test_the_cross_link_report_covers_the_whole_blog_and_is_made_once_per_version(index_dir: Path,
                                                                                   embedder: Embedder) -> None:
    live = live_over(index_dir, embedder)
    view = AuthorsView(live)
    first = view.overview(FolderStore(index_dir), None, TODAY)
    assert first.crosslinks == crosslinks(live)
    assert first.articles == 13 and first.crosslinks.orphans
    assert view.overview(FolderStore(index_dir), None, TODAY).crosslinks is first.crosslinks


def test_gaps_are_counted_week_by_week_over_the_weeks_shown(index_dir: Path, embedder: Embedder,
                                                           gap_log: Path) -> None:
    overview = AuthorsView(live_over(index_dir, embedder)).overview(FolderStore(index_dir), gap_log, TODAY)
    assert overview.gap_log and overview.unanswered == 6  # the June question is older than the weeks shown
    (group,) = overview.gaps
    assert (group.examples[0], group.asked) == (GRAPHQL, 6)
    assert group.weekly == {"2026-08-31": 1, "2026-11-09": 2, "2026-11-16": 3}
    assert set(group.weekly) <= set(overview.weeks)


def test_the_most_asked_questions_say_which_the_blog_could_not_answer(index_dir: Path, embedder: Embedder,
                                                                       gap_log: Path) -> None:
    overview = AuthorsView(live_over(index_dir, embedder)).overview(FolderStore(index_dir), gap_log, TODAY)
    assert [(q.query, q.asked, q.last_asked, q.answered) for q in overview.most_asked] == [
        (ANSWERABLE, 7, "2026-11-19", True), (GRAPHQL, 6, "2026-11-16", False)]


def test_the_gap_report_is_made_again_only_after_a_while(index_dir: Path, embedder: Embedder, gap_log: Path) -> None:
    view = AuthorsView(live_over(index_dir, embedder))
    before = view.overview(FolderStore(index_dir), gap_log, TODAY)
    record(gap_log, [Unanswered("2026-11-18T09:00:00+00:00", "ask", "What is a quokka?", 0.1, None)])
    again = view.overview(FolderStore(index_dir), gap_log, TODAY)
    assert again.gaps is before.gaps and again.unanswered == 6  # embedding the log again waits GAPS_SECONDS


def test_with_the_log_off_there_are_no_questions(index_dir: Path, embedder: Embedder) -> None:
    overview = AuthorsView(live_over(index_dir, embedder)).overview(FolderStore(index_dir), None, TODAY)
    assert (overview.gap_log, overview.unanswered, overview.gaps, overview.most_asked) == (False, 0, (), ())
