#!/usr/bin/env bash
# Instruction counts of the guard's hot path (valgrind callgrind), per call.
#
#   bench/profile.sh [N]          (PHASES="render reject" bench/profile.sh: a subset)
#
# Runs `guard-profile PHASE N` under callgrind for each phase, collecting only
# inside the `phase_*` function (not the setup, not the audit writer thread),
# and prints a markdown table of instructions (Ir) per call. Deterministic to
# within a few instructions, whatever else the machine is doing.
set -euo pipefail
cd "$(dirname "$0")"
n="${1:-20000}"
cargo build --release --bin guard-profile --quiet
mkdir -p target/callgrind
echo "| phase | Ir per call |"
echo "|---|---:|"
phases="${PHASES:-origin extract digest verify limiter auth_fail response render sse_frame scrub reject accept}"
for phase in $phases; do
  out="target/callgrind/$phase.out"
  timeout 600 valgrind --tool=callgrind --callgrind-out-file="$out" \
    --toggle-collect='*phase_*' target/release/guard-profile "$phase" "$n" 2>/dev/null
  total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
  echo "| $phase | $((total / n)) |"
done
