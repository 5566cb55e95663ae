"""The authors' page in a real headless Chromium, driven by tests/browser/authors.spec.mjs.

Two services over the fixture blog with a second version (one post edited, one added): one with an admin token
and a gap log of readers' questions (one of them written to inject HTML), one without a token. The script tries
every refusal, signs in through the form, reads the report, runs axe-core and takes screenshots.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from index import Embedder, Embedders
from service.authors.gap_log import Unanswered, record
from service.http.app import create_app
from service.settings import ServiceSettings
from tests.helpers import (
    ARTIFACTS,
    FIXTURES,
    assert_node_check,
    index_with_a_change,
    missing_browser_tool,
    run_node,
    serving,
)

pytestmark = pytest.mark.browser

TOKEN = "correct-horse-battery-staple-0123456789"
CRAFTED = "<img src=x onerror=\"document.title='owned'\"><b>bold</b> how do I shard a ledger across regions?"
CHECKS = [
    "no_token_configured_is_a_404",
    "no_token_is_a_401_with_the_sign_in_form",
    "axe_sign_in_form_no_serious_violations",
    "token_in_a_query_string_is_a_401",
    "wrong_token_is_a_401_saying_so",
    "right_token_by_header_opens_the_json",
    "sign_in_cookie_is_httponly_and_strict",
    "report_loaded",
    "gap_groups_with_weekly_charts",
    "most_asked_questions_listed",
    "change_and_links_listed",
    "crafted_question_shown_as_text",
    "axe_authors_page_no_serious_violations",
    "fits_phone_width",
    "sign_out_closes_the_page",
    "no_csp_violations",
    "no_page_errors",
]


def readers_questions(log: Path) -> None:
    """Some weeks of questions: two gaps asked in several wordings, the crafted one, and answered ones."""
    now = datetime.now(UTC)
    topics = json.loads((FIXTURES / "gap-questions.json").read_text(encoding="utf-8"))["topics"]
    rows = []
    for topic in ("graphql", "terraform"):
        for n, (query, times) in enumerate(topics[topic].items()):
            for i in range(min(times, 8)):
                at = (now - timedelta(days=(3 * i + n) % 60)).isoformat(timespec="seconds")
                rows.append(Unanswered(at, "ask", query, 0.2, None))
    rows += [Unanswered((now - timedelta(days=d)).isoformat(timespec="seconds"), "search", CRAFTED, 0.1, None)
             for d in (1, 9, 20)]
    answered = [((now - timedelta(days=d)).isoformat(timespec="seconds"), "when do idempotency keys expire?")
                for d in range(0, 40, 2)]
    record(log, rows, [(r.asked_at, r.query) for r in rows] + answered)


@pytest.fixture(scope="module")
def summary(index_dir: Path, embedder: Embedder, embedders: Embedders,
            tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both services up, the script run once against them."""
    missing = missing_browser_tool()
    if missing:
        pytest.skip(missing)
    work = tmp_path_factory.mktemp("authors")
    index = index_with_a_change(index_dir, work, embedder)
    log = work / "gaps.sqlite"
    readers_questions(log)
    opened = ServiceSettings(index_dir=index, admin_token=TOKEN, gap_log=log, reload_seconds=3600)
    closed = ServiceSettings(index_dir=index, gap_log=None, reload_seconds=3600)
    with serving(create_app(opened, embedders)) as base, serving(create_app(closed, embedders)) as bare:
        return run_node(["authors.spec.mjs", base, str(ARTIFACTS), "--closed", bare, "--token", TOKEN,
                         "--crafted", CRAFTED], "authors")


@pytest.mark.parametrize("name", CHECKS)
def test_authors_page_in_chromium(summary: dict[str, Any], name: str) -> None:
    """Each check the node script made passed."""
    assert_node_check(summary, name)


def test_the_most_asked_gap_leads_and_the_screenshots_are_there(summary: dict[str, Any]) -> None:
    assert summary["ok"], [c for c in summary["checks"] if not c["ok"]]
    gaps = summary["seen"]["gaps"]
    assert "GraphQL" in gaps[0]["question"] and "Terraform" in gaps[1]["question"]  # 46 and 32 times
    assert summary["seen"]["asked"][0][:2] == ["when do idempotency keys expire?", "20"]
    for name in summary["screenshots"]:
        assert (ARTIFACTS / name).stat().st_size > 1000, name
