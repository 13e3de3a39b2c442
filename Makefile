# MSAV Arena: `make run` starts the platform on the embedded default, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite runs against the real services of this machine (see README, "Tests").
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/msav_arena
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run setup test chromium lint clean bench-ranking bench-scoring bench-leaderboard bench-pipeline

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,models,bench]"
	touch $(STAMP)

install: $(STAMP)

setup: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_demo

run: setup
	$(BIN)/python manage.py run_platform --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed: browser tests will be skipped (install Debian's chromium package)"; fi; }

test: install chromium
	rm -rf var/test
	DATABASE_URL=$(TEST_DATABASE_URL) DB_CONN_MAX_AGE=0 CELERY_BROKER_URL=$(TEST_BROKER_URL) VAR_DIR=$(CURDIR)/var/test \
	  MEDIA_ROOT=$(CURDIR)/var/test/media $(BIN)/python -m pytest $(PYTEST_ARGS)

# Human ranking: 1M battles, 100 models, 1,000 bootstrap rounds, side by side with LMArena's arena-rank.
bench-ranking: install
	$(BIN)/python manage.py bench_ranking --battles 1000000 --models 100 --rounds 1000

# Scoring engine: PyAV decode-only vs full scoring (DSP and expert), our segmenter vs PySceneDetect, F1 on labelled sets.
bench-scoring: install
	$(BIN)/python -m scoring.bench.scoring $(BENCH_ARGS)

# Public leaderboard: gunicorn + wrk, leaderboard HTML and JSON p50 against a constant view in one run (PostgreSQL + Redis cache).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/msav_arena_bench
BENCH_CACHE_URL ?= redis://127.0.0.1:6379/14
bench-leaderboard: install
	command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	DATABASE_URL=$(BENCH_DATABASE_URL) CACHE_URL=$(BENCH_CACHE_URL) CELERY_BROKER_URL=$(BENCH_CACHE_URL) VAR_DIR=$(CURDIR)/var/bench \
	  MEDIA_ROOT=$(CURDIR)/var/bench/media $(BIN)/python manage.py bench_leaderboard --create-database --prepare-demo $(BENCH_ARGS)

# Pipeline: a generated 40-clip submission scored by 1 then 2 worker processes (PostgreSQL + Redis); clips per minute, speed-up.
PIPELINE_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/msav_arena_bench_pipeline
PIPELINE_BENCH_BROKER_URL ?= redis://127.0.0.1:6379/13
bench-pipeline: install
	DATABASE_URL=$(PIPELINE_BENCH_DATABASE_URL) CELERY_BROKER_URL=$(PIPELINE_BENCH_BROKER_URL) VAR_DIR=$(CURDIR)/var/bench-pipeline \
	  MEDIA_ROOT=$(CURDIR)/var/bench-pipeline/media $(BIN)/python manage.py bench_pipeline --create-database --clips 40 $(BENCH_ARGS)

clean:
	rm -rf var
