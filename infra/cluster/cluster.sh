#!/usr/bin/env bash
# A local KeyProxy cluster on Azure Table clustering and storage (Azurite): by default two edge silos
# (edge-a, edge-b) and one core silo without an edge, each a process of the built src/KeyProxy.Silo.
#
#   cluster.sh start  [--dir D] [--cluster-id ID] [--config Debug|Release] [--table-port P]
#                     [--ike-port P] [--natt-port P] [--demo] [--no-core] [--pool-a CIDR] [--pool-b CIDR]
#                     start Azurite (unless it already runs in D/azurite), then the silos in parallel;
#                     wait for every ready line, write D/<silo>.pid and D/<silo>.log, print the URLs
#   cluster.sh stop   [--dir D] [--keep-storage]
#                     SIGTERM every silo (SIGKILL after a grace period), then stop Azurite
#   cluster.sh status [--dir D]
#                     which silos and Azurite run, their URLs, and the silos in the membership table
#
# Ports: edge-a silo 11111/gateway 30000/http 8081/handsets 127.0.0.1:7401/pool 127.0.81.0/24;
#        edge-b 11112/30001/8082/7402/127.0.82.0/24; core 11113/30002/8083. --pool-a/--pool-b give the edges larger
#        pools (one handset per address: a /24 attaches at most 254).
# Handset addresses are bound on --ike-port/--natt-port (500 and 4500 by default: root or
# CAP_NET_BIND_SERVICE); the proxy sends IKE to peers on the same ports.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
AZURITE="$ROOT/infra/azurite/azurite.sh"

DIR="${KEYPROXY_CLUSTER_DIR:-/tmp/keyproxy-cluster}"
CLUSTER_ID="keyproxy-local"
CONFIG="Debug"
TABLE_PORT=10002
BLOB_PORT=10000
QUEUE_PORT=10001
IKE_PORT=500
NATT_PORT=4500
DEMO=false
CORE=true
KEEP_STORAGE=false
POOL_A="127.0.81.0/24"
POOL_B="127.0.82.0/24"
GRACE_SECONDS=15
READY_SECONDS=90
READY_PREFIX="KeyProxy silo up: "

# name silo-port gateway-port http-port access-port pool (pool "-" = no edge); set_silos after the options
set_silos() {
  SILOS=(
    "edge-a 11111 30000 8081 7401 $POOL_A"
    "edge-b 11112 30001 8082 7402 $POOL_B"
    "core 11113 30002 8083 - -"
  )
}
set_silos

die() { echo "cluster.sh: $*" >&2; exit 1; }
say() { echo "cluster.sh: $*" >&2; }

parse_opts() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) DIR="$2"; shift 2 ;;
      --cluster-id) CLUSTER_ID="$2"; shift 2 ;;
      --config) CONFIG="$2"; shift 2 ;;
      --table-port) TABLE_PORT="$2"; BLOB_PORT=$((TABLE_PORT - 2)); QUEUE_PORT=$((TABLE_PORT - 1)); shift 2 ;;
      --ike-port) IKE_PORT="$2"; shift 2 ;;
      --natt-port) NATT_PORT="$2"; shift 2 ;;
      --demo) DEMO=true; shift ;;
      --no-core) CORE=false; shift ;;
      --keep-storage) KEEP_STORAGE=true; shift ;;
      --pool-a) POOL_A="$2"; shift 2 ;;
      --pool-b) POOL_B="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  set_silos
}

