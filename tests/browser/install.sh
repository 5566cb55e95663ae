#!/usr/bin/env bash
# Install what the browser tests need: Debian's Chromium and hugo (only if missing), and the pinned
# playwright-core and axe-core from package-lock.json. Never downloads a browser of Playwright's own.
# Exit 3 (after one line saying how to get them) when they cannot be installed here: not root, or
# no Node.js; `make test` then runs everything but the browser tests. Any other failure is an error.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v hugo >/dev/null 2>&1 || missing+=(hugo)  # builds the blog that tests/browser/test_blog_browser.py searches
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "browser tests skipped: ${missing[*]} missing; install (sudo apt-get install -y ${missing[*]}) or run make test as root" >&2
    exit 3
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "browser tests skipped: npm is missing; install Node.js 20+ (sudo apt-get install -y nodejs npm)" >&2
  exit 3
fi

# playwright-core ships no browser, and this variable makes sure no install hook fetches one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund --loglevel=error
echo "install.sh: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), $(hugo version | awk '{print $1, $2}'), playwright-core $(node -p 'require("playwright-core/package.json").version'), axe-core $(node -p 'require("axe-core/package.json").version')"
