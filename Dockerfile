# One image per service, all from this file; the build context is the repository root:
#   buildah bud --build-arg SERVICE=directory -t vanban-directory -f Dockerfile .
# `make images` builds all eight (tools/build-images). The image runs `python -m vanban.$SERVICE`
# with the arguments given to it (none: serve; `migrate`; the directory's `bootstrap ...`).
#
# BASE_IMAGE must have python3 (3.11) with venv. Production pins it by digest, so a rebuild
# never picks up a base nobody reviewed:
#   make images BASE_IMAGE=python:3.11-slim@sha256:<digest>
# (`podman pull python:3.11-slim && podman image inspect --format '{{.Digest}}' python:3.11-slim`
# tells the digest.) Where no registry is reachable, `make images` makes a local Debian 12 base.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
# The uv the Makefile uses (UV_VERSION there; tests/images checks that the two agree).
ARG UV_VERSION=0.13.9
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV PATH=/opt/uv/bin:$PATH \
    UV_FROZEN=1 \
    UV_NO_DEV=1 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Dependencies first, from the lock and the members' pyproject files only: a change of any
# service's or library's code leaves this layer (the slow one) as it is.
COPY pyproject.toml uv.lock ./
COPY libs/contracts/pyproject.toml libs/contracts/
COPY libs/launcher/pyproject.toml libs/launcher/
COPY libs/platform/pyproject.toml libs/platform/
COPY services/archive/pyproject.toml services/archive/
COPY services/directory/pyproject.toml services/directory/
COPY services/documents/pyproject.toml services/documents/
COPY services/exchange/pyproject.toml services/exchange/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/notify/pyproject.toml services/notify/
COPY services/signing/pyproject.toml services/signing/
COPY services/workflow/pyproject.toml services/workflow/
ARG SERVICE
RUN test -f "services/${SERVICE}/pyproject.toml" \
    || { echo "SERVICE must name a folder of services/ (--build-arg SERVICE=...)" >&2; exit 1; }
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-install-workspace --package "vanban-${SERVICE}"

# Then the code: the libraries and this service alone (another service's change does not
# rebuild this image). Non-editable, so the venv holds the sources, migrations included.
COPY libs ./libs
COPY services/${SERVICE} ./services/${SERVICE}
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-editable --package "vanban-${SERVICE}"

FROM ${BASE_IMAGE}
ARG SERVICE
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin vanban
# The documents image also runs the text worker (`textworker`), which OCRs scans with Debian's
# tesseract and its Vietnamese data (ADR 0009, 5), and draws register books with DejaVu Sans
# (fonts-dejavu-core: every Vietnamese letter; ADR 0009, 6); no other image carries them. Not
# pinned to package versions: the base image (pinned by digest in production) fixes the Debian release,
# whose packages then change only by security updates, and a pinned version is dropped from the
# archive by the next one, breaking the build.
# hadolint ignore=DL3008
RUN if [ "${SERVICE}" = documents ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-vie \
           fonts-dejavu-core \
        && rm -rf /var/lib/apt/lists/*; \
    fi
# The signing image writes visible signatures with DejaVu Sans and carries SoftHSM2's PKCS#11
# module, the token of the embedded default and of a cluster without an HSM; with an HSM, its
# vendor's module is mounted and named by VANBAN_SIGNING_PKCS11_MODULE (ADR 0011, 1).
# hadolint ignore=DL3008
RUN if [ "${SERVICE}" = signing ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends softhsm2 fonts-dejavu-core \
        && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=build /app/.venv /app/.venv
# Bytecode was compiled at build time; the root filesystem is read-only when deployed. The
# archive spools uploads to the temp dir: mount a writable volume (emptyDir) at /tmp.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VANBAN_SERVICE=${SERVICE}
LABEL org.opencontainers.image.title="vanban-${SERVICE}"
USER 10001
# The shell only picks the module and execs Python in its place: Python is PID 1 and gets the
# orchestrator's SIGTERM itself; arguments after the image name reach the service.
ENTRYPOINT ["/bin/sh", "-c", "exec python -m \"vanban.${VANBAN_SERVICE}\" \"$@\"", "--"]
