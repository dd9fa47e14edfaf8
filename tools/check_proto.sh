#!/usr/bin/env bash
# Contract checks: buf lint, buf breaking against the base, and generated code up to date.
# The base is where this branch left main (the merge base with origin/main, else main); on main
# itself, where that is HEAD, the previous commit of main. PROTO_BASE=<ref> names another.
set -euo pipefail
cd "$(dirname "$0")/.."
BUF=tools/npm/node_modules/.bin/buf
# The uv the Makefile found (it exports UV); the same search when run on its own.
UV="${UV:-$(tools/find-uv)}"
"$BUF" lint
base_of() {
  local main merge
  if [ -n "${PROTO_BASE:-}" ]; then
    git rev-parse -q --verify "${PROTO_BASE}^{commit}" && return
    echo "PROTO_BASE=$PROTO_BASE is not a commit here" >&2
    return 1
  fi
  for main in origin/main main; do
    git rev-parse -q --verify "$main^{commit}" >/dev/null || continue
    merge="$(git merge-base HEAD "$main")" || continue
    if [ "$merge" != "$(git rev-parse HEAD)" ]; then
      echo "$merge"
      return
    fi
    # On main (or a branch main has caught up with): the change is HEAD's own.
    git rev-parse -q --verify "HEAD~1^{commit}" && return
    break
  done
  return 1
}
breaking="breaking (nothing to compare with)"
if base="$(base_of)"; then
  if git cat-file -e "$base:buf.yaml" 2>/dev/null; then
    echo "buf breaking: against $(git log -1 --format='%h %s' "$base" | cut -c1-72)"
    "$BUF" breaking --against ".git#ref=$base"
    breaking="breaking"
  else
    echo "buf breaking: the base $(git rev-parse --short "$base") has no contracts yet; nothing to compare"
  fi
else
  shallow=""
  [ "$(git rev-parse --is-shallow-repository)" = true ] && shallow=" (a shallow clone: fetch more history)"
  echo "WARNING: buf breaking NOT RUN: no base to compare with, neither a merge base with main" \
    "nor a previous commit$shallow; set PROTO_BASE=<ref> to name one" >&2
  breaking="breaking NOT RUN"
fi
"$UV" run --frozen python tools/gen_proto.py
if ! git diff --exit-code --stat -- libs/contracts || [ -n "$(git status --porcelain -- libs/contracts)" ]; then
  echo "libs/contracts is stale: run 'make proto' and commit the result" >&2
  exit 1
fi
echo "contracts: lint, $breaking and generated code OK"
