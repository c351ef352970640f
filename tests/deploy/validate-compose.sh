#!/usr/bin/env bash
# Validates docker-compose.yml against .env.example without a Docker engine:
#   - `config` succeeds with Debian's docker-compose 1.29 and/or Docker Compose v2,
#     whichever is installed (both if both are);
#   - it fails, naming TUNNEL_TOKEN, when TUNNEL_TOKEN is missing;
#   - the resolved config publishes no host port, exposes 8000 on `server`,
#     keeps the hardening, and gives TUNNEL_TOKEN to cloudflared only;
#   - with --profile replicas: Redis requires a password (an ACL user limited
#     to cfpb-mcp:*), sits on an internal network cloudflared is not on, and
#     the servers get the cluster secret (CLUSTER-8..10).
# Exit 0 = all passed (or skipped: no compose tool installed), 1 = a check failed.
# Install a compose tool with: apt-get install -y docker-compose
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

tools=()
if command -v docker-compose >/dev/null 2>&1; then tools+=("docker-compose"); fi
if docker compose version >/dev/null 2>&1; then tools+=("docker compose"); fi
if [ ${#tools[@]} -eq 0 ]; then
  echo "SKIP validate-compose: neither docker-compose nor 'docker compose' is installed (apt-get install -y docker-compose)"
  exit 0
fi

passed=0 failed=0
ok()   { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
grep -v '^TUNNEL_TOKEN=' .env.example > "$tmp/no-token.env"

for tool in "${tools[@]}"; do
  # Unset variables the operator's shell might export, so only .env.example counts.
  # shellcheck disable=SC2086 # "docker compose" is meant to split into two words
  run() { env -u TUNNEL_TOKEN -u CFPB_MCP_API_KEYS -u CFPB_MCP_API_KEYS_FILE $tool -f docker-compose.yml "$@"; }

  if run --env-file .env.example config > "$tmp/config.yml" 2> "$tmp/err"; then
    ok "[$tool] config with .env.example"
  else
    fail "[$tool] config with .env.example:"; sed 's/^/     /' "$tmp/err"; continue
  fi

  if run --env-file "$tmp/no-token.env" config > /dev/null 2> "$tmp/err"; then
    fail "[$tool] config without TUNNEL_TOKEN succeeded; it must refuse"
  elif grep -q TUNNEL_TOKEN "$tmp/err"; then
    ok "[$tool] config without TUNNEL_TOKEN fails and names it"
  else
    fail "[$tool] config without TUNNEL_TOKEN failed without naming it:"; sed 's/^/     /' "$tmp/err"
  fi

  c="$tmp/config.yml"
  if grep -qE '^\s+(ports|published):' "$c"; then fail "[$tool] a host port is published (ports:)"; else ok "[$tool] no host port published"; fi
  # Service blocks of the normalized config (2-space indented service names).
  server=$(awk '/^  server:/{f=1;print;next} /^  [a-z]/{f=0} f' "$c")
  cfd=$(awk '/^  cloudflared:/{f=1;print;next} /^  [a-z]/{f=0} f' "$c")
  expect() { # expect <service text> <label> <extended regex>
    if grep -qE -- "$3" <<<"$1"; then ok "[$tool] $2"; else fail "[$tool] $2 (no match for /$3/)"; fi
  }
  expect "$server" "server exposes 8000"                "^\s+- ['\"]?8000['\"]?$"
  expect "$server" "server binds 0.0.0.0:8000"          "CFPB_MCP_BIND[=:] ?0\.0\.0\.0:8000"
  expect "$server" "server healthcheck is cfpb-mcp health" "/usr/local/bin/cfpb-mcp"
  expect "$server" "server read_only"                   "read_only: true"
  expect "$server" "server cap_drop ALL"                "^\s+- ALL$"
  expect "$server" "server no-new-privileges"           "no-new-privileges:true"
  expect "$server" "server restart unless-stopped"      "restart: unless-stopped"
  # v1 prints `command` as a string, v2 as a list: match on the flattened block.
  expect "$(tr '\n' ' ' <<<"$cfd")" "cloudflared runs the tunnel, no autoupdate" "command:.*tunnel.*--no-autoupdate.*run"
  expect "$cfd"    "cloudflared waits for a healthy server"     "condition: service_healthy"
  expect "$cfd"    "cloudflared restart unless-stopped"         "restart: unless-stopped"
  if grep -q TUNNEL_TOKEN <<<"$server"; then fail "[$tool] the server receives TUNNEL_TOKEN"; else ok "[$tool] TUNNEL_TOKEN reaches cloudflared only"; fi
  if grep -qE '^\s+(env_file|volumes):' <<<"$cfd"; then fail "[$tool] cloudflared has env_file/volumes (file-managed mode?)"; else ok "[$tool] cloudflared is token-based only"; fi

  # The optional `replicas` profile: redis + a second server and connector,
  # still no host port; off unless asked for.
  # (docker-compose 1.29's `config` lists profiled services too: check each
  # one carries the profile, so a plain `up` leaves it out.)
  for svc in redis server-2 cloudflared-2; do
    block=$(awk -v s="  $svc:" '$0==s{f=1;print;next} /^  [a-z]/{f=0} f' "$c")
    if [ -z "$block" ] || tr '\n' ' ' <<<"$block" | grep -qE 'profiles: *(- *)?\[?replicas'; then
      ok "[$tool] $svc only with --profile replicas"
    else
      fail "[$tool] $svc runs without --profile replicas"
    fi
  done
  if run --env-file .env.example --profile replicas config > "$tmp/replicas.yml" 2> "$tmp/err"; then
    r="$tmp/replicas.yml"
    if grep -qE '^  redis:' "$r" && grep -qE '^  server-2:' "$r" && grep -qE '^  cloudflared-2:' "$r"; then
      ok "[$tool] --profile replicas adds redis, server-2, cloudflared-2"
    else
      fail "[$tool] --profile replicas lacks a service"
    fi
    if grep -qE '^\s+(ports|published):' "$r"; then fail "[$tool] replicas profile publishes a host port"; else ok "[$tool] replicas profile publishes no host port"; fi
    s2=$(awk '/^  server-2:/{f=1;print;next} /^  [a-z]/{f=0} f' "$r")
    expect "$s2" "server-2 passes CFPB_MCP_REDIS_URL through" "CFPB_MCP_REDIS_URL"
    expect "$s2" "server-2 read_only" "read_only: true"
    # Issue 23: Redis is a trust boundary.
    rd=$(awk '/^  redis:/{f=1;print;next} /^  [a-z]/{f=0} f' "$r")
    rd_flat=$(tr '\n' ' ' <<<"$rd")
    expect "$rd" "redis takes its password from CFPB_MCP_REDIS_PASSWORD" "CFPB_MCP_REDIS_PASSWORD"
    expect "$rd_flat" "redis refuses to start without a password" 'CFPB_MCP_REDIS_PASSWORD" \] \|\| .*exit 1'
    expect "$rd_flat" "redis: the servers' ACL user, cfpb-mcp:* only, no admin commands" "user cfpb-mcp on >[$]+CFPB_MCP_REDIS_PASSWORD resetchannels ~cfpb-mcp:[*] &cfpb-mcp:[*] .*-@dangerous"
    expect "$rd_flat" "redis: the default user may only PING" "user default on nopass resetchannels -@all [+]ping"
    nets() { awk '/^    networks:/{f=1;next} /^    [a-z]/{f=0} f && /^      [a-z]/{sub(":.*","");gsub(/[ -]/,"");print}' <<<"$1" | sort | tr '\n' ' '; }
    for svc in server server-2; do
      blk=$(awk -v s="  $svc:" '$0==s{f=1;print;next} /^  [a-z]/{f=0} f' "$r")
      if [ "$(nets "$blk")" = "cluster default " ]; then ok "[$tool] $svc on the default and cluster networks"; else fail "[$tool] $svc networks: $(nets "$blk")"; fi
      expect "$blk" "$svc passes CFPB_MCP_CLUSTER_SECRET_FILE through" "CFPB_MCP_CLUSTER_SECRET_FILE"
    done
    if [ "$(nets "$rd")" = "cluster " ]; then ok "[$tool] redis on the cluster network only"; else fail "[$tool] redis networks: $(nets "$rd")"; fi
    for svc in cloudflared cloudflared-2; do
      blk=$(awk -v s="  $svc:" '$0==s{f=1;print;next} /^  [a-z]/{f=0} f' "$r")
      case " $(nets "$blk")" in
        *" cluster "*) fail "[$tool] $svc is on the cluster network (it must not reach Redis)" ;;
        *) ok "[$tool] $svc is not on the cluster network" ;;
      esac
    done
    topnets=$(awk '/^networks:/{f=1;next} /^[a-z]/{f=0} f' "$r")
    if tr '\n' ' ' <<<"$topnets" | grep -qE 'cluster: .*internal: true'; then ok "[$tool] the cluster network is internal"; else fail "[$tool] the cluster network is not internal"; fi
  else
    fail "[$tool] config --profile replicas:"; sed 's/^/     /' "$tmp/err"
  fi
done

echo "validate-compose: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
