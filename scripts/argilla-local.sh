#!/usr/bin/env bash
# A real, local Argilla 2.8 stack for tests and for local review work; no Docker, no JVM.
#
#   bash scripts/argilla-local.sh start|stop|status
#
# Pieces (all bound to 127.0.0.1, each its own process with its own pid file and log):
#   redis   Debian redis-server, no persistence (--save "")
#   osmem   osmem-server, an in-memory OpenSearch-compatible engine (from PyPI)
#   server  argilla-server 2.8.0 via scripts/argilla_launcher.py (patches 3 search-engine methods for osmem)
#   worker  argilla-server's rq worker (background jobs, e.g. task-distribution changes)
# argilla-server lives in its own venv (it needs click<8.2, which clashes with the project's typer).
# Data: SQLite under the state dir; it survives stop/start and is re-indexed into osmem on each start.
#
# Environment (defaults):
#   ARGILLA_LOCAL_HOME        state dir: venv, pids, logs, db   ($HOME/.cache/planforge/argilla-local)
#   ARGILLA_LOCAL_PORT        argilla-server port               (6900)
#   ARGILLA_LOCAL_REDIS_PORT  redis port                        (6390)
#   ARGILLA_LOCAL_OSMEM_PORT  osmem port                        (9201)
#   ARGILLA_LOCAL_PYTHON      python used to create the venv    (python3)
#   ARGILLA_LOCAL_TIMEOUT     seconds to wait for each service  (180; the server's includes db setup)
#   ARGILLA_LOCAL_FRESH=1     wipe the SQLite db on start (an empty Argilla)
#   ARGILLA_API_KEY           owner `argilla` API key           (argilla.apikey)  } used when the user is
#   ARGILLA_PASSWORD          owner `argilla` password          (12345678)        } created (first start)
# `start` prints `export ARGILLA_API_URL=... ARGILLA_API_KEY=...` lines on stdout (logs go to stderr), so
#   eval "$(bash scripts/argilla-local.sh start)"
# sets up the SDK's environment. Needs: python3 with venv, PyPI, and apt (redis-server) or redis-server on PATH.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${ARGILLA_LOCAL_HOME:-$HOME/.cache/planforge/argilla-local}"
PORT="${ARGILLA_LOCAL_PORT:-6900}"
REDIS_PORT="${ARGILLA_LOCAL_REDIS_PORT:-6390}"
OSMEM_PORT="${ARGILLA_LOCAL_OSMEM_PORT:-9201}"
PY="${ARGILLA_LOCAL_PYTHON:-python3}"
TIMEOUT="${ARGILLA_LOCAL_TIMEOUT:-180}"
API_KEY="${ARGILLA_API_KEY:-argilla.apikey}"
PASSWORD="${ARGILLA_PASSWORD:-12345678}"

VENV="$STATE/venv"
RUN="$STATE/run"
LOGS="$STATE/logs"
DB="$STATE/argilla.db"
NAMES=(redis osmem server worker)
API_URL="http://127.0.0.1:$PORT"

export ARGILLA_HOME_PATH="$STATE/home"
export ARGILLA_DATABASE_URL="sqlite+aiosqlite:///$DB?check_same_thread=False"
export ARGILLA_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export ARGILLA_SEARCH_ENGINE=opensearch
export ARGILLA_ELASTICSEARCH="http://127.0.0.1:$OSMEM_PORT"
export HF_HUB_DISABLE_TELEMETRY=1

STARTING=0  # set while `start` launches processes; a failure then stops them again

log() { printf '[argilla-local] %s\n' "$*" >&2; }

# A word that must appear in the process's command line, so a recycled PID is not mistaken for ours.
marker() {
  case "$1" in
    redis) echo "redis-server" ;; osmem) echo "osmem-server" ;;
    server) echo "argilla_launcher.py" ;; worker) echo "argilla_server" ;;
  esac
}

# alive PID: the process exists and is not a zombie (an unreaped zombie counts as stopped).
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat%% *}" != Z ]]
}

pid_of() { [[ -f "$RUN/$1.pid" ]] && cat "$RUN/$1.pid" || true; }

is_running() {
  local pid; pid="$(pid_of "$1")"
  [[ -n "$pid" ]] && alive "$pid" \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(marker "$1")"
}

fail() {
  local name="$1"; shift
  log "ERROR: $*"
  if [[ -f "$LOGS/$name.log" ]]; then
    log "---- last 40 lines of $LOGS/$name.log ----"
    tail -n 40 "$LOGS/$name.log" >&2 || true
  fi
  if ((STARTING)); then log "stopping what this start launched"; cmd_stop; fi
  exit 1
}

# wait_for NAME CHECK-COMMAND...: until CHECK succeeds, or NAME's process dies, or TIMEOUT passes.
wait_for() {
  local name="$1"; shift
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    is_running "$name" || fail "$name" "$name exited during startup"
    ((SECONDS < deadline)) || fail "$name" "$name not ready after ${TIMEOUT}s"
    sleep 0.3
  done
}

http_ok() {  # http_ok URL: exit 0 on a 2xx answer
  "$VENV/bin/python" - "$1" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=3) as r:
    sys.exit(0 if 200 <= r.status < 300 else 1)
EOF
}

