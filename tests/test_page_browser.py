"""The search page in a real headless Chromium, driven by tests/browser/page.spec.mjs.

The node script types a query like a reader, checks results, deep links, the series panel,
keyboard moves and escaping, and prints a JSON summary; each check becomes one test here.
Install the tools with `bash tests/browser/install.sh`.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

BROWSER_DIR = Path(__file__).parent / "browser"
ARTIFACTS = Path(__file__).parent / ".artifacts"
CHROMIUM = os.environ.get("CASEBOOK_CHROMIUM", "/usr/bin/chromium")
# tests/posts answers this from the Lighthouse series, so the series panel has parts to show.
QUERY = "idempotency keys for payment retries"
TIMEOUT_S = 120

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


def _missing_tool() -> str | None:
    """Say what is missing to run the browser test, or None when all is there."""
    if shutil.which("node") is None:
        return "node is not installed (needs Node.js 20+)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: run `bash tests/browser/install.sh`"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return "playwright-core is not installed: run `bash tests/browser/install.sh`"
    return None


@pytest.fixture(scope="module")
def summary(live_server: str) -> dict[str, Any]:
    """Run the node script once against the live service and return its JSON summary."""
    missing = _missing_tool()
    if missing:
        pytest.skip(missing)
    return run_node(["page.spec.mjs", live_server, str(ARTIFACTS), "--query", QUERY], "page")


def run_node(arguments: list[str], label: str) -> dict[str, Any]:
    """Run a script of tests/browser; return its JSON summary (also kept as ARTIFACTS/LABEL-browser-summary.json)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["node", *arguments], cwd=BROWSER_DIR, capture_output=True, text=True,
                              timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"browser run took over {TIMEOUT_S} s; stderr: {exc.stderr!r}")
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"node exited {done.returncode} without a JSON summary:\n{done.stdout}\n{done.stderr}")
    (ARTIFACTS / f"{label}-browser-summary.json").write_text(done.stdout)
    if result.get("error"):
        pytest.fail(f"browser run broke before finishing its checks:\n{result['error']}")
    return result


@pytest.mark.parametrize("name", CHECKS)
def test_search_page_in_chromium(summary: dict[str, Any], name: str) -> None:
    """Each reader-level check the node script made passed."""
    checks = {c["name"]: c for c in summary["checks"]}
    assert name in checks, f"the node script made no check named {name!r}"
    assert checks[name]["ok"], f"{name}: {checks[name]['detail']}"


def test_browser_run_is_all_green_and_left_screenshots(summary: dict[str, Any]) -> None:
    """The script's overall verdict agrees, and the screenshots are on disk for a human to look at."""
    failed = [f"{c['name']}: {c['detail']}" for c in summary["checks"] if not c["ok"]]
    assert summary["ok"], "\n".join(failed)
    for name in summary["screenshots"]:
        assert (ARTIFACTS / name).stat().st_size > 1000, name
