# One line per task; every target goes through the project's own entry points.
PY ?= .venv/bin/python
VENV_STAMP := .venv/.installed
INDEX ?= var/index
REAL_INDEX ?= var/real-index
SHARED ?= ../shared

.PHONY: install run ingest serve search test test-slow lint eval bench clean

$(VENV_STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[ingest,dev]'
	touch $(VENV_STAMP)

install: $(VENV_STAMP)  ## create .venv and install Casebook with its pinned dependencies

ingest: install  ## build (or incrementally update) the index of content/
	$(PY) -m casebook ingest --content content --index $(INDEX)

serve: install  ## serve the index on http://127.0.0.1:8000
	$(PY) -m casebook serve --index $(INDEX) --port 8000

run: ingest  ## install, ingest content/ and serve the search page
	@echo "Casebook: open http://127.0.0.1:8000/ (Ctrl-C stops)"
	$(PY) -m casebook serve --index $(INDEX) --port 8000

search: install  ## make search Q="how does Alipay handle Double 11"
	$(PY) -m casebook search "$(Q)" --index $(INDEX)

test: install  ## the whole test suite; browser and generator tests too where their tools are or can be installed (root)
	@bash tests/generators/install.sh
	@bash tests/browser/install.sh; rc=$$?; \
	if [ $$rc -eq 0 ]; then $(PY) -m pytest -m "not slow" -q; \
	elif [ $$rc -eq 3 ]; then $(PY) -m pytest -m "not slow and not browser" -q; \
	else exit $$rc; fi

test-slow: install  ## real-blog checks over ../shared (skip when absent)
	$(PY) -m pytest -m slow -q

lint: install  ## ruff, the stage contract (import-linter), mypy --strict over every package, and the CI files
	$(PY) -m ruff check ingest index service casebook tests bench
	$(dir $(PY))lint-imports
	$(PY) -m mypy
	@# actionlint skips its shellcheck pass without a word when the binary is missing, so insist on it
	test -x $(dir $(PY))shellcheck
	$(dir $(PY))actionlint -shellcheck $(dir $(PY))shellcheck docs/ci/github-actions.yml docs/ci/github-actions-built.yml
	$(dir $(PY))check-jsonschema --builtin-schema vendor.github-workflows docs/ci/github-actions.yml \
	  docs/ci/github-actions-built.yml
	$(dir $(PY))check-jsonschema --builtin-schema vendor.gitlab-ci docs/ci/gitlab-ci.yml docs/ci/gitlab-ci-built.yml

eval: install  ## retrieval, typo, answer and related-posts quality on the real blog (skips without ../shared)
	@if [ -d $(SHARED)/site/content ]; then \
	  $(PY) -m casebook ingest --site $(SHARED)/site --index $(REAL_INDEX) -q --wait 900 && \
	  $(PY) -m casebook eval --queries $(SHARED)/eval/dev.jsonl $(SHARED)/eval/dev_typos.jsonl --index $(REAL_INDEX) \
	    --site $(SHARED)/site --baselines --cache var/eval-cache --nuggets $(SHARED)/eval/dev_nuggets.jsonl && \
	  $(PY) -m casebook eval --related $(SHARED)/eval/related_dev.jsonl --index $(REAL_INDEX) --site $(SHARED)/site; \
	else echo "make eval: $(SHARED)/site is not here; skipping"; fi

bench: install  ## speed and memory figures on the real blog (skips without ../shared)
	$(PY) -m bench

clean:
	rm -rf var .pytest_cache tests/.artifacts
