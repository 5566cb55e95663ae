"""The search page in a real headless Chromium, driven by tests/browser/page.spec.mjs.

The node script types a query like a reader, checks results, deep links, the series panel,
keyboard moves and escaping, and prints a JSON summary; each check becomes one test here.
Install the tools with `bash tests/browser/install.sh`.
"""

from typing import Any

import pytest

from tests.helpers import ARTIFACTS, assert_node_check, missing_browser_tool, run_node

pytestmark = pytest.mark.browser

# tests/posts answers this from the Lighthouse series, so the series panel has parts to show.
QUERY = "idempotency keys for payment retries"

CHECKS = [
    "search_box_mounted",
    "has_post_groups",
    "has_passages",
    "query_in_url",
    "passage_links_are_deep_links",
    "series_panel_shows",
    "arrow_down_focuses_first_result",
    "arrow_up_returns_to_box",
    "slash_focuses_box",
    "escape_clears",
    "script_text_shown_literally",
    "no_injected_elements",
    "query_html_shown_as_text",
    "error_shows_detail",
    "one_ask_request_per_query",
    "why_toggle_explains_a_result",
    "typo_shows_showing_results_for",
    "exact_link_searches_as_typed",
    "answer_markers_link_to_sources",
    "fits_phone_width",
    "no_dialogs",
    "no_page_errors",
    "no_csp_violations",
]


@pytest.fixture(scope="module")
def summary(live_server: str) -> dict[str, Any]:
    """Run the node script once against the live service and return its JSON summary."""
    missing = missing_browser_tool()
    if missing:
        pytest.skip(missing)
    return run_node(["page.spec.mjs", live_server, str(ARTIFACTS), "--query", QUERY], "page")


@pytest.mark.parametrize("name", CHECKS)
def test_search_page_in_chromium(summary: dict[str, Any], name: str) -> None:
    """Each reader-level check the node script made passed."""
    assert_node_check(summary, name)


def test_browser_run_is_all_green_and_left_screenshots(summary: dict[str, Any]) -> None:
    """The script's overall verdict agrees, and the screenshots are on disk for a human to look at."""
    failed = [f"{c['name']}: {c['detail']}" for c in summary["checks"] if not c["ok"]]
    assert summary["ok"], "\n".join(failed)
    for name in summary["screenshots"]:
        assert (ARTIFACTS / name).stat().st_size > 1000, name
