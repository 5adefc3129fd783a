#!/usr/bin/env bash
# How the cost grows with the work: a small database (1 org, 10 workspaces = 10 names)
# against a large one (100,000 orgs × 10 workspaces = 1,000,000 names), on SQLite and on
# PostgreSQL, in one run. For each: start-up time (launch until the last seeded name
# answers over DNS) and RSS after it, DNS queries/s (dnsperf over random seeded names),
# a warm authenticated GET /api/v1/orgs/{org} (wrk), and the median time of an org
# rename (POST /orgs/{org}/handle, which re-reads only that org's names).
#
#   bash bench/scale.sh       # needs wrk, dnsperf, curl, dig, psql (PostgreSQL at
#                             # postgres://postgres@127.0.0.1:5432, database plinth_scale)
#   BACKENDS=sqlite bash bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-5s}"
BACKENDS="${BACKENDS:-sqlite postgres}"
RENAMES="${RENAMES:-21}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
cargo build --release --locked -q -p plinth
cargo build --release --locked -q -p plinth-server --example seed
BIN="${CARGO_TARGET_DIR:-target}/release"
DIR="$(mktemp -d)"
PORT=18090 DNS_PORT=18053 METRICS_PORT=18091
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
BASE="http://127.0.0.1:$PORT"
PASSWORD='correct horse battery'

now_ms() { date +%s%3N; }
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# $1 backend, $2 orgs, $3 workspaces per org: prints the database URL.
seed() {
  local url
  case "$1" in
    sqlite) url="sqlite://$DIR/$2.db" ;;
    postgres)
      psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS plinth_scale_$2" \
        -c "CREATE DATABASE plinth_scale_$2" >/dev/null
      url="$PG/plinth_scale_$2" ;;
  esac
  "$BIN/examples/seed" --database-url "$url" --orgs "$2" --workspaces-per-org "$3" >"$DIR/seed.log" 2>&1
  echo "$url"
}

# $1 backend, $2 orgs, $3 workspaces per org: one table row.
measure() {
  local url start up last label token qps rps ms
  url=$(seed "$1" "$2" "$3")
  last="s$(($2 - 1))-w$(($3 - 1)).plinth.localhost"
  start=$(now_ms)
  PLINTH_LOG=warn "$BIN/plinth" serve --bind "127.0.0.1:$PORT" --dns-bind "127.0.0.1:$DNS_PORT" \
    --metrics-bind "127.0.0.1:$METRICS_PORT" --database-url "$url" >"$DIR/server.log" 2>&1 &
  SERVER=$!
  until dig +short +time=1 +tries=1 @127.0.0.1 -p "$DNS_PORT" "$last" A 2>/dev/null | grep -qE '^[0-9.]+$'; do
    kill -0 $SERVER || { cat "$DIR/server.log"; exit 1; }
    sleep 0.05
  done
  up=$(($(now_ms) - start))
  local rss_start; rss_start=$(rss_mib $SERVER)
  # The first usage snapshot after seeding writes every org's levels (the seeder writes
  # none): wait for it, so it does not share the cores with what is measured next.
  local snap_start; snap_start=$(now_ms)
  until curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | grep -qE '^plinth_usage_snapshots_total [1-9]'; do
    sleep 0.2
  done
  local snap=$(($(now_ms) - snap_start))

  token=$(curl -sf "$BASE/api/v1/login" -H 'content-type: application/json' \
    -d "{\"login\":\"u0\",\"password\":\"$PASSWORD\"}" | sed -E 's/.*"token":"([^"]+)".*/\1/')
  curl -sf "$BASE/api/v1/orgs/s0" -H "authorization: Bearer $token" >/dev/null
  rps=$(wrk -t2 -c32 -d"$DURATION" -H "authorization: Bearer $token" "$BASE/api/v1/orgs/s0" |
    awk '/Requests\/sec/ {print $2}')

  awk -v orgs="$2" -v ws="$3" 'BEGIN {srand(1); for (i = 0; i < 100000; i++)
    printf "s%d-w%d.plinth.localhost A\n", int(rand() * orgs), int(rand() * ws)}' >"$DIR/queries"
  qps=$(dnsperf -q 1000 -s 127.0.0.1 -p "$DNS_PORT" -d "$DIR/queries" -l "${DURATION%s}" 2>/dev/null |
    awk '/Queries per second/ {print $4}')
  local rss_load; rss_load=$(rss_mib $SERVER)

  # Renames of org s0 back and forth: s0 → s0-r1 → s0-r2 …; the median wall time.
  local org=s0 times=()
  for i in $(seq 1 "$RENAMES"); do
    ms=$(curl -sf -o /dev/null -w '%{time_total}' "$BASE/api/v1/orgs/$org/handle" \
      -H "authorization: Bearer $token" -H 'content-type: application/json' \
      -d "{\"handle\":\"s0-r$i\"}")
    times+=("$ms")
    org="s0-r$i"
  done
  dig +short @127.0.0.1 -p "$DNS_PORT" "$org-w0.plinth.localhost" A | grep -q . ||
    { echo "renamed name does not answer" >&2; exit 1; }
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]*1000}')
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
  echo "| $1 | $(($2 * $3)) | $up | $snap | $rss_start | $rss_load | $qps | $rps | $median |"
}

echo "| backend | names | start-up ms | first usage snapshot ms | RSS after start MiB | RSS after load MiB | DNS qps | org GET req/s | rename median ms |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for backend in $BACKENDS; do
  measure "$backend" 1 10
  measure "$backend" 100000 10
done
