"""A blog built by Debian's hugo with the minimal test theme holding our partials: the one way the built-HTML
benchmark and the tests (tests/ingest/built, tests/browser) build a Hugo site."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from bench.common import ROOT

THEME = ROOT / "tests" / "browser" / "hugo-theme"
PARTIALS = ROOT / "service" / "static" / "hugo"  # casebook-search.html and casebook-related.html
TIMEOUT_S = 600


def build_with_test_theme(content: Path, config: Path, work: Path, base_url: str | None = None,
                          env: dict[str, str] | None = None) -> Path:
    """Build `content` with `config` (and the theme's overrides) into work/public; a failed build raises with
    hugo's output. `work` is a scratch --source, so nothing is written beside the blog's own files."""
    work = work.resolve()  # hugo reads relative paths from --source
    theme = work / "themes" / "casebook-test"
    shutil.copytree(THEME, theme)
    shutil.copytree(PARTIALS, theme / "layouts" / "partials")
    command = ["hugo", "--source", str(work), "--config", f"{config.resolve()},{THEME / 'site-overrides.toml'}",
               "--contentDir", str(content.resolve()), "--themesDir", str(work / "themes"), "--theme",
               "casebook-test", "--destination", str(work / "public"), "--cacheDir", str(work / "cache"),
               "--noBuildLock", "--quiet", *(["--baseURL", base_url] if base_url else [])]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"hugo failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return work / "public"
