#!/usr/bin/env bash
# Ceilings: what a change the project has not made would buy, measured
# before anyone decides to make it (docs/performance.md, "Ceilings").
#
#   bench/ceiling.sh NAME        NAME: a patch in bench/ceilings/ (no .patch)
#   bench/ceiling.sh --list      the patches and what each one measures
#
# Each patch is an experiment, not a change to ship: it cuts a corner the
# contract or the project's rules do not allow (or changes a dependency), to
# show how much that corner costs. The script builds the checkout as it is
# and runs `bench/run.sh --quick --only <the patch's rows>`, then builds a
# throwaway git worktree of HEAD with the patch applied and runs the same
# rows, in the same sitting, and prints both tables. The checkout is never
# changed; the worktree is removed at the end. Both builds share
# bench/target, so the second only rebuilds what the patch touches.
#
# A patch's header says which rows it moves (`# rows: list`) and, for a
# patch to a dependency, which crate it applies to (`# crate: rmcp`: applied
# to a copy of the crate's source from cargo's registry, used through
# `[patch.crates-io]` in the worktree's bench/Cargo.toml). A patch that no
# longer applies says so and stops: the code moved on, and the experiment
# needs writing again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ "${1:-}" = "--list" ] || [ -z "${1:-}" ]; then
  for patch in bench/ceilings/*.patch; do
    echo "$(basename "$patch" .patch) (rows: $(sed -n 's/^# rows: //p' "$patch"))"
    sed -n '/^# rows:/d; /^# crate:/d; s/^# /    /p' "$patch"
  done
  [ -n "${1:-}" ] || { echo "usage: bench/ceiling.sh NAME | --list" >&2; exit 2; }
  exit 0
fi

name=$1
patch=$root/bench/ceilings/$name.patch
[ -f "$patch" ] || { echo "no such ceiling: $name (bench/ceiling.sh --list)" >&2; exit 2; }
rows=$(sed -n 's/^# rows: //p' "$patch")
crate=$(sed -n 's/^# crate: //p' "$patch")
[ -n "$rows" ] || { echo "$patch says no '# rows:'" >&2; exit 2; }
if ! git diff --quiet HEAD -- server bench/src bench/Cargo.toml; then
  echo "note: the baseline is the checkout as it is, uncommitted changes included;" \
    "the patched build is HEAD with the patch" >&2
fi

work=$(mktemp -d)
cleanup() {
  git -C "$root" worktree remove --force "$work/tree" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
git worktree add --quiet --detach "$work/tree" HEAD

if [ -z "$crate" ]; then
  git -C "$work/tree" apply --check "$patch" 2>/dev/null ||
    { echo "$name no longer applies to HEAD: write the experiment again" >&2; exit 1; }
  git -C "$work/tree" apply "$patch"
else
  # The crate's source, as the bench's lock file resolves it, copied.
  source=$(cd bench && cargo metadata --format-version 1 --locked 2>/dev/null |
    python3 -c 'import json,os,sys; m=json.load(sys.stdin); print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"] if p["name"]==sys.argv[1] and p["source"]))' "$crate")
  [ -n "$source" ] && [ -d "$source" ] ||
    { echo "no source of $crate in bench/Cargo.lock's resolution (cargo metadata --locked)" >&2; exit 1; }
  cp -r "$source" "$work/$crate"
  patch --quiet --dry-run -p1 -d "$work/$crate" <"$patch" >/dev/null ||
    { echo "$name no longer applies to $(basename "$source"): write the experiment again" >&2; exit 1; }
  patch --quiet -p1 -d "$work/$crate" <"$patch"
  printf '\n[patch.crates-io]\n%s = { path = "%s" }\n' "$crate" "$work/$crate" >>"$work/tree/bench/Cargo.toml"
fi

export CARGO_TARGET_DIR=$root/bench/target
echo "## as it is (rows: $rows)"
bench/run.sh --quick --only "$rows" | grep -E '^(Machine|\|)'
echo
echo "## with $name"
"$work/tree/bench/run.sh" --quick --only "$rows" | grep -E '^(Machine|\|)'
