#!/usr/bin/env bash
# Drift check between the deployment files and the real server binary.
#
#   tests/deploy/check-drift.sh target/debug/cfpb-mcp
#
# 1. Every CFPB_* variable named in docker-compose.yml, .env.example, Dockerfile
#    or docs/*.md exists: it appears in the binary's --help output (top level,
#    serve, health, keygen).
# 2. Every variable the binary accepts is documented in .env.example and passed
#    through by docker-compose.yml (except the few listed in NOT_IN_COMPOSE).
# 3. The container port agrees everywhere: Dockerfile EXPOSE and CFPB_MCP_BIND,
#    compose `expose` and CFPB_MCP_BIND, the health check's URL, and every
#    `server:PORT` in the docs and the compose file.
# 4. compose stop_grace_period is longer than the server's shutdown grace.
# 5. The glibc tunables the Dockerfile sets are ones glibc knows.
# Exit 0 = no drift, 1 = drift found, 2 = usage error.
set -uo pipefail
bin=${1:-}
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "usage: $0 PATH/TO/cfpb-mcp   (e.g. target/debug/cfpb-mcp; build it first)" >&2
  exit 2
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
cd "$(dirname "$0")/../.." || exit 2

# Settings that compose deliberately does not pass through (.env.example names
# them in a closing comment instead):
NOT_IN_COMPOSE="CFPB_MCP_BIND CFPB_MCP_ALLOW_NO_AUTH CFPB_MCP_HEALTH_URL"
# ... and that .env.example need not document at all:
NOT_IN_ENV_EXAMPLE="CFPB_MCP_HEALTH_URL"
# Named by the deployment for other services, never read by cfpb-mcp: the
# password of Redis's ACL user (the redis service's, in the `replicas` profile).
NOT_FOR_THE_BINARY="CFPB_MCP_REDIS_PASSWORD"