silo_dll() { echo "$ROOT/src/KeyProxy.Silo/bin/$CONFIG/net10.0/KeyProxy.Silo.dll"; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

now_ms() { date +%s%3N; }

ensure_silo_built() {
  local dll; dll="$(silo_dll)"
  if [ ! -f "$dll" ]; then
    say "building src/KeyProxy.Silo ($CONFIG)"
    dotnet build "$ROOT/src/KeyProxy.Silo" -c "$CONFIG" -nologo -v quiet >&2 || die "dotnet build src/KeyProxy.Silo failed"
  fi
  [ -f "$dll" ] || die "$dll is missing after the build"
}

ensure_azurite() {
  mkdir -p "$DIR/azurite"
  if alive "$DIR/azurite/azurite.pid"; then
    say "Azurite already running (pid $(cat "$DIR/azurite/azurite.pid"))"
    "$AZURITE" connection-string --table-port "$TABLE_PORT" --blob-port "$BLOB_PORT" --queue-port "$QUEUE_PORT"
  else
    "$AZURITE" start --dir "$DIR/azurite" --table-port "$TABLE_PORT" --blob-port "$BLOB_PORT" --queue-port "$QUEUE_PORT" | tail -n 1
  fi
}

# The admin API's token and CA (issue 16), as an operator has them: KEYPROXY_TOKEN / KEYPROXY_CA, else the files the
# Development-mode silos wrote (their start names them).
DEV_DIR="$HOME/.keyproxy/development"
admin_token() { if [ -n "${KEYPROXY_TOKEN:-}" ]; then printf '%s' "$KEYPROXY_TOKEN"; else cat "$DEV_DIR/admin.token"; fi; }
admin_ca() { printf '%s' "${KEYPROXY_CA:-$DEV_DIR/cluster-ca.pem}"; }

start_silo() { # name silo gateway http access pool connection-string
  local name="$1" silo="$2" gateway="$3" http="$4" access="$5" pool="$6" cs="$7"
  local pidfile="$DIR/$name.pid" log="$DIR/$name.log"
  alive "$pidfile" && die "silo $name already runs (pid $(cat "$pidfile")); stop the cluster first"
  local -a env=(
    "KeyProxy__Clustering=AzureTable"
    "KeyProxy__StorageConnectionString=$cs"
    "KeyProxy__ClusterId=$CLUSTER_ID"
    "KeyProxy__FastFailureDetection=true"
    "KeyProxy__DemoSubscribers=$DEMO"
    "KeyProxy__EdgeId=$name"
    "KeyProxy__SiloPort=$silo"
    "KeyProxy__GatewayPort=$gateway"
    "KeyProxy__HttpUrl=https://127.0.0.1:$http"
    "KeyProxy__Network__PeerIkePort=$IKE_PORT"
    "KeyProxy__Network__PeerNatTPort=$NATT_PORT"
    "KeyProxy__Network__HandsetIkePort=$IKE_PORT"
    "KeyProxy__Network__HandsetNatTPort=$NATT_PORT"
    # A 128 MiB gen0 budget: fewer collections under load (docs/PERFORMANCE.md); the runtime reads it only here.
    "DOTNET_GCgen0size=${DOTNET_GCgen0size:-0x8000000}"
  )
  if [ "$pool" = "-" ]; then
    env+=("KeyProxy__EdgeEnabled=false")
  else
    env+=(
      "KeyProxy__EdgeEnabled=true"
      "KeyProxy__Edge__AccessEndpoint=127.0.0.1:$access"
      "KeyProxy__Edge__AddressPool=$pool"
    )
  fi
  : >"$log"
  nohup env "${env[@]}" dotnet "$(silo_dll)" >"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

wait_ready() { # name -> prints the ready line
  local name="$1" pidfile="$DIR/$1.pid" log="$DIR/$1.log"
  local deadline=$(( $(date +%s) + READY_SECONDS ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if grep -q "$READY_PREFIX" "$log" 2>/dev/null; then grep -m1 "$READY_PREFIX" "$log"; return 0; fi
    alive "$pidfile" || { say "silo $name exited during start-up; last lines of $log:"; tail -n 30 "$log" >&2; return 1; }
    sleep 0.2
  done
  say "silo $name printed no ready line within ${READY_SECONDS}s; log: $log"
  return 1
}

start() {
  command -v dotnet >/dev/null 2>&1 || die "dotnet is not installed"
  ensure_silo_built
  mkdir -p "$DIR"
  local cs; cs="$(ensure_azurite)"
  [[ "$cs" == *TableEndpoint=* ]] || die "no connection string from azurite.sh: $cs"
  echo "$cs" >"$DIR/connection-string"
  echo "$CLUSTER_ID" >"$DIR/cluster-id"
  local started; started="$(now_ms)"
  local -a names=()
  for spec in "${SILOS[@]}"; do
    # shellcheck disable=SC2086
    set -- $spec
    [ "$CORE" = false ] && [ "$6" = "-" ] && continue
    start_silo "$1" "$2" "$3" "$4" "$5" "$6" "$cs"
    names+=("$1")
  done
  local failed=false
  for name in "${names[@]}"; do
    local line
    if line="$(wait_ready "$name")"; then
      echo "$name (pid $(cat "$DIR/$name.pid")): ${line#*"$READY_PREFIX"}"
    else
      failed=true
    fi
  done
  if [ "$failed" = true ]; then
    say "the cluster did not come up; stopping what started"
    stop_silos
    exit 1
  fi
  echo "cluster $CLUSTER_ID up in $(( $(now_ms) - started )) ms; storage: $DIR/connection-string; logs and pid files in $DIR"
  echo "admin API: HTTPS with a bearer token: KEYPROXY_TOKEN=\$(cat $DEV_DIR/admin.token) KEYPROXY_CA=$(admin_ca) (curl --cacert \"\$KEYPROXY_CA\" -H \"Authorization: Bearer \$KEYPROXY_TOKEN\")"
}

stop_one() { # pidfile name
  local pidfile="$1" name="$2" pid
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < GRACE_SECONDS * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "silo $name did not stop within ${GRACE_SECONDS}s of SIGTERM; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    else
      say "silo $name stopped"
    fi
  fi
  rm -f "$pidfile"
}

stop_silos() {
  local -a pids=()
  shopt -s nullglob
  for pidfile in "$DIR"/*.pid; do
    # stop the silos in parallel: each may wait for the others while it leaves the cluster
    stop_one "$pidfile" "$(basename "$pidfile" .pid)" &
    pids+=($!)
  done
  shopt -u nullglob
  for p in "${pids[@]}"; do wait "$p" || true; done
}

stop() {
  [ -d "$DIR" ] || { say "nothing to stop ($DIR does not exist)"; return 0; }
  stop_silos
  if [ "$KEEP_STORAGE" = false ]; then "$AZURITE" stop --dir "$DIR/azurite"; fi
}

status() {
  [ -d "$DIR" ] || { echo "not started ($DIR does not exist)"; return 0; }
  shopt -s nullglob
  for pidfile in "$DIR"/*.pid; do
    local name; name="$(basename "$pidfile" .pid)"
    if alive "$pidfile"; then
      echo "$name: running (pid $(cat "$pidfile")) $(grep -m1 "$READY_PREFIX" "$DIR/$name.log" 2>/dev/null | sed "s/^.*$READY_PREFIX//")"
    else
      echo "$name: not running (stale $pidfile)"
    fi
  done
  shopt -u nullglob
  if alive "$DIR/azurite/azurite.pid"; then echo "azurite: running (pid $(cat "$DIR/azurite/azurite.pid"))"; else echo "azurite: not running"; fi
  # The membership as any running silo's dashboard reports it (Orleans membership: every silo of the cluster).
  for spec in "${SILOS[@]}"; do
    # shellcheck disable=SC2086
    set -- $spec
    if alive "$DIR/$1.pid" && command -v curl >/dev/null 2>&1; then
      echo "membership, from https://127.0.0.1:$4/dashboard:"
      curl -s --max-time 5 --cacert "$(admin_ca)" -H "Authorization: Bearer $(admin_token)" "https://127.0.0.1:$4/dashboard/DashboardCounters" \
        | grep -oE '"siloAddress":"[^"]*","siloName":"[^"]*","startTime":"[^"]*","status":"[^"]*"' \
        | sed -E 's/"siloAddress":"([^"]*)","siloName":"([^"]*)","startTime":"[^"]*","status":"([^"]*)"/  \2 \1 \3/' || true
      break
    fi
  done
}

cmd="${1:-}"; [ $# -gt 0 ] && shift
case "$cmd" in
  start) parse_opts "$@"; start ;;
  stop) parse_opts "$@"; stop ;;
  status) parse_opts "$@"; status ;;
  *) echo "usage: $0 start [--dir D] [--cluster-id ID] [--config C] [--table-port P] [--ike-port P] [--natt-port P] [--demo] [--no-core] [--pool-a CIDR] [--pool-b CIDR] | stop [--dir D] [--keep-storage] | status [--dir D]" >&2; exit 2 ;;
esac
