#!/usr/bin/env bash
# schemathesis against a real `plinth serve`: every check, in the examples, coverage,
# fuzzing and stateful phases, over the served OpenAPI document. Zero failures or exit 1.
#
# Usage: .ci/schemathesis.sh [extra schemathesis arguments]
#   PLINTH_BIN        the binary to serve (default: $CARGO_TARGET_DIR/{release,debug}/plinth)
#   PLINTH_CI_VENV    the venv holding schemathesis (default: ~/.cache/plinth-ci-venv)
#   ST_MAX_EXAMPLES   examples per operation and phase (default 30)
#   ST_SEED           a fixed Hypothesis seed, to repeat a run
# The operations that end sessions or change an org run against their own user, token
# or org (see the [[operations]] sections of .ci/schemathesis.toml), so the main user's
# session and org last the whole run.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV="${PLINTH_CI_VENV:-$HOME/.cache/plinth-ci-venv}"
TARGET="${CARGO_TARGET_DIR:-target}"
if [ -z "${PLINTH_BIN:-}" ]; then
  for candidate in "$TARGET/release/plinth" "$TARGET/debug/plinth"; do
    if [ -x "$candidate" ]; then PLINTH_BIN="$candidate"; break; fi
  done
fi
[ -x "${PLINTH_BIN:-}" ] || { echo "no plinth binary: build it or set PLINTH_BIN" >&2; exit 1; }

if ! "$VENV/bin/st" --version 2>/dev/null | grep -qx "st, version $SCHEMATHESIS_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
# JSON log lines, so that the check for server errors below reads fields, not colours.
PLINTH_LOG_FORMAT=json "$PLINTH_BIN" serve \
  --bind "127.0.0.1:$PORT" \
  --public-url "$BASE" \
  --database-url "sqlite://$WORK/plinth.db" \
  --dns-bind 127.0.0.1:0 \
  --metrics-bind off \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "$BASE/readyz" >/dev/null

# --- the users, orgs and tokens the run acts on --------------------------------------
PASSWORD="schemathesis-password"
api() { # METHOD PATH TOKEN [JSON]: the answer's body; fails unless 2xx
  local args=(-fsS -X "$1" "$BASE/api/v1$2" -H 'content-type: application/json')
  [ -n "$3" ] && args+=(-H "authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(--data "$4")
  curl "${args[@]}"
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
signup() { # HANDLE: a session token of a new user
  api POST /signup "" "{\"handle\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"$PASSWORD\"}" >/dev/null
  api POST /login "" "{\"login\":\"$1\",\"password\":\"$PASSWORD\"}" | json_field token
}
MAIN=$(signup stmain)
MATE=$(signup stmate)
api POST /orgs "$MAIN" '{"handle":"storg"}' >/dev/null
api POST /orgs/storg/members "$MAIN" '{"user":"stmate","role":"member"}' >/dev/null
api POST /user/invitations/storg/accept "$MATE" >/dev/null
api POST /orgs/storg/workspaces "$MAIN" '{"handle":"stws"}' >/dev/null
api POST /orgs/storg/workspaces/stws/members "$MAIN" '{"user":"stmate","role":"reader"}' >/dev/null
# What the deletes remove: a workspace, a member, and that member's workspace role.
GONE=$(signup stgone)
api POST /orgs/storg/members "$MAIN" '{"user":"stgone","role":"member"}' >/dev/null
api POST /user/invitations/storg/accept "$GONE" >/dev/null
api POST /orgs/storg/workspaces/stws/members "$MAIN" '{"user":"stgone","role":"reader"}' >/dev/null
api POST /orgs/storg/workspaces "$MAIN" '{"handle":"stdoomed"}' >/dev/null
api POST /orgs/storg/workspaces "$MAIN" '{"handle":"stmoving"}' >/dev/null
# An org each for the calls that reset, rename or delete one, and sessions to end.
for org in streset strename stdelete; do
  api POST /orgs "$MAIN" "{\"handle\":\"$org\"}" >/dev/null
done
# Invitations for the main user to accept and to decline, from someone else's orgs.
OTHER=$(signup stother)
for org in stinvite stdecline; do
  api POST /orgs "$OTHER" "{\"handle\":\"$org\"}" >/dev/null
  api POST "/orgs/$org/members" "$OTHER" '{"user":"stmain","role":"member"}' >/dev/null
done
LOGOUT=$(api POST /login "" "{\"login\":\"stmain\",\"password\":\"$PASSWORD\"}" | json_field token)
SIGNOUT=$(signup stsignout)

# The document's own placeholders name these: see .ci/schemathesis.toml.
export ST_BASE="$BASE" ST_MAIN="$MAIN" ST_LOGOUT="$LOGOUT" ST_SIGNOUT="$SIGNOUT"

# Every built-in check is on by default (object_level_authorization needs a second
# credential set and does not run). `--checks all` is not passed: on the command line it
# would override the per-operation settings of .ci/schemathesis.toml.
ARGS=(
  --config-file .ci/schemathesis.toml
  run "$BASE/api/v1/openapi.json"
  --url "$BASE"
  --phases examples,coverage,fuzzing,stateful
  --workers 1
  --max-examples "${ST_MAX_EXAMPLES:-30}"
)
[ -n "${ST_SEED:-}" ] && ARGS+=(--seed "$ST_SEED")
started=$(date +%s)
status=0
# A bound on a hung run; a normal one takes a few minutes.
timeout 1200 "$VENV/bin/st" "${ARGS[@]}" "$@" || status=$?
echo "schemathesis took $(( $(date +%s) - started )) s (exit $status)"
# No answer of the run may be a server error, whatever the checks made of it.
if grep -E '"status":5[0-9]{2}|"level":"ERROR"|panicked' "$WORK/server.log" >/dev/null; then
  echo "the server answered a 5xx or logged an error:" >&2
  grep -E '"status":5[0-9]{2}|"level":"ERROR"|panicked' "$WORK/server.log" | head -20 >&2
  status=1
fi
exit "$status"
