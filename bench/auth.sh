#!/usr/bin/env bash
# Warm authenticated requests against a baseline, in one run on one machine:
# GET /healthz (no auth, no database) vs GET /api/v1/user with a user token (token, user
# from the caches) vs GET /api/v1/orgs/{org} (org and membership from the caches too)
# vs GET /readyz (one database round trip). Reports req/s and ratios, and
# the auth cache misses over the whole run (a warm request should cause none).
#
#   bash bench/auth.sh            # needs wrk (apt-get install wrk) and curl
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-5s}"
cargo build --release --locked -q -p plinth
BIN="${CARGO_TARGET_DIR:-target}/release/plinth"
DIR="$(mktemp -d)"
PORT="${PORT:-18080}"
METRICS_PORT="${METRICS_PORT:-18081}"
"$BIN" serve --bind "127.0.0.1:$PORT" --dns-bind 127.0.0.1:0 \
  --metrics-bind "127.0.0.1:$METRICS_PORT" \
  --database-url "sqlite://$DIR/plinth.db" >"$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

curl -sf "$BASE/api/v1/signup" -H 'content-type: application/json' \
  -d '{"handle":"bench","email":"bench@example.com","password":"correct horse battery"}' >/dev/null
SESSION=$(curl -sf "$BASE/api/v1/login" -H 'content-type: application/json' \
  -d '{"login":"bench","password":"correct horse battery"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
TOKEN=$(curl -sf "$BASE/api/v1/user/tokens" -H "authorization: Bearer $SESSION" \
  -H 'content-type: application/json' -d '{"title":"bench"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')

rps() { wrk -t2 -c32 -d"$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'; }
misses() { curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | awk '/^plinth_auth_cache_misses_total/ {print $2}'; }
curl -sf "$BASE/api/v1/orgs" -H "authorization: Bearer $SESSION" \
  -H 'content-type: application/json' -d '{"handle":"bench-org"}' >/dev/null
# Warm the caches: token, user, org and membership.
curl -sf "$BASE/api/v1/user" -H "authorization: Bearer $TOKEN" >/dev/null
curl -sf "$BASE/api/v1/orgs/bench-org" -H "authorization: Bearer $TOKEN" >/dev/null
before=$(misses)
healthz=$(rps "$BASE/healthz")
user=$(rps -H "authorization: Bearer $TOKEN" "$BASE/api/v1/user")
org=$(rps -H "authorization: Bearer $TOKEN" "$BASE/api/v1/orgs/bench-org")
readyz=$(rps "$BASE/readyz")
after=$(misses)
echo "| request | req/s | ratio to /healthz |"
echo "| --- | --- | --- |"
echo "| GET /healthz (baseline) | $healthz | 1.00 |"
awk -v a="$user" -v b="$healthz" 'BEGIN {printf "| GET /api/v1/user, user token | %s | %.2f |\n", a, a/b}'
awk -v a="$org" -v b="$healthz" 'BEGIN {printf "| GET /api/v1/orgs/{org}, user token | %s | %.2f |\n", a, a/b}'
awk -v a="$readyz" -v b="$healthz" 'BEGIN {printf "| GET /readyz (one SELECT 1) | %s | %.2f |\n", a, a/b}'
echo "auth cache misses during the runs: $((after - before))"
