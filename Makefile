# Patron Desk: `make run` serves the app, `make test` runs every test, `make bench` measures.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PATRONS ?= 100000
# The Nu HTML Checker for tests/servers/vnu.py, from npm, installed once per venv.
VNU_JAR = $(VENV)/vnu/node_modules/vnu-jar/build/dist/vnu.jar

.PHONY: run test bench soak lint install clean system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(VNU_JAR): | system-packages
	npm install --silent --no-audit --no-fund --prefix $(VENV)/vnu vnu-jar

install: $(VENV)/.installed

# Debian's chromium, postgresql, slapd, ldap-utils and Java for the tests, when missing.
system-packages:
	@bash .ci/install-system-packages

run: $(VENV)/.installed
	$(BIN)/flask --app webapp db upgrade
	$(BIN)/flask --app webapp demo --if-empty
	$(BIN)/flask --app webapp serve --host $(HOST) --port $(PORT)

# DB=sqlite or DB=postgresql runs the suite on one database; by default on both when
# PostgreSQL is installed (a private cluster per run; nothing has to be running). The
# browser tests drive the same routes on either database, so they run on SQLite only.
DB ?= both
PYTEST = $(BIN)/python -m pytest -n 2 --dist loadfile
test: system-packages $(VENV)/.installed $(VNU_JAR)
	@if [ "$(DB)" != postgresql ]; then echo "== tests on SQLite"; TEST_DB=sqlite $(PYTEST); fi
	@if [ "$(DB)" = postgresql ] || { [ "$(DB)" = both ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; then \
		echo "== tests on PostgreSQL"; TEST_DB=postgresql $(PYTEST) --ignore=tests/browser; \
	elif [ "$(DB)" = both ]; then echo "PostgreSQL is not installed: apt-get install -y postgresql"; fi

lint: $(VENV)/.installed
	$(BIN)/ruff check webapp tests bench

# make bench DB=postgresql: the same table on a private PostgreSQL cluster (SQLite otherwise).
bench: $(VENV)/.installed
	$(BIN)/python -m bench --patrons $(PATRONS) --db $(if $(filter postgresql,$(DB)),postgresql,sqlite)

# The load-and-fault suite (minutes): 25 staff for a minute with a sync, kill -9, backup,
# disk full, on SQLite and PostgreSQL (SOAK_DB=sqlite or postgresql for one).
SOAK_DB ?= both
soak: system-packages $(VENV)/.installed
	$(BIN)/python -m tests.soak --db $(SOAK_DB)

clean:
	rm -rf $(VENV) .bench