port_busy() {  # port_busy PORT: exit 0 when something already listens on 127.0.0.1:PORT
  "$PY" -c 'import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1])))==0 else 1)' "$1"
}

ensure_redis() {
  command -v redis-server >/dev/null && return
  log "installing redis-server (apt)"
  local sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y --no-install-recommends redis-server >"$LOGS/apt.log" 2>&1 || {
    $sudo apt-get update >>"$LOGS/apt.log" 2>&1
    $sudo apt-get install -y --no-install-recommends redis-server >>"$LOGS/apt.log" 2>&1
  } || fail apt "apt-get install redis-server failed"
}

ensure_venv() {
  if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import argilla_server, osmem_server' 2>/dev/null; then
    return
  fi
  log "creating $VENV and installing argilla-server 2.8.0 + osmem-server (first start only, ~1 min)"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --disable-pip-version-check -q \
    argilla-server==2.8.0 osmem-server==0.1.6 "click<8.2" "huggingface-hub<1.0" >"$LOGS/pip.log" 2>&1 \
    || fail pip "pip install into $VENV failed"
}

# launch NAME CMD...: start in the background, record the PID of CMD itself.
launch() {
  local name="$1"; shift
  nohup "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

print_env() {  # the key the running stack was started with (recorded by start)
  cat "$RUN/env" 2>/dev/null || printf 'export ARGILLA_API_URL=%s\nexport ARGILLA_API_KEY=%s\n' "$API_URL" "$API_KEY"
}

cmd_status() {
  local name pid rc=0
  for name in "${NAMES[@]}"; do
    pid="$(pid_of "$name")"
    if is_running "$name"; then
      printf '%-7s running  pid %s\n' "$name" "$pid"
    else
      printf '%-7s stopped%s\n' "$name" "${pid:+  (stale pid file: $pid)}"
      rc=3
    fi
  done
  if ((rc == 0)) && [[ -x "$VENV/bin/python" ]] && http_ok "$API_URL/api/v1/version"; then
    echo "argilla answering at $API_URL (state: $STATE)"
  fi
  return $rc
}

# stop_group NAME...: SIGTERM the recorded PIDs together, wait for each (SIGKILL after 15 s).
stop_group() {
  local name pid i pids=()
  for name in "$@"; do
    pid="$(pid_of "$name")"
    if [[ -n "$pid" ]] && is_running "$name"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$name:$pid")
    fi
    rm -f "$RUN/$name.pid"
  done
  for i in "${pids[@]+"${pids[@]}"}"; do
    name="${i%%:*}" pid="${i#*:}"
    local deadline=$((SECONDS + 15))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
      log "$name (pid $pid) ignored SIGTERM for 15s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while alive "$pid"; do sleep 0.1; done
    fi
    log "stopped $name (pid $pid)"
  done
}

cmd_stop() {
  stop_group worker server  # clients first, then what they talk to
  stop_group osmem redis
  rm -f "$RUN/env"
}

cmd_start() {
  mkdir -p "$RUN" "$LOGS" "$ARGILLA_HOME_PATH" "$STATE/redis"
  local name running=() t0=$SECONDS
  for name in "${NAMES[@]}"; do is_running "$name" && running+=("$name"); done
  if ((${#running[@]} == ${#NAMES[@]})) && http_ok "$API_URL/api/v1/version" 2>/dev/null; then
    log "already running at $API_URL (state: $STATE)"
    print_env
    return 0
  fi
  if ((${#running[@]} > 0)); then
    log "partly running (${running[*]}); restarting the whole stack"
    cmd_stop
  fi
  local p; for p in "$PORT" "$REDIS_PORT" "$OSMEM_PORT"; do
    ! port_busy "$p" || fail none "port $p on 127.0.0.1 is already in use (set ARGILLA_LOCAL_*PORT)"
  done

  ensure_redis
  ensure_venv
  STARTING=1
  if [[ "${ARGILLA_LOCAL_FRESH:-0}" == 1 ]]; then rm -f "$DB"; fi

  launch redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$STATE/redis" --daemonize no
  local py="$VENV/bin/python" osmem_bin
  osmem_bin="$("$py" -c 'import osmem_server; print(osmem_server.resolve_binary())')"
  launch osmem "$osmem_bin" --addr "127.0.0.1:$OSMEM_PORT" --no-stdin-watch
  wait_for redis redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
  wait_for osmem http_ok "http://127.0.0.1:$OSMEM_PORT/"

  # The worker needs only redis to start. The server first migrates the db, creates the owner (no-op if it
  # exists) and re-indexes the kept datasets into the fresh osmem (--setup; one import instead of four).
  launch worker "$py" -m argilla_server worker --num-workers 1
  ARGILLA_API_KEY="$API_KEY" ARGILLA_PASSWORD="$PASSWORD" \
    launch server "$py" "$SCRIPT_DIR/argilla_launcher.py" --setup --host 127.0.0.1 --port "$PORT"
  wait_for server http_ok "$API_URL/api/v1/status"
  sleep 0.5
  is_running worker || fail worker "worker exited during startup"
  printf 'export ARGILLA_API_URL=%s\nexport ARGILLA_API_KEY=%s\n' "$API_URL" "$API_KEY" >"$RUN/env"
  log "started in $((SECONDS - t0))s: $API_URL (owner 'argilla'; state: $STATE)"
  print_env
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
