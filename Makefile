# Shuren: `make run` sets up and serves the demo; `make test` sets up and runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi
# Certificates print this address for verification, so it follows HOST and
# PORT unless LMS_PUBLIC_URL is set in the environment.
LMS_PUBLIC_URL ?= http://$(HOST):$(PORT)
export LMS_PUBLIC_URL

# WeasyPrint needs Pango, HarfBuzz's subsetter (without it every CJK
# certificate takes seconds, not milliseconds) and a CJK font.
APT_RUNTIME := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
	fonts-wqy-microhei fonts-noto-cjk
# poppler-utils inspects PDFs in tests; chromium runs the browser tests.
APT_TEST := poppler-utils chromium

.PHONY: run test setup setup-test db translations test-only apt-runtime apt-test

run: setup db
	$(BIN)/flask lms serve --host $(HOST) --port $(PORT)

test: setup-test test-only

test-only:
	$(BIN)/pytest $(PYTEST_ARGS)

setup: apt-runtime $(VENV)/.installed translations

setup-test: setup apt-test $(VENV)/.installed-test

db:
	$(BIN)/flask db upgrade
	$(BIN)/flask lms seed

translations:
	$(BIN)/pybabel -q compile -d lms/translations

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

apt-runtime:
	@./scripts/ensure-apt $(APT_RUNTIME)

apt-test:
	@./scripts/ensure-apt $(APT_TEST)
