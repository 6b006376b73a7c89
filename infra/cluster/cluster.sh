#!/usr/bin/env bash
# A local KeyProxy cluster on Azure Table clustering and storage (Azurite): by default two edge silos
# (edge-a, edge-b) and one core silo without an edge, each a process of the built src/KeyProxy.Silo.
#
#   cluster.sh start  [--dir D] [--cluster-id ID] [--config Debug|Release] [--table-port P]
#                     [--ike-port P] [--natt-port P] [--demo] [--no-core] [--cores N] [--pool-a CIDR] [--pool-b CIDR]
#                     [--port-offset K] [--disk-storage] [--cgroups]
#                     start Azurite (unless it already runs in D/azurite), then the silos in parallel;
#                     wait for every ready line, write D/<silo>.pid and D/<silo>.log, print the URLs
#   cluster.sh stop   [--dir D] [--keep-storage]
#                     SIGTERM every silo (SIGKILL after a grace period), then stop Azurite
#   cluster.sh status [--dir D]
#                     which silos and Azurite run, their URLs, and the silos in the membership table
# Faults, on a cluster started from D (they reuse its settings, D/cluster.env, and the KeyProxy__* environment given):
#   cluster.sh kill NAME [--dir D]          SIGKILL silo NAME (no goodbye to the cluster)
#   cluster.sh start-silo NAME [--dir D]    start silo NAME again with its settings and ports; its last log is kept
#                                           as D/NAME.<unix ms>.log; waits for the ready line
#   cluster.sh storage-stop [--dir D]       stop Azurite (SIGTERM: it saves its tables with --disk-storage)
#   cluster.sh storage-start [--dir D]      start Azurite again on the same ports and data directory
#   cluster.sh isolate NAME [--dir D]       cut silo NAME off from the other silos, both ways (nftables: needs root,
#                                           the nft command and a cluster started with --cgroups); storage, the admin
#                                           API and the edge's UDP stay reachable
#   cluster.sh heal NAME [--dir D]          remove that cut
#
# Ports: edge-a silo 11111/gateway 30000/http 8081/handsets 127.0.0.1:7401/pool 127.0.81.0/24;
#        edge-b 11112/30001/8082/7402/127.0.82.0/24; core 11113/30002/8083; with --cores 2 also core-2 11114/30003/8084.
#        --port-offset K adds K to every one of them (a second cluster beside the first, e.g. the chaos soak's).
#        --pool-a/--pool-b give the edges larger pools (one handset per address: a /24 attaches at most 254).
# Handset addresses are bound on --ike-port/--natt-port (500 and 4500 by default: root or
# CAP_NET_BIND_SERVICE); the proxy sends IKE to peers on the same ports.
# --disk-storage keeps Azurite's tables in D/azurite/data (else in memory), so storage-stop/storage-start lose nothing.
# --cgroups starts each silo in a cgroup v2 of its own (keyproxy/<cluster id>/<silo>), which isolate's rules match its
# sockets by (nftables "socket cgroupv2"): a silo's outgoing connections use ports nothing else tells apart.
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
KEEP_STORAGE=false
POOL_A="127.0.81.0/24"
POOL_B="127.0.82.0/24"
CORES=1
PORT_OFFSET=0
DISK_STORAGE=false
CGROUPS=false
GRACE_SECONDS=15
READY_SECONDS=90
READY_PREFIX="KeyProxy silo up: "

# name silo-port gateway-port http-port access-port pool (pool "-" = no edge); set_silos after the options
set_silos() {
  local k="$PORT_OFFSET"
  SILOS=(
    "edge-a $((11111 + k)) $((30000 + k)) $((8081 + k)) $((7401 + k)) $POOL_A"
    "edge-b $((11112 + k)) $((30001 + k)) $((8082 + k)) $((7402 + k)) $POOL_B"
  )
  [ "$CORES" -ge 1 ] && SILOS+=("core $((11113 + k)) $((30002 + k)) $((8083 + k)) - -")
  [ "$CORES" -ge 2 ] && SILOS+=("core-2 $((11114 + k)) $((30003 + k)) $((8084 + k)) - -")
  return 0
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
      --no-core) CORES=0; shift ;;
      --cores) CORES="$2"; shift 2 ;;
      --port-offset) PORT_OFFSET="$2"; shift 2 ;;
      --disk-storage) DISK_STORAGE=true; shift ;;
      --cgroups) CGROUPS=true; shift ;;
      --keep-storage) KEEP_STORAGE=true; shift ;;
      --pool-a) POOL_A="$2"; shift 2 ;;
      --pool-b) POOL_B="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  case "$CORES" in 0|1|2) ;; *) die "--cores must be 0, 1 or 2" ;; esac
  [[ "$PORT_OFFSET" =~ ^[0-9]+$ ]] && [ "$PORT_OFFSET" -le 20000 ] || die "--port-offset must be 0 to 20000"
  set_silos
}

