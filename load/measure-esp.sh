#!/usr/bin/env bash
# ESP through the edge: grain calls, bytes allocated and CPU per routed packet, in the silo.
#
#   load/measure-esp.sh [--handsets N] [--seconds S] [--payload BYTES] [--packet-path Sockets|Tun|both]
#
# Starts the embedded silo (Release) on its own ports, runs keyproxy-load esp-echo against it (N handsets each
# get a proxied SA, then UDP round trips go through the edge as ESP, echoed by the peers), and once the round
# trips are flowing reads GET /api/edge twice, S seconds apart. Between the two readings the silo does nothing
# but route ESP (S24: no grain call is expected), so the differences divided by the packets routed give the
# grain calls, the managed bytes allocated and the CPU per packet. The silo's background allocation (timers,
# the dashboard's sampling) is read over the same time before the load starts, for comparison.
#
# --packet-path picks the edge's network side (KeyProxy:Edge:PacketPath); "both" measures Sockets then Tun in one
# run, one silo each, and prints the ratios. Tun needs root (CAP_NET_ADMIN, /dev/net/tun): its pool is 100.64.136.0/24,
# routed by the edge to its TUN device, and its peers take 198.18.136.0/24, made local to this machine for the run by an
# AnyIP route (ip route add local 198.18.136.0/24 dev lo), since a loopback peer cannot send through a TUN device.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HANDSETS=64 SECONDS_APART=10 PAYLOAD=64 PATHS=Sockets
HTTP_PORT=18591 ACCESS_PORT=17591 SILO_PORT=21591 GATEWAY_PORT=31591 PEER_PORT=20591 PEER_NATT_PORT=24591
while [ $# -gt 0 ]; do
  case "$1" in
    --handsets) HANDSETS="$2"; shift 2 ;;
    --seconds) SECONDS_APART="$2"; shift 2 ;;
    --payload) PAYLOAD="$2"; shift 2 ;;
    --packet-path) PATHS="$2"; shift 2 ;;
    *) echo "measure-esp.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
case "$PATHS" in Sockets|Tun) ;; both) PATHS="Sockets Tun" ;; *) echo "measure-esp.sh: --packet-path is Sockets, Tun or both" >&2; exit 1 ;; esac
OUT="$(mktemp -d /tmp/keyproxy-esp.XXXXXX)"
cd "$ROOT"
# shellcheck source=load/measure-silo.sh
. load/measure-silo.sh
build_release

ANYIP=""
cleanup() {
  stop_processes
  [ -n "$ANYIP" ] && ip route del local "$ANYIP" dev lo 2>/dev/null || true
}
trap cleanup EXIT

routed() { curl -sf "$API" | python3 -c "import json,sys; p=json.load(sys.stdin)['packets']; print(p['routedToHandset'] + p['routedToNetwork'])"; }

# measure PATH: one silo on that packet path, the idle reading, the load, the two readings; the figures in $OUT/PATH.json.
measure() {
  local path=$1 peer_network
  if [ "$path" = Tun ]; then
    POOL="100.64.136.0/24" peer_network=198.18.136.0
    if [ -z "$ANYIP" ] && ! ip route show table local | grep -q "^local 198.18.136.0/24 "; then
      ip route add local 198.18.136.0/24 dev lo && ANYIP=198.18.136.0/24
    fi
    SILO_ENV=(KeyProxy__Edge__PacketPath=Tun)
  else
    POOL="127.5.0.0/24" peer_network=127.0.136.0
    SILO_ENV=()
  fi
  start_silo measure-esp.sh "$OUT/silo-$path.log"
  # The silo's own background allocation (timers, the dashboard's sampling), over the same time with no traffic.
  sleep 5
  local idle_before idle_after before after
  idle_before=$(curl -sf "$API")
  sleep "$SECONDS_APART"
  idle_after=$(curl -sf "$API")
  dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll esp-echo --edge 127.0.0.1:$ACCESS_PORT \
    --api https://127.0.0.1:$HTTP_PORT --handsets "$HANDSETS" --duration "$((SECONDS_APART + 20))s" --payload "$PAYLOAD" \
    --peers 8 --peer-network "$peer_network" --report-dir "$OUT/report-$path" --no-live --nai-prefix "esp$$$path" >"$OUT/load-$path.log" 2>&1 &
  LOAD_PID=$!
  # Wait for the round trips (thousands of packets a second), then let them run a few seconds more (JIT tiers).
  for _ in $(seq 1 300); do
    [ "$(routed)" -gt $((HANDSETS * 50)) ] && break
    kill -0 "$LOAD_PID" 2>/dev/null || { echo "measure-esp.sh: the load tool ended early; see $OUT/load-$path.log" >&2; exit 1; }
    sleep 0.2
  done
  sleep 3
  before=$(curl -sf "$API")
  sleep "$SECONDS_APART"
  after=$(curl -sf "$API")
  wait "$LOAD_PID" || true
  LOAD_PID=""
  python3 - "$path" "$SECONDS_APART" "$before" "$after" "$idle_before" "$idle_after" "$OUT/$path.json" <<'PY'
import json, sys
path, seconds = sys.argv[1], float(sys.argv[2])
b, a, ib, ia = (json.loads(x) for x in sys.argv[3:7])
idle = ia["process"]["allocatedBytes"] - ib["process"]["allocatedBytes"]
packets = sum(a["packets"][k] - b["packets"][k] for k in ("routedToHandset", "routedToNetwork"))
calls = a["grainCalls"] - b["grainCalls"]
alloc = a["process"]["allocatedBytes"] - b["process"]["allocatedBytes"]
cpu = a["process"]["cpuSeconds"] - b["process"]["cpuSeconds"]
drops = {k: a["drops"][k] - b["drops"][k] for k in a["drops"] if a["drops"][k] != b["drops"][k]}
print(f"[{path}] ESP packets routed by the edge: {packets} ({packets / seconds:,.0f}/s); grain calls: {calls} ({calls / packets:.6f} per packet)")
print(f"[{path}] managed bytes allocated: {alloc} ({alloc / packets:.2f} per packet); the idle silo allocated {idle} in the same time;"
      f" beyond that: {(alloc - idle) / packets:.2f} bytes per packet; drops: {drops or 'none'}")
print(f"[{path}] silo CPU: {cpu:.2f} s = {1e6 * cpu / packets:.2f} us per packet")
json.dump({"packetsPerSecond": packets / seconds, "usPerPacket": 1e6 * cpu / packets, "calls": calls,
           "bytesPerPacket": (alloc - idle) / packets}, open(sys.argv[7], "w"))
PY
  grep -E '^\| esp-echo|ESP packets through' "$OUT/load-$path.log" | sed "s/^/[$path] /" || true
  stop_processes
  SILO_PID=""
}

for path in $PATHS; do measure "$path"; done
if [ "$PATHS" = "Sockets Tun" ]; then
  python3 - "$OUT/Sockets.json" "$OUT/Tun.json" <<'PY'
import json, sys
s, t = (json.load(open(p)) for p in sys.argv[1:3])
print(f"Tun / Sockets, same run: packets/s {t['packetsPerSecond'] / s['packetsPerSecond']:.2f}x, "
      f"silo CPU per packet {t['usPerPacket'] / s['usPerPacket']:.2f}x ({t['usPerPacket']:.2f} against {s['usPerPacket']:.2f} us)")
PY
fi
echo "logs and reports: $OUT"
