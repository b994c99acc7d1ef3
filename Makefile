# Earshot's two entry points. Both set themselves up from nothing and are
# safe to repeat:
#   make run   - install into .venv, then run Earshot (demo data with no API keys)
#   make test  - install dev tools and Chromium too, then run the test suite
#   make screenshots - refresh the README's pictures in docs/ from the browser tests

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint bench chromium postgresql screenshots clean

run: $(VENV)/.runtime
	$(PY) app.py run --host $(HOST) --port $(PORT)

test: $(VENV)/.dev chromium postgresql
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

# Debian's Chromium drives the browser tests (Playwright's own download is
# not used), with Thai and colour-emoji fonts for the screenshots, and
# faketime, with which tests/test_clock.py shifts the wall clock. Installed
# when any of BROWSER_FILES is missing; needs root or sudo.
BROWSER_PACKAGES := chromium chromium-driver fonts-thai-tlwg fonts-noto-color-emoji faketime
BROWSER_FILES ?= /usr/bin/chromium /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf /usr/bin/faketime
APT_GET ?= apt-get
SUDO ?= $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

chromium:
	@missing=; for f in $(BROWSER_FILES); do [ -e "$$f" ] || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing the browser test packages (missing:$$missing)"; \
		$(SUDO) $(APT_GET) update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $(BROWSER_PACKAGES); \
	fi

# Debian's PostgreSQL server (with pg_trgm) for the tests on PostgreSQL: tests/pg_server.py
# starts a throwaway server from its binaries. Installed when none is found; needs root or sudo.
POSTGRES_PACKAGES := postgresql postgresql-contrib

postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		! ls /usr/share/postgresql/*/extension/pg_trgm.control >/dev/null 2>&1; then \
		echo "Installing PostgreSQL for the tests ($(POSTGRES_PACKAGES))"; \
		$(SUDO) $(APT_GET) update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $(POSTGRES_PACKAGES); \
	fi

# The README's pictures (docs/*.png), taken by the browser tests on demo-like
# data. `make test` saves its screenshots in bench/out/screenshots instead.
screenshots: $(VENV)/.dev chromium
	EARSHOT_SCREENSHOTS=docs $(PY) -m pytest -q -m browser tests/test_browser.py tests/test_dashboard_browser.py

clean:
	rm -rf $(VENV) .pytest_cache
