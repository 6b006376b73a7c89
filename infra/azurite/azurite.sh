#!/usr/bin/env bash
# Azurite (Azure Storage emulator) for KeyProxy's Azure Table providers.
#
#   azurite.sh install                       npm-install azurite into the cache dir (once)
#   azurite.sh start [--dir D] [--table-port P] [--blob-port P] [--queue-port P] [--location L]
#                                            start in the background, wait for the table port,
#                                            write D/azurite.pid, print the connection string; in memory,
#                                            or with --location persisted in directory L (started again on
#                                            the same L and ports, it has its tables back)
#   azurite.sh stop [--dir D]                stop the instance whose pid file is in D
#   azurite.sh connection-string [--dir D] [--table-port P] ...
#                                            print the connection string for those ports
#   azurite.sh path                          print the azurite entry script (for running node directly)
#
# Azurite 3.35.0 is the newest release that runs on Node 20 (later ones need Node 22).
set -euo pipefail

AZURITE_VERSION="${AZURITE_VERSION:-3.35.0}"
CACHE_DIR="${AZURITE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/keyproxy/azurite-$AZURITE_VERSION}"
ENTRY="$CACHE_DIR/node_modules/azurite/dist/src/azurite.js"
# The well-known development account of the emulator (public, documented by Microsoft).
ACCOUNT="devstoreaccount1"
ACCOUNT_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

DIR="${AZURITE_DIR:-${XDG_RUNTIME_DIR:-/tmp}/keyproxy-azurite}"
BLOB_PORT=10000
QUEUE_PORT=10001
TABLE_PORT=10002
LOCATION=""

die() { echo "azurite.sh: $*" >&2; exit 1; }

parse_opts() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) DIR="$2"; shift 2 ;;
      --table-port) TABLE_PORT="$2"; shift 2 ;;
      --blob-port) BLOB_PORT="$2"; shift 2 ;;
      --queue-port) QUEUE_PORT="$2"; shift 2 ;;
      --location) LOCATION="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
}

connection_string() {
  printf 'DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=http://127.0.0.1:%s/%s;QueueEndpoint=http://127.0.0.1:%s/%s;TableEndpoint=http://127.0.0.1:%s/%s;\n' \
    "$ACCOUNT" "$ACCOUNT_KEY" "$BLOB_PORT" "$ACCOUNT" "$QUEUE_PORT" "$ACCOUNT" "$TABLE_PORT" "$ACCOUNT"
}

install() {
  if [ -f "$ENTRY" ]; then return 0; fi
  command -v node >/dev/null 2>&1 || die "node is not installed (Node 20 or later is needed)"
  command -v npm >/dev/null 2>&1 || die "npm is not installed"
  echo "azurite.sh: installing azurite@$AZURITE_VERSION into $CACHE_DIR" >&2
  mkdir -p "$CACHE_DIR"
  npm install --prefix "$CACHE_DIR" --no-audit --no-fund --silent "azurite@$AZURITE_VERSION" >&2
  [ -f "$ENTRY" ] || die "npm finished but $ENTRY is missing"
}

port_answers() {
  # bash's /dev/tcp: succeeds once something accepts connections on the port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  install
  mkdir -p "$DIR"
  local pidfile="$DIR/azurite.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    die "already running (pid $(cat "$pidfile"), dir $DIR); stop it first"
  fi
  if port_answers "$TABLE_PORT"; then die "port $TABLE_PORT is already in use"; fi
  local -a persistence=(--inMemoryPersistence)
  if [ -n "$LOCATION" ]; then mkdir -p "$LOCATION"; persistence=(--location "$LOCATION"); fi
  nohup node "$ENTRY" \
    "${persistence[@]}" --loose --skipApiVersionCheck --disableTelemetry \
    --blobHost 127.0.0.1 --blobPort "$BLOB_PORT" \
    --queueHost 127.0.0.1 --queuePort "$QUEUE_PORT" \
    --tableHost 127.0.0.1 --tablePort "$TABLE_PORT" \
    >>"$DIR/azurite.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pidfile"
  for _ in $(seq 1 150); do
    if port_answers "$TABLE_PORT"; then connection_string; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      die "azurite exited during start-up; log: $(tail -n 20 "$DIR/azurite.log")"
    fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  die "table port $TABLE_PORT did not answer within 15 s; log: $DIR/azurite.log"
}

stop() {
  local pidfile="$DIR/azurite.pid"
  [ -f "$pidfile" ] || { echo "azurite.sh: not running (no $pidfile)" >&2; return 0; }
  local pid; pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

cmd="${1:-}"; [ $# -gt 0 ] && shift
case "$cmd" in
  install) install ;;
  start) parse_opts "$@"; start ;;
  stop) parse_opts "$@"; stop ;;
  connection-string) parse_opts "$@"; connection_string ;;
  path) install; echo "$ENTRY" ;;
  *) echo "usage: $0 install | start [--dir D] [--table-port P] [--blob-port P] [--queue-port P] [--location L] | stop [--dir D] | connection-string [--table-port P] | path" >&2; exit 2 ;;
esac
