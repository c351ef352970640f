#!/usr/bin/env bash
# The tests: every test binary `cargo test --workspace` runs (unit, snapshot,
# property, corpus replay, end-to-end), built once, then run side by side.
#
#   bash tests/run.sh            # what CI runs (.ci/run)
#   TEST_JOBS=1 bash tests/run.sh   # one binary at a time, like cargo test
#
# Most of the suite's time is waiting, not computing: a harness run paces its
# requests to the server's 2 rps limit and waits out keep-alives, a replica
# waits for Redis (the harness itself uses ~2 s of CPU in a 50 s run). So the
# binaries run TEST_JOBS at a time (default 3), the long ones first; inside a
# binary the tests keep cargo's own threads and their own serialisation
# (broken_targets' and replicas' ONE_AT_A_TIME). Each binary runs in its
# package's folder, as under cargo test; a line says when each ends and how
# long it took, and every binary's whole output follows once all have ended. Installs into shared folders (npm prefixes, the Python
# venv) are locked across processes (tests/support `install_lock`).
#
# Exit status: 0 when every binary passed; otherwise the failed ones are named.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${TEST_JOBS:-3}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Build once; one line per test executable: package folder, name, path.
cargo test --workspace --locked --no-run --message-format=json-render-diagnostics \
  | python3 -c '
import json, os, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        t = m["target"]
        name = t["name"] if t["kind"] != ["lib"] else t["name"] + " (lib)"
        print(os.path.dirname(m["manifest_path"]), name.replace(" ", "_"), m["executable"], sep="\t")
' > "$work/all"

# The long ones first (longest first, as measured by the `==>` lines), then
# the rest in cargo's order.
long="replicas broken_targets embedded proxy_nginx reliability sdk_profile oauth_flow official_conformance"
: > "$work/list"
for name in $long; do awk -F'\t' -v n="$name" '$2 == n' "$work/all" >> "$work/list"; done
awk -F'\t' -v long=" $long " 'index(long, " " $2 " ") == 0' "$work/all" >> "$work/list"
total=$(wc -l < "$work/list")
echo "running $total test binaries, $jobs at a time"

run_one() { # index folder name executable
  local started=$SECONDS rc=0
  (cd "$2" && CARGO_MANIFEST_DIR="$2" "$4") > "$work/$1.out" 2>&1 || rc=$?
  printf '==> %s (%s): exit %d in %ds\n' "$3" "${2##*/}" "$rc" $((SECONDS - started)) | tee "$work/$1.head"
  echo "$rc" > "$work/$1.rc"
}

i=0
running=0
while IFS=$'\t' read -r dir name exe; do
  i=$((i + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  run_one "$i" "$dir" "$name" "$exe" &
  running=$((running + 1))
done < "$work/list"
wait || true

failed=()
for n in $(seq 1 "$total"); do
  echo; cat "$work/$n.head" "$work/$n.out"
  [ "$(cat "$work/$n.rc" 2>/dev/null || echo 1)" = 0 ] || failed+=("$(sed -n "${n}p" "$work/list" | cut -f2)")
done

# The doc tests, as cargo test runs them (none today; kept so adding one counts).
cargo test --workspace --locked --doc

if [ ${#failed[@]} -gt 0 ]; then
  echo "failed test binaries: ${failed[*]}" >&2
  exit 1
fi
