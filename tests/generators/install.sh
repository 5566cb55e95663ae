#!/usr/bin/env bash
# Install the static-site generators tests/ingest/built/test_generators.py builds blogs with, the way their users
# install them: Jekyll with its minima theme from Debian (as root, only if missing), Eleventy from npm at the
# version package-lock.json pins. Pelican and MkDocs come from PyPI with the `dev` extra. A generator that
# cannot be installed here gets one line saying why, and its tests skip; the rest of `make test` goes on.
set -uo pipefail
cd "$(dirname "$0")"

jekyll_packages=(jekyll jekyll-theme-minima ruby-jekyll-seo-tag ruby-jekyll-feed)
if ! command -v jekyll >/dev/null 2>&1 || ! dpkg -s jekyll-theme-minima >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "jekyll tests skipped: install it (sudo apt-get install -y ${jekyll_packages[*]}) or run make test as root" >&2
  elif ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${jekyll_packages[@]}" >/dev/null; }; then
    echo "jekyll tests skipped: apt-get could not install ${jekyll_packages[*]}" >&2
  fi
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "eleventy tests skipped: npm is missing; install Node.js 18+ (sudo apt-get install -y nodejs npm)" >&2
elif [ ! -x node_modules/.bin/eleventy ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error || echo "eleventy tests skipped: npm ci failed in tests/generators" >&2
fi

echo "generators: $(jekyll --version 2>/dev/null || echo 'no jekyll'), eleventy $(node_modules/.bin/eleventy --version 2>/dev/null || echo missing)"
exit 0
