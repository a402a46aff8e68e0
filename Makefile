# Coulisses — every target bootstraps .venv by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install run test test-browser-deps bench bench-quick clean translations

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make run: create or upgrade the SQLite database in instance/, load demo data the first time,
## print the demo administrator's login and password, serve http://127.0.0.1:5000
run: $(STAMP)
	COULISSES_ENV=$${COULISSES_ENV:-development} $(BIN)/coulisses db upgrade
	COULISSES_ENV=$${COULISSES_ENV:-development} $(BIN)/coulisses demo load
	COULISSES_ENV=$${COULISSES_ENV:-development} $(BIN)/coulisses demo admin
	@echo "Serving Coulisses on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	COULISSES_ENV=$${COULISSES_ENV:-development} $(BIN)/coulisses run --host $(HOST) --port $(PORT) --no-reload

## make test: the whole suite (SQLite; PostgreSQL when COULISSES_TEST_DATABASE_URL is set), one
## process per core (TEST_WORKERS=0 for a single process; each worker gets its own PostgreSQL database)
TEST_WORKERS ?= auto
test: $(STAMP) test-browser-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The browser tests drive Debian's chromium; install it when we can (root), else say how.
test-browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium for the browser tests (apt-get)…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
	  fi; \
	fi

## make translations: extract the messages of the host and the built-in plugins, update and compile
## their en and es catalogues (then translate the empty msgstr and run it again)
translations: $(STAMP)
	COULISSES_ENV=development $(BIN)/coulisses i18n update core $$(ls -d plugins/*/ | xargs -n1 basename | grep -v __pycache__)

bench: $(STAMP)
	$(BIN)/python -m bench --full

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
