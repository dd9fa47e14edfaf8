#!/usr/bin/env bash
# Contract checks: buf lint, buf breaking against the previous commit, and generated code up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
BUF=tools/npm/node_modules/.bin/buf
# The uv the Makefile found (it exports UV); the same search when run on its own.
UV="${UV:-$(tools/find-uv)}"
"$BUF" lint
if git rev-parse -q --verify HEAD~1 >/dev/null && git cat-file -e HEAD~1:buf.yaml 2>/dev/null; then
  "$BUF" breaking --against ".git#ref=HEAD~1"
else
  echo "buf breaking: no previous commit with contracts; skipped"
fi
"$UV" run --frozen python tools/gen_proto.py
if ! git diff --exit-code --stat -- libs/contracts || [ -n "$(git status --porcelain -- libs/contracts)" ]; then
  echo "libs/contracts is stale: run 'make proto' and commit the result" >&2
  exit 1
fi
echo "contracts: lint, breaking and generated code OK"
