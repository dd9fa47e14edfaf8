# Two commands matter on a fresh machine: `make up` and `make test`.
# Both install what is missing first (uv, the locked Python packages, PostgreSQL, buf).

SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PG_BINDIR := $(firstword $(wildcard /usr/lib/postgresql/*/bin))
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: up test bootstrap deps proto proto-check lint unit e2e clean

up: bootstrap
	$(UV) run --frozen vanban up

test: bootstrap lint proto-check
	$(UV) run --frozen pytest -q -p no:randomly

bootstrap: deps
	@$(UV) --version >/dev/null
	$(UV) sync --frozen
	@if [ ! -x tools/npm/node_modules/.bin/buf ]; then npm install --prefix tools/npm --no-audit --no-fund --loglevel=error; fi

deps:
	@if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then \
		echo "installing uv"; python3 -m pip install --quiet uv; fi
	@if [ -z "$(PG_BINDIR)" ]; then \
		echo "installing PostgreSQL server binaries"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends postgresql >/dev/null; fi
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "installing npm"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq npm >/dev/null; fi

proto: bootstrap
	$(UV) run --frozen python tools/gen_proto.py

proto-check:
	tools/check_proto.sh

lint:
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports

unit: bootstrap
	$(UV) run --frozen pytest -q $(wildcard libs/*/tests/unit services/*/tests/unit)

e2e: bootstrap
	$(UV) run --frozen pytest -q tests/e2e

clean:
	rm -rf .vanban
