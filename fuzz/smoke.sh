#!/usr/bin/env bash
# Fuzz smoke for CI: builds every cargo-fuzz target and runs each, as many
# at a time as there are cores, for a short bounded time from its committed seed corpus
# (fixtures/fuzz/<target>/, copied to a scratch dir so the repo is never
# written). Fails on any crash, leak, timeout or out-of-memory.
#
#   fuzz/smoke.sh [SECONDS_PER_TARGET]   (default 30)
#
# Toolchain: a nightly from rustup if one is installed or installable;
# otherwise the stable toolchain with RUSTC_BOOTSTRAP=1 (which lets the
# `-Zsanitizer` flags cargo-fuzz passes through). cargo-fuzz is installed with
# `cargo install cargo-fuzz --locked` if missing. Builds go to fuzz/target.
set -euo pipefail

seconds="${1:-30}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$here"

toolchain=()
if rustup run nightly rustc --version >/dev/null 2>&1 \
    || rustup toolchain install nightly --profile minimal >/dev/null 2>&1; then
    toolchain=(+nightly)
else
    echo "fuzz smoke: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1" >&2
    export RUSTC_BOOTSTRAP=1
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Each target and the dictionary that helps it.
declare -A dict=(
    [auth_headers]=headers.dict
    [key_list]=headers.dict
    [jsonrpc_message]=jsonrpc.dict
    [session_query]=headers.dict
    [audit_record]=jsonrpc.dict
    [sse_reader]=sse.dict
    [tool_schema]=schema.dict
)
targets=(auth_headers key_list jsonrpc_message session_query audit_record sse_reader tool_schema)

# --dev: unoptimized, with debug assertions and overflow checks. The smoke's
# build is made from scratch on every CI run (nightly and the sanitizer
# flags share nothing with the workspace's build): a dev build takes about
# half the CPU time of -O's (8 vs 16+ min of CPU on this machine) and, for a
# 20 s run per target from the committed seeds, the checks matter more than
# the exec rate. Long campaigns use -O (docs/fuzzing.md).
cargo "${toolchain[@]}" fuzz build --dev

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# One target's run, its exit status in $scratch/<target>.rc.
run_target() {
    local target=$1 seeds="$root/fixtures/fuzz/$1"
    local corpus="$scratch/corpus/$1" artifacts="$scratch/artifacts/$1/"
    mkdir -p "$corpus" "$artifacts"
    cp "$seeds"/* "$corpus"/
    local rc=0
    cargo "${toolchain[@]}" fuzz run --dev "$target" "$corpus" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -dict="$root/fixtures/fuzz/${dict[$target]}" \
        -artifact_prefix="$artifacts" -print_final_stats=1 2>"$scratch/$target.log" || rc=$?
    echo "$rc" > "$scratch/$target.rc"
}

for target in "${targets[@]}"; do
    [[ -d "$root/fixtures/fuzz/$target" ]] || { echo "fuzz smoke: missing corpus $root/fixtures/fuzz/$target" >&2; exit 1; }
done

# Each libFuzzer run is one process on one core: as many at a time as the
# machine has cores (2 here), every target still fuzzed for its full time.
jobs="$(nproc 2>/dev/null || echo 1)"
running=0
for target in "${targets[@]}"; do
    if ((running >= jobs)); then wait -n || true; running=$((running - 1)); fi
    echo "fuzz smoke: $target for ${seconds}s"
    run_target "$target" &
    running=$((running + 1))
done
wait || true

failed=()
for target in "${targets[@]}"; do
    artifacts="$scratch/artifacts/$target/"
    if [[ "$(cat "$scratch/$target.rc" 2>/dev/null || echo 1)" != 0 ]]; then
        failed+=("$target")
        tail -n 60 "$scratch/$target.log" >&2
        for crash in "$artifacts"*; do
            [[ -e "$crash" ]] && echo "fuzz smoke: $target crash input (base64): $(base64 -w0 "$crash")" >&2
        done
    fi
    grep -E 'stat::(number_of_executed_units|average_exec_per_sec)' "$scratch/$target.log" | sed "s/^/  $target /" || true
done

if ((${#failed[@]})); then
    echo "fuzz smoke: FAILED: ${failed[*]} (see docs/fuzzing.md to reproduce and minimize)" >&2
    exit 1
fi
echo "fuzz smoke: ok (${#targets[@]} targets, ${seconds}s each)"
