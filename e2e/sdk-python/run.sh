#!/usr/bin/env bash
# Runs the Python SDK (ory-client) end-to-end suite against a real `tessera dev`.
#
#   bash e2e/sdk-python/run.sh [pytest args...]
#
# Always runs once on SQLite. When DATABASE_URL is set (postgres://...), runs the whole suite a
# second time on a fresh Postgres database created for the run and dropped afterwards.
#
# Environment:
#   TESSERA_BIN    the tessera binary (default: ${CARGO_TARGET_DIR:-<repo>/target}/debug/tessera)
#   DATABASE_URL   a Postgres server URL to also test against; its database is only used to connect
#   PYTHON         the Python used to create the virtualenv (default: python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
tessera_bin="${TESSERA_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/tessera}"

log() { printf '[sdk-python] %s\n' "$*"; }

# ----------------------------------------------------------------------------- virtualenv

requirements_hash="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"
if [ ! -x "$venv/bin/python" ]; then
  log "creating virtualenv $venv"
  "$python" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$requirements_hash" ]; then
  log "installing requirements.txt"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  echo "$requirements_hash" >"$stamp"
fi
vpython="$venv/bin/python"

# ----------------------------------------------------------------------------- binary

[ -x "$tessera_bin" ] || { log "no tessera binary at $tessera_bin (build it with cargo build, or set TESSERA_BIN)" >&2; exit 1; }
# test_multi_process.py starts its own processes from this binary.
export TESSERA_BIN="$tessera_bin"

# ----------------------------------------------------------------------------- cleanup

server_pid=""
data_dir=""
pg_admin_url=""
pg_database=""

stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
  if [ -n "$data_dir" ]; then
    rm -rf "$data_dir"
    data_dir=""
  fi
}

drop_database() {
  if [ -n "$pg_database" ]; then
    psql "$pg_admin_url" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS \"$pg_database\" WITH (FORCE)" >/dev/null ||
      log "could not drop database $pg_database" >&2
    pg_database=""
  fi
}

cleanup() {
  stop_server
  drop_database
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ----------------------------------------------------------------------------- one run

# run_suite LABEL [extra tessera dev args...]; the pytest arguments come from "${pytest_args[@]}".
run_suite() {
  local label="$1"
  shift
  printf '\n==================== Python SDK suite on %s ====================\n' "$label"

  data_dir="$(mktemp -d "${TMPDIR:-/tmp}/tessera-sdk-python.XXXXXX")"
  local server_log="$data_dir/server.log"
  "$tessera_bin" dev --data-dir "$data_dir" --port 0 "$@" >"$server_log" 2>&1 &
  server_pid=$!

  # Wait (up to 30 s) for dev.json and for /health/ready to answer 200.
  local ready=""
  local deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      break
    fi
    if [ -s "$data_dir/dev.json" ] && "$vpython" - "$data_dir/dev.json" <<'EOF' 2>/dev/null; then
import json, sys, urllib.request
url = json.load(open(sys.argv[1]))["control_plane_url"].rstrip("/")
with urllib.request.urlopen(url + "/health/ready", timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
EOF
      ready=1
      break
    fi
    sleep 0.1
  done
  if [ -z "$ready" ]; then
    log "tessera dev did not become ready on $label; its output:" >&2
    sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^/    /' "$server_log" >&2 || true
    stop_server
    return 1
  fi
  log "tessera dev is ready on $label: $("$vpython" -c 'import json,sys; print(json.load(open(sys.argv[1]))["control_plane_url"])' "$data_dir/dev.json")"

  local status=0
  (cd "$here" && TESSERA_DEV_JSON="$data_dir/dev.json" "$vpython" -m pytest "${pytest_args[@]}") || status=$?

  if [ "$status" -ne 0 ]; then
    log "suite FAILED on $label (pytest exit $status); last lines of the server log:"
    tail -n 20 "$server_log" | sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^/    /' || true
  fi
  stop_server
  return "$status"
}

pytest_args=("$@")
results=()
failed=0

if run_suite "SQLite"; then
  results+=("SQLite: passed")
else
  results+=("SQLite: FAILED")
  failed=1
fi

if [ -n "${DATABASE_URL:-}" ]; then
  command -v psql >/dev/null || { log "DATABASE_URL is set but psql is not installed" >&2; exit 1; }
  pg_admin_url="$DATABASE_URL"
  pg_database="tessera_sdk_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  # The same URL with its database name replaced (user, host, port and query are kept).
  pg_test_url="$("$vpython" - "$DATABASE_URL" "$pg_database" <<'EOF'
import sys
from urllib.parse import urlsplit, urlunsplit
parts = urlsplit(sys.argv[1])
print(urlunsplit(parts._replace(path="/" + sys.argv[2])))
EOF
)"
  log "creating database $pg_database"
  if psql "$pg_admin_url" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"$pg_database\"" >/dev/null; then
    if run_suite "Postgres (database $pg_database)" --database-url "$pg_test_url"; then
      results+=("Postgres: passed")
    else
      results+=("Postgres: FAILED")
      failed=1
    fi
  else
    log "could not create database $pg_database" >&2
    pg_database=""
    results+=("Postgres: FAILED (could not create the database)")
    failed=1
  fi
  drop_database
else
  log "DATABASE_URL is not set: Postgres run skipped"
fi

printf '\n==================== Python SDK suite summary ====================\n'
printf '  %s\n' "${results[@]}"
exit "$failed"
