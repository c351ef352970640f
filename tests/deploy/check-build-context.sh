#!/usr/bin/env bash
# Checks, without Docker, that the image's build stage can work from exactly the
# build context that .dockerignore lets through:
#   1. stage the allowed paths in a temporary folder (only the allow-list shape
#      used by our .dockerignore is understood: `*`, then `!path` re-includes,
#      then plain exclusions inside them);
#   2. every COPY source in the Dockerfile exists there;
#   3. `cargo metadata --locked` resolves the workspace there (Cargo.lock in step);
#   4. unless --no-compile: `cargo check --locked -p cfpb-mcp-server --bin cfpb-mcp`
#      there (catches e.g. an include_str! of a file outside the context). It
#      shares ./target, so dependencies already built are reused.
# Exit 0 = the context is sufficient, 1 = it is not.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
root=$(pwd)
compile=1; [ "${1:-}" = "--no-compile" ] && compile=0

passed=0 failed=0
ok()   { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
finish() { echo "check-build-context: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

ctx=$(mktemp -d); trap 'rm -rf "$ctx"' EXIT
patterns=$(grep -vE '^\s*(#|$)' .dockerignore)
if [ "$(head -1 <<<"$patterns")" != "*" ]; then
  fail ".dockerignore no longer starts with '*' (an allow-list); update this script"; finish
fi
while IFS= read -r p; do
  case "$p" in
    '*') ;;
    '!'*) src=${p#!}; src=${src%/}
          if [ -e "$src" ]; then mkdir -p "$ctx/$(dirname "$src")" && cp -a "$src" "$ctx/$src"
          else fail ".dockerignore re-includes $src, which does not exist"; fi ;;
    *) (cd "$ctx" && shopt -s globstar nullglob && for m in $p; do rm -rf -- "$m"; done) ;;
  esac
done <<<"$patterns"
ok "staged the build context: $(cd "$ctx" && ls -A | tr '\n' ' ')"

for f in .env secrets target .git; do
  if [ -e "$ctx/$f" ]; then fail "$f is in the build context"; fi
done

# COPY sources of the Dockerfile, except --from=<stage> copies.
while read -r src; do
  if [ -e "$ctx/$src" ]; then ok "Dockerfile COPY source $src is in the context"
  else fail "Dockerfile COPY source $src is missing from the context (.dockerignore or the repo)"; fi
done < <(grep -E '^COPY\s' Dockerfile | grep -v -- '--from=' \
         | sed -E 's/^COPY\s+(--[a-z]+=[^ ]+\s+)*//' | awk '{ for (i = 1; i < NF; i++) print $i }')

if out=$(cd "$ctx" && cargo metadata --locked --format-version 1 --no-deps 2>&1 >/dev/null); then
  ok "cargo metadata --locked resolves the workspace in the context"
else
  fail "cargo metadata --locked fails in the context:"; sed 's/^/     /' <<<"$out"
fi

if [ "$compile" -eq 1 ]; then
  if out=$(cd "$ctx" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" \
             cargo check --locked -p cfpb-mcp-server --bin cfpb-mcp 2>&1); then
    ok "cargo check -p cfpb-mcp-server --bin cfpb-mcp builds from the context"
  else
    fail "cargo check fails in the context:"; tail -30 <<<"$out" | sed 's/^/     /'
  fi
fi
finish
