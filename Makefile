# Earshot's two entry points. Both set themselves up from nothing and are
# safe to repeat:
#   make run   - install into .venv, then run Earshot (demo data with no API keys)
#   make test  - install dev tools and Chromium too, then run the test suite

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint bench chromium clean

run: $(VENV)/.runtime
	$(PY) app.py run --host $(HOST) --port $(PORT)

test: $(VENV)/.dev chromium
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
# not used), with a Thai font for the screenshots. Installed only when
# missing; needs root or sudo.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver fonts-thai-tlwg; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
