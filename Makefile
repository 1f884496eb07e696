# Patron Desk: `make run` serves the app, `make test` runs every test, `make bench` measures.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PATRONS ?= 100000

.PHONY: run test bench lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/flask --app webapp db upgrade
	$(BIN)/flask --app webapp demo --if-empty
	$(BIN)/flask --app webapp serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed
	@test -x /usr/bin/chromium || { echo "Browser tests need Debian's chromium: apt-get install -y chromium"; exit 1; }
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(VENV)/.installed
	$(BIN)/ruff check webapp tests bench

bench: $(VENV)/.installed
	$(BIN)/python -m bench --patrons $(PATRONS)

clean:
	rm -rf $(VENV) .bench
