# Zhunru (准入) — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The demo county's one password (demo only; production users get their own).
export ZHUNRU_DEMO_PASSWORD ?= zhunru-demo

.PHONY: setup system-deps run test lint bench clean

$(VENV)/.installed: setup.cfg pyproject.toml
	bash scripts/system-deps.sh python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

system-deps:
	bash scripts/system-deps.sh python postgres browser lint oidc s3

var/secret_key:
	mkdir -p var
	$(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@
	chmod 600 $@

## Set up, load the demo county into var/zhunru.db (SQLite) and serve on $(HOST):$(PORT).
# The demo is served over plain http: its session cookie is not Secure-only (ZHUNRU_COOKIE_SECURE).
run: setup var/secret_key
	ZHUNRU_SECRET_KEY=$$(cat var/secret_key) $(BIN)/zhunru load-demo
	ZHUNRU_COOKIE_SECURE=$${ZHUNRU_COOKIE_SECURE:-0} ZHUNRU_SECRET_KEY=$$(cat var/secret_key) \
		$(BIN)/zhunru serve --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

## Set up (Python packages, PostgreSQL server binaries) and run every check and test.
test: setup system-deps lint
	$(BIN)/pytest

## The performance benchmark (several minutes; starts its own PostgreSQL). BENCH_ARGS=--quick
bench: setup system-deps
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache *.egg-info