passed=0 failed=0
ok()   { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

# Clean environment so that `[env: X=value]` in the help shows no local values.
help=$(
  for args in "--help" "serve --help" "health --help" "keygen --help"; do
    # shellcheck disable=SC2086 # $args is meant to split into words
    env -i PATH="$PATH" "$bin" $args 2>&1 || true
  done
)
if ! grep -q 'CFPB_' <<<"$help"; then
  echo "FAIL $bin --help names no CFPB_* variable; is this the cfpb-mcp binary?"; exit 1
fi
known=$(grep -oE 'CFPB_[A-Z0-9_]*[A-Z0-9]' <<<"$help" | sort -u)

# --- 1. named in deployment files and docs -> known to the binary -------------
files=(docker-compose.yml .env.example Dockerfile docs/*.md)
before=$failed
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  for v in $(grep -oE 'CFPB_[A-Z0-9_]*[A-Z0-9]' "$f" | sort -u); do
    if grep -qx "$v" <<<"$known" || grep -qw "$v" <<<"$NOT_FOR_THE_BINARY"; then :; else fail "$f names $v, which cfpb-mcp --help does not know"; fi
  done
done
[ "$failed" -eq "$before" ] && ok "every CFPB_* variable in ${files[*]} is known to cfpb-mcp"

# --- 2. known to the binary -> documented and passed through -----------------
before=$failed
for v in $known; do
  if [[ " $NOT_IN_ENV_EXAMPLE " != *" $v "* ]]; then
    grep -qE "(^|[^A-Z0-9_])$v([^A-Z0-9_]|$)" .env.example || fail ".env.example does not document $v"
  fi
  if [[ " $NOT_IN_COMPOSE " != *" $v "* ]]; then
    grep -qE "^\s+- $v$" docker-compose.yml || fail "docker-compose.yml does not pass $v through (add '- $v' under server.environment)"
  fi
done
[ "$failed" -eq "$before" ] && ok ".env.example and docker-compose.yml cover $(wc -w <<<"$known") variables"

# --- 3. one container port everywhere ----------------------------------------
ports=()
add() { # add <where> <port>
  if [ -n "$2" ]; then ports+=("$2 $1"); else fail "could not find the port in $1"; fi
}
add "Dockerfile EXPOSE" "$(sed -nE 's/^EXPOSE[[:space:]]+([0-9]+).*/\1/p' Dockerfile | head -1)"
add "Dockerfile CFPB_MCP_BIND" "$(sed -nE 's/^ENV[[:space:]]+CFPB_MCP_BIND=[^:]*:([0-9]+).*/\1/p' Dockerfile | head -1)"
add "compose expose" "$(sed -nE 's/^[[:space:]]+expose:[[:space:]]*\[[\"'\'']?([0-9]+).*/\1/p' docker-compose.yml | head -1)"
add "compose CFPB_MCP_BIND" "$(sed -nE 's/^[[:space:]]+- CFPB_MCP_BIND=[^:]*:([0-9]+).*/\1/p' docker-compose.yml | head -1)"
# The health check calls `cfpb-mcp health` with no --url: its default URL (or a
# CFPB_MCP_HEALTH_URL set in the Dockerfile/compose) must hit the same port.
hurl=$(grep -hoE 'CFPB_MCP_HEALTH_URL[=:][[:space:]]*[^[:space:]]+' Dockerfile docker-compose.yml | head -1 | sed -E 's/^[^=:]*[=:][[:space:]]*//')
if [ -z "$hurl" ]; then
  hurl=$(env -i PATH="$PATH" "$bin" health --help 2>&1 | tr '\n' ' ' | grep -oE 'https?://(127\.0\.0\.1|localhost|\[::1\]):[0-9]+/health' | head -1)
fi
if [ -n "$hurl" ]; then
  add "health check URL $hurl" "$(sed -nE 's#^https?://[^/]*:([0-9]+)/.*#\1#p' <<<"$hurl")"
else
  fail "could not find the default URL in '$bin health --help' (expected http://127.0.0.1:PORT/health)"
fi
while IFS= read -r hit; do
  [ -n "$hit" ] && add "${hit%%:server:*} (server:PORT)" "${hit##*:}"
done < <(grep -oE '(^|[^A-Za-z0-9_.-])server:[0-9]+' --with-filename docker-compose.yml docs/*.md 2>/dev/null | sed -E 's/:[^:]*server:/:server:/')
distinct=$(printf '%s\n' "${ports[@]}" | cut -d' ' -f1 | sort -u)
if [ "$(wc -l <<<"$distinct")" -eq 1 ] && [ -n "$distinct" ]; then
  ok "container port $distinct agrees in ${#ports[@]} places"
else
  fail "container ports disagree:"; printf '     %s\n' "${ports[@]}"
fi

# --- 4. Docker waits longer than the server's own graceful shutdown -----------
stop=$(sed -nE 's/^[[:space:]]+stop_grace_period:[[:space:]]*([0-9]+)s.*/\1/p' docker-compose.yml | head -1)
# clap prints `[env: NAME=] [default: N]` (in that order) after the option's text.
grace=$(tr '\n' ' ' <<<"$help" | grep -oE 'CFPB_MCP_SHUTDOWN_GRACE_SECS=?[^]]*\][[:space:]]*\[default: [0-9]+\]' | grep -oE '[0-9]+\]$' | tr -d ']' | head -1)
if [ -z "$stop" ] || [ -z "$grace" ]; then
  fail "could not read stop_grace_period ($stop) or the --shutdown-grace-secs default ($grace)"
elif [ "$stop" -gt "$grace" ]; then
  ok "stop_grace_period ${stop}s > shutdown grace ${grace}s"
else
  fail "stop_grace_period ${stop}s must exceed CFPB_MCP_SHUTDOWN_GRACE_SECS default ${grace}s"
fi

# --- 5. The image's glibc tunables are ones glibc knows --------------------------
# glibc ignores a tunable it does not know, silently: a typo in the Dockerfile
# would quietly drop the allocator setting (docs/operations.md). The build and
# runtime images are Debian 12's glibc, as this machine's is expected to be.
tunables=$(sed -n 's/^ENV GLIBC_TUNABLES=//p' Dockerfile)
ldso=$(ls /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1 2>/dev/null | head -1)
if [ -z "$tunables" ]; then
  ok "Dockerfile sets no GLIBC_TUNABLES"
elif [ -z "$ldso" ] || ! known=$("$ldso" --list-tunables 2>/dev/null); then
  fail "cannot list this glibc's tunables ($ldso --list-tunables) to check GLIBC_TUNABLES=$tunables"
else
  IFS=: read -ra settings <<<"$tunables"
  for setting in "${settings[@]}"; do
    name=${setting%%=*}
    if grep -q "^$name:" <<<"$known"; then
      ok "GLIBC_TUNABLES names $name, a tunable glibc knows"
    else
      fail "GLIBC_TUNABLES names $name, which this glibc does not know (it would be ignored)"
    fi
  done
fi

echo "check-drift: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