# The settings of the cluster started in $DIR, for the fault commands (written by start).
save_settings() {
  local v
  for v in CLUSTER_ID CONFIG TABLE_PORT BLOB_PORT QUEUE_PORT IKE_PORT NATT_PORT DEMO POOL_A POOL_B CORES PORT_OFFSET DISK_STORAGE CGROUPS; do
    printf '%s=%q\n' "$v" "${!v}"
  done >"$DIR/cluster.env"
}

load_settings() {
  [ -f "$DIR/cluster.env" ] || die "no cluster started in $DIR ($DIR/cluster.env is missing)"
  # shellcheck disable=SC1091
  source "$DIR/cluster.env"
  set_silos
}

silo_spec() { # name -> sets SPEC (name silo gateway http access pool)
  local spec
  for spec in "${SILOS[@]}"; do
    if [ "${spec%% *}" = "$1" ]; then SPEC="$spec"; return 0; fi
  done
  die "no silo named $1 in this cluster (${SILOS[*]%% *})"
}

# cgroup v2: its own mount (pure v2) or the unified hierarchy of a hybrid one.
cgroup_root() {
  if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then echo /sys/fs/cgroup
  elif [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then echo /sys/fs/cgroup/unified
  else return 1; fi
}

# A name nft and cgroupfs accept for this cluster: its cluster id with anything else than [A-Za-z0-9_-] as _.
safe_id() { printf '%s' "$CLUSTER_ID" | tr -c 'A-Za-z0-9_-' '_'; }

silo_cgroup() { echo "$(cgroup_root)/keyproxy/$(safe_id)/$1"; }

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
    local -a location=()
    [ "$DISK_STORAGE" = true ] && location=(--location "$DIR/azurite/data")
    "$AZURITE" start --dir "$DIR/azurite" --table-port "$TABLE_PORT" --blob-port "$BLOB_PORT" --queue-port "$QUEUE_PORT" "${location[@]}" | tail -n 1
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
  # The log of an earlier run of this silo (a restart after a kill) is kept beside it.
  if [ -s "$log" ]; then mv "$log" "$DIR/$name.$(now_ms).log"; fi
  local cg=""
  if [ "$CGROUPS" = true ]; then
    cg="$(silo_cgroup "$name")" || die "--cgroups: no cgroup v2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified"
    mkdir -p "$cg" || die "cannot make cgroup $cg (root is needed)"
  fi
  # bash enters the cgroup and becomes the silo (exec): the pid file names the silo process.
  nohup env "${env[@]}" bash -c 'if [ -n "$1" ]; then echo $$ >"$1/cgroup.procs"; fi; shift; exec "$@"' keyproxy-silo "$cg" \
    dotnet "$(silo_dll)" >"$log" 2>&1 </dev/null &
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
  save_settings
  local started; started="$(now_ms)"
  local -a names=()
  for spec in "${SILOS[@]}"; do
    # shellcheck disable=SC2086
    set -- $spec
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
  # The fault commands' leftovers: isolation rules and the silos' cgroups.
  if [ -f "$DIR/cluster.env" ]; then
    local keep="$KEEP_STORAGE"
    load_settings
    KEEP_STORAGE="$keep"
    local spec
    for spec in "${SILOS[@]}"; do
      if command -v nft >/dev/null 2>&1; then nft delete table inet "$(nft_table "${spec%% *}")" 2>/dev/null || true; fi
      if [ "$CGROUPS" = true ] && cgroup_root >/dev/null; then rmdir "$(silo_cgroup "${spec%% *}")" 2>/dev/null || true; fi
    done
    if [ "$CGROUPS" = true ] && cgroup_root >/dev/null; then rmdir "$(dirname "$(silo_cgroup x)")" 2>/dev/null || true; fi
  fi
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

kill_silo() { # name
  local pidfile="$DIR/$1.pid"
  silo_spec "$1"
  alive "$pidfile" || die "silo $1 is not running"
  kill -KILL "$(cat "$pidfile")"
  local i
  for ((i = 0; i < 100; i++)); do alive "$pidfile" || break; sleep 0.05; done
  rm -f "$pidfile"
  say "silo $1 killed (SIGKILL)"
}

restart_silo() { # name
  silo_spec "$1"
  # shellcheck disable=SC2086
  set -- $SPEC
  local cs; cs="$(cat "$DIR/connection-string")"
  local started; started="$(now_ms)"
  start_silo "$1" "$2" "$3" "$4" "$5" "$6" "$cs"
  local line
  line="$(wait_ready "$1")" || { rm -f "$DIR/$1.pid"; die "silo $1 did not come up again"; }
  echo "$1 (pid $(cat "$DIR/$1.pid")) up again in $(( $(now_ms) - started )) ms: ${line#*"$READY_PREFIX"}"
}

storage_stop() { "$AZURITE" stop --dir "$DIR/azurite"; }

storage_start() {
  local -a location=()
  [ "$DISK_STORAGE" = true ] && location=(--location "$DIR/azurite/data")
  "$AZURITE" start --dir "$DIR/azurite" --table-port "$TABLE_PORT" --blob-port "$BLOB_PORT" --queue-port "$QUEUE_PORT" "${location[@]}" | tail -n 1
}

nft_table() { echo "keyproxy_$(safe_id)_$1" | tr '-' '_'; }

# Drops every TCP segment between silo NAME and the other silos' silo ports, both ways: connections to NAME's silo
# port (by port), and NAME's own connections to the others (its sockets, by its cgroup: in the output hook what it
# sends, in the input hook what arrives for it). Orleans' gateway and the HTTP and UDP ports are not touched.
isolate() { # name
  command -v nft >/dev/null 2>&1 || die "isolate needs nftables (apt-get install nftables)"
  [ "$CGROUPS" = true ] || die "isolate needs a cluster started with --cgroups"
  silo_spec "$1"
  # shellcheck disable=SC2086
  set -- $SPEC
  local name="$1" port="$2" others="" spec
  for spec in "${SILOS[@]}"; do
    # shellcheck disable=SC2086
    set -- $spec
    [ "$1" = "$name" ] || others="${others:+$others, }$2"
  done
  local root; root="$(cgroup_root)"
  local path="${root#/sys/fs/cgroup}"; path="${path#/}"; path="${path:+$path/}keyproxy/$(safe_id)/$name"
  local table; table="$(nft_table "$name")"
  nft delete table inet "$table" 2>/dev/null || true
  nft -f - <<NFT || die "nft refused the rules for $name"
table inet $table {
  chain out {
    type filter hook output priority 0; policy accept;
    tcp dport $port drop
    tcp sport $port drop
    socket cgroupv2 level 3 "$path" tcp dport { $others } drop
  }
  chain in {
    type filter hook input priority 0; policy accept;
    socket cgroupv2 level 3 "$path" tcp sport { $others } drop
  }
}
NFT
  say "silo $name isolated from the silo ports { $others } (nft table inet $table)"
}

heal() { # name
  silo_spec "$1"
  nft delete table inet "$(nft_table "$1")" 2>/dev/null || true
  say "silo $1 healed"
}

cmd="${1:-}"; [ $# -gt 0 ] && shift
case "$cmd" in
  start) parse_opts "$@"; start ;;
  stop) parse_opts "$@"; stop ;;
  status) parse_opts "$@"; if [ -f "$DIR/cluster.env" ]; then load_settings; fi; status ;;
  kill|start-silo|isolate|heal)
    [ $# -gt 0 ] || die "$cmd needs a silo name"
    target="$1"; shift; parse_opts "$@"; load_settings
    case "$cmd" in kill) kill_silo "$target" ;; start-silo) restart_silo "$target" ;; isolate) isolate "$target" ;; heal) heal "$target" ;; esac ;;
  storage-stop) parse_opts "$@"; load_settings; storage_stop ;;
  storage-start) parse_opts "$@"; load_settings; storage_start ;;
  *) echo "usage: $0 start [--dir D] [--cluster-id ID] [--config C] [--table-port P] [--ike-port P] [--natt-port P] [--demo] [--no-core | --cores N] [--pool-a CIDR] [--pool-b CIDR] [--port-offset K] [--disk-storage] [--cgroups] | stop [--dir D] [--keep-storage] | status [--dir D] | kill|start-silo|isolate|heal NAME [--dir D] | storage-stop|storage-start [--dir D]" >&2; exit 2 ;;
esac
