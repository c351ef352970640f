#!/usr/bin/env bash
# The load bench of issues 7 and 25, in one command (see docs/performance.md):
#
#   bench/run.sh [--quick] [--no-pin] [--only rejected,accepted,closed,list,call,streams,sessions]
#   bench/run.sh --replicas [--quick] [--no-pin]   # the shared (Redis) limiter's cost
#
# Builds the bench workspace once (release), then `loadgen` spawns a guarded
# and an unguarded `bench-server` and the reference `bare-server` (a bare
# hyper 1.x server with the same routes and no guard, MCP or log: the
# machine's limit), separate processes, loopback only, same pinning; runs
# every scenario against the three, rotating which goes first, and prints the
# markdown table with guarded/bare and guarded/unguarded ratios (also saved to
# bench/target/bench/report.md). Load generator: our own hyper client
# (`loadgen`), not wrk. A full run takes
# about 4-5 minutes, `--quick` about 1.
#
# By default the servers are pinned to CPU 0 (one tokio worker) and the load
# generator to CPU 1, so that the client's own cost does not come out of the
# server's CPU time; `--no-pin` runs them unpinned.
set -euo pipefail
cd "$(dirname "$0")"

pin=1
replicas=0
args=()
for arg in "$@"; do
  case "$arg" in
    --no-pin) pin=0 ;;
    --replicas) replicas=1 ;;
    *) args+=("$arg") ;;
  esac
done

cargo build --release --bins --quiet

# The servers run with the glibc tunables the Docker image sets (one source:
# the Dockerfile's ENV line), the bare server too. `GLIBC_TUNABLES= bench/run.sh`
# measures plain glibc.
if [ -z "${GLIBC_TUNABLES+set}" ]; then
  GLIBC_TUNABLES=$(sed -n 's/^ENV GLIBC_TUNABLES=//p' ../Dockerfile)
  export GLIBC_TUNABLES
fi

# 10,000 idle streams need 10,000 descriptors on each side (the servers
# inherit this limit; their max_connections is 20,000).
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt 10500 ]; then
  echo "warning: ulimit -n is $(ulimit -n); the 10,000-stream level will fail" >&2
fi

# CARGO_TARGET_DIR is honoured (bench/ceiling.sh builds two trees into one).
target=${CARGO_TARGET_DIR:-target}
mkdir -p "$target/bench"
loadgen=("$target/release/loadgen" --out "$target/bench/report.md")
if [ "$replicas" = 1 ]; then
  # A throwaway redis-server on a free loopback port, no persistence, on the
  # load generator's CPU (its time is not the server's).
  command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server)" >&2; exit 2; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis_dir=$(mktemp -d)
  redis_cmd=(redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$redis_dir")
  if [ "$pin" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    redis_cmd=(taskset -c 1 "${redis_cmd[@]}")
  fi
  "${redis_cmd[@]}" >/dev/null 2>&1 &
  redis_pid=$!
  trap 'kill $redis_pid 2>/dev/null; rm -rf "$redis_dir"' EXIT
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  loadgen=("$target/release/loadgen" --out "$target/bench/replicas.md" --replicas "redis://127.0.0.1:$port/0")
fi
if [ "$pin" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  loadgen=(taskset -c 1 "${loadgen[@]}" --server-cpus 0)
fi
# Bounded: the whole run is killed if it ever takes more than 15 minutes.
[ "$replicas" = 1 ] && { timeout --kill-after=10 900 "${loadgen[@]}" ${args[@]+"${args[@]}"}; exit; }
exec timeout --kill-after=10 900 "${loadgen[@]}" ${args[@]+"${args[@]}"}
