#!/usr/bin/env bash
# Install what the browser test needs: Debian's Chromium (only if missing) and the pinned
# playwright-core from package-lock.json. Never downloads a browser of Playwright's own.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: /usr/bin/chromium is missing; run as root or: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install.sh: npm is missing; install Node.js 20+ (apt-get install -y nodejs npm)" >&2
  exit 1
fi

# playwright-core ships no browser, and this variable makes sure no install hook fetches one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund --loglevel=error
echo "install.sh: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), playwright-core $(node -p 'require("playwright-core/package.json").version')"
