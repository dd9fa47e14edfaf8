# Two commands matter on a fresh machine: `make up` and `make test`.
# Both install what is missing first: uv (into tools/uv, without the system pip), the locked
# Python packages, PostgreSQL server binaries, tesseract with Vietnamese (OCR of scans), DejaVu
# fonts (register books, signatures), SoftHSM2 (the signing keys' PKCS#11 token) and poppler's
# pdftoppm (the signing tests compare pages rendered before and after signing); `make test`
# also buf (from npm).

SHELL := /bin/bash
UV_VERSION := 0.13.9
# The base of the service images (`make images`). Empty: a local Debian 12 base made by
# tools/base-image, since no image registry is reachable here. Production pins its base by
# digest: make images BASE_IMAGE=python:3.11-slim@sha256:<digest>
BASE_IMAGE ?=
IMAGE_TAG ?= dev
# The one uv that every command and script here uses (see tools/find-uv); exported so that
# scripts (tools/check_proto.sh) run the same one, even when it is not on PATH.
UV ?= $(shell tools/find-uv)
export UV
PG_BINDIR := $(firstword $(wildcard /usr/lib/postgresql/*/bin))
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: up test bootstrap uv postgres tesseract fonts softhsm buf proto proto-check lint unit e2e images test-images k8s \
	container-tools clean

up: bootstrap
	"$(UV)" run --frozen vanban up

test: bootstrap buf lint proto-check k8s
	"$(UV)" run --frozen pytest -q

bootstrap: uv postgres tesseract fonts softhsm
	"$(UV)" sync --frozen

uv:
	@if [ ! -x "$(UV)" ]; then tools/install-uv $(UV_VERSION); fi
	@"$(UV)" --version >/dev/null

postgres:
	@if [ -z "$(PG_BINDIR)" ]; then \
		echo "installing PostgreSQL server binaries"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends postgresql >/dev/null; fi

# Debian's tesseract 5 and its Vietnamese data: the documents text worker OCRs scans with it.
tesseract:
	@if ! tesseract --list-langs 2>/dev/null | grep -qx vie; then \
		echo "installing tesseract-ocr and tesseract-ocr-vie"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-vie >/dev/null; fi

# DejaVu Sans: the documents service embeds it in register books (every Vietnamese letter).
fonts:
	@if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then \
		echo "installing fonts-dejavu-core"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null; fi

# SoftHSM2: the PKCS#11 token that holds the agency's signing keys in the embedded default and
# the tests; pdftoppm (poppler-utils) renders pages for the signing tests.
softhsm:
	@if [ ! -f /usr/lib/softhsm/libsofthsm2.so ] || ! command -v pdftoppm >/dev/null 2>&1; then \
		echo "installing softhsm2 and poppler-utils"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends softhsm2 poppler-utils >/dev/null; fi

buf:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "installing npm"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq npm >/dev/null; fi
	@if [ ! -x tools/npm/node_modules/.bin/buf ]; then npm ci --prefix tools/npm --no-audit --no-fund --loglevel=error; fi

proto: bootstrap
	"$(UV)" run --frozen python tools/gen_proto.py

proto-check:
	tools/check_proto.sh

lint: uv
	"$(UV)" run --frozen ruff check .
	"$(UV)" run --frozen ruff format --check .
	"$(UV)" run --frozen lint-imports
	"$(UV)" run --frozen mypy
	"$(UV)" run --frozen python tools/check_logs.py
	"$(UV)" run --frozen hadolint Dockerfile

unit: bootstrap
	"$(UV)" run --frozen pytest -q $(wildcard libs/*/tests/unit services/*/tests/unit)

e2e: bootstrap
	"$(UV)" run --frozen pytest -q -m e2e tests/e2e

# Renders every overlay of k8s/ and the axis, and checks them: kubernetes-validate --strict,
# checkov, our own rules (tools/k8s/check; docs/operations.md). The tools come from PyPI, locked
# in tools/k8s/uv.lock.
k8s: uv
	tools/k8s/check

# Every service's image, from the one Dockerfile, with buildah (no Docker engine needed).
images: container-tools
	BASE_IMAGE="$(BASE_IMAGE)" IMAGE_TAG="$(IMAGE_TAG)" UV_VERSION=$(UV_VERSION) tools/build-images

# Builds every image and runs them all as their Deployments do (read-only root, writable /tmp
# only, user 10001) until the gateway is ready; prints build time, size, start time and idle
# memory (minutes: not part of `make test`).
test-images: bootstrap container-tools
	BASE_IMAGE="$(BASE_IMAGE)" UV_VERSION=$(UV_VERSION) "$(UV)" run --frozen pytest -q -m images tests/images

container-tools:
	@if ! command -v buildah >/dev/null 2>&1 || ! command -v podman >/dev/null 2>&1 \
		|| ! command -v runc >/dev/null 2>&1; then \
		echo "installing buildah, podman and runc"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq buildah podman runc >/dev/null; fi

# As root, a PostgreSQL cluster the postgres user could not keep inside .vanban (under /root)
# lives in /var/lib/vanban/<id>, linked from .vanban/infra/postgres: remove it too.
clean:
	@if [ -f .vanban/run/state.json ] && kill -0 "$$(python3 -c 'import json; print(json.load(open(".vanban/run/state.json"))["launcher_pid"])')" 2>/dev/null; then \
		echo "Vanban is running (make up): stop it first" >&2; exit 1; fi
	@if [ -L .vanban/infra/postgres ]; then \
		cluster="$$(readlink .vanban/infra/postgres)"; \
		echo "removing $$cluster (the PostgreSQL cluster of .vanban)"; rm -rf -- "$$cluster"; fi
	rm -rf .vanban
