# Two commands on a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STORE ?= sqlite:///./var/citysettle.db
HOST ?= 127.0.0.1
PORT ?= 8080
DEMO_ARGS ?=  # e.g. --size 60 for a smaller demo day (tests/integration/test_readme.py)

.PHONY: install run test lint bench bench-http reliability soak clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	@touch $(STAMP)

install: $(STAMP)

CHECKPOINT_KEY := var/checkpoint-ed25519.pem
CHECKPOINT_KEYRING := var/checkpoint-keyring.json
DISPLAY_KEY := var/display.key

# A local signing key for the chain checkpoints (production mounts its own secret).
$(CHECKPOINT_KEY): | $(STAMP)
	@mkdir -p var
	$(VENV)/bin/citysettle audit keygen --key $(CHECKPOINT_KEY) --keyring $(CHECKPOINT_KEYRING)

# The secret that signs the counter display's links, so that they survive a restart.
$(DISPLAY_KEY):
	@mkdir -p var
	@(umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))' > $(DISPLAY_KEY))

# The finance desk's session signing key (base64 of 32 random bytes, mode 0600).
SESSION_KEY := var/desk-session.key
$(SESSION_KEY): | $(STAMP)
	@mkdir -p var
	@umask 077 && $(PY) -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())' > $(SESSION_KEY)

# On first start (an empty store) the demo day is seeded and what it made is printed,
# with the calls to look at it (keys in var/demo/); later starts serve the store as it is.
run: $(STAMP) $(CHECKPOINT_KEY) $(DISPLAY_KEY) $(SESSION_KEY)
	CITYSETTLE_CHECKPOINT_KEY_FILE=$(CHECKPOINT_KEY) CITYSETTLE_CHECKPOINT_KEYRING=$(CHECKPOINT_KEYRING) \
		CITYSETTLE_DISPLAY_KEY_FILE=$(DISPLAY_KEY) CITYSETTLE_SESSION_KEY_FILE=$(SESSION_KEY) \
		$(VENV)/bin/citysettle demo --if-empty --store '$(STORE)' --host $(HOST) --port $(PORT) $(DEMO_ARGS)

# Lint and types first (cheap, and CI must hold the same bar), then makes sure PostgreSQL
# is reachable (starts or installs it) and Debian's Chromium is installed (the browser
# test of report.html) and Prometheus's promtool is at .venv/bin (docker/'s queries), and
# runs the whole suite against a throwaway database that the test session creates and drops.
test: $(STAMP) lint
	@bash scripts/ensure_postgres.sh
	@bash scripts/ensure_chromium.sh
	@bash scripts/ensure_promtool.sh
	CITYSETTLE_TEST_PG_URL=postgresql://citysettle:citysettle@127.0.0.1:5432/postgres \
		$(PY) -m pytest -q -rs

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy domain adapters settlement qr ops tests
	$(VENV)/bin/hadolint docker/Dockerfile

bench: $(STAMP)
	@bash scripts/ensure_postgres.sh
	CITYSETTLE_BENCH_PG_URL=postgresql://citysettle:citysettle@127.0.0.1:5432/postgres \
		$(PY) bench/eventstore.py
	$(PY) bench/replay.py
	# reconciliation: a 1M-entry camt.053 against its floor, and a day on a 10x longer history
	$(PY) bench/reconcile.py

# The HTTP service under load: serve --workers 2 on PostgreSQL, pre-signed requests
# from a separate load process (bench/http.py; about two minutes).
bench-http: $(STAMP)
	@bash scripts/ensure_postgres.sh
	CITYSETTLE_BENCH_PG_URL=postgresql://citysettle:citysettle@127.0.0.1:5432/postgres \
		$(PY) bench/http.py

# The reliability suites at full size (tests/reliability, RELIABILITY.md): kills of serve
# under signed load on PostgreSQL and SQLite, outages of a PostgreSQL server of the test's
# own (stopped, frozen, out of connection slots), a full disk (a tmpfs), 100 concurrent
# writers, three servers on one database, forged and malformed requests, schemathesis at
# 50 examples per operation; one table and bench/results/reliability.json. make test runs
# most suites small.
RELIABILITY_OUT := var/reliability
reliability: $(STAMP)
	@bash scripts/ensure_postgres.sh
	@rm -rf $(RELIABILITY_OUT)
	@uptime
	CITYSETTLE_RELIABILITY=full CITYSETTLE_RELIABILITY_OUT=$(RELIABILITY_OUT) \
		CITYSETTLE_TEST_PG_URL=postgresql://citysettle:citysettle@127.0.0.1:5432/postgres \
		$(PY) -m pytest tests/reliability -q -m reliability; status=$$?; \
		$(PY) -m tests.reliability.report $(RELIABILITY_OUT) || status=1; exit $$status

# Ten minutes of steady signed load against serve --workers 2 on PostgreSQL (a throwaway
# database): RSS, file descriptors, connections and latency sampled every 5 s into
# bench/results/soak.json and soak.png; fails if a process's memory keeps growing.
# Not part of make test or CI; niced, as it loads the machine for its ten minutes.
soak: $(STAMP)
	@bash scripts/ensure_postgres.sh
	@uptime
	nice -n 10 $(PY) -m tests.reliability.soak \
		--pg-url postgresql://citysettle:citysettle@127.0.0.1:5432/postgres

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
