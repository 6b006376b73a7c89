#!/usr/bin/env bash
# ESP through the edge: grain calls, bytes allocated and CPU per routed packet, in the silo.
#
#   load/measure-esp.sh [--handsets N] [--seconds S] [--payload BYTES]
#
# Starts the embedded silo (Release) on its own ports, runs keyproxy-load esp-echo against it (N handsets each
# get a proxied SA, then UDP round trips go through the edge as ESP, echoed by the peers), and once the round
# trips are flowing reads GET /api/edge twice, S seconds apart. Between the two readings the silo does nothing
# but route ESP (S24: no grain call is expected), so the differences divided by the packets routed give the
# grain calls, the managed bytes allocated and the CPU per packet. The silo's background allocation (timers,
# the dashboard's sampling) is read over the same time before the load starts, for comparison.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HANDSETS=64 SECONDS_APART=10 PAYLOAD=64
HTTP_PORT=18591 ACCESS_PORT=17591 SILO_PORT=21591 GATEWAY_PORT=31591 PEER_PORT=20591 PEER_NATT_PORT=24591
while [ $# -gt 0 ]; do
  case "$1" in
    --handsets) HANDSETS="$2"; shift 2 ;;
    --seconds) SECONDS_APART="$2"; shift 2 ;;
    --payload) PAYLOAD="$2"; shift 2 ;;
    *) echo "measure-esp.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
OUT="$(mktemp -d /tmp/keyproxy-esp.XXXXXX)"
cd "$ROOT"
POOL="127.5.0.0/24"
# shellcheck source=load/measure-silo.sh
. load/measure-silo.sh
build_release
SILO_ENV=()
start_silo measure-esp.sh "$OUT/silo.log"

# The silo's own background allocation (timers, the dashboard's sampling), over the same time with no traffic.
sleep 5
idle_before=$(curl -sf "$API")
sleep "$SECONDS_APART"
idle_after=$(curl -sf "$API")

routed() { curl -sf "$API" | python3 -c "import json,sys; p=json.load(sys.stdin)['packets']; print(p['routedToHandset'] + p['routedToNetwork'])"; }
dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll esp-echo --edge 127.0.0.1:$ACCESS_PORT \
  --api https://127.0.0.1:$HTTP_PORT --handsets "$HANDSETS" --duration "$((SECONDS_APART + 20))s" --payload "$PAYLOAD" \
  --peers 8 --peer-network 127.0.136.0 --report-dir "$OUT/report" --no-live --nai-prefix "esp$$" >"$OUT/load.log" 2>&1 &
LOAD_PID=$!
# Wait for the round trips (thousands of packets a second), then let them run a few seconds more (JIT tiers).
for _ in $(seq 1 300); do
  [ "$(routed)" -gt $((HANDSETS * 50)) ] && break
  kill -0 "$LOAD_PID" 2>/dev/null || { echo "measure-esp.sh: the load tool ended early; see $OUT/load.log" >&2; exit 1; }
  sleep 0.2
done
sleep 3
before=$(curl -sf "$API")
sleep "$SECONDS_APART"
after=$(curl -sf "$API")
wait "$LOAD_PID" || true
LOAD_PID=""
python3 - "$before" "$after" "$idle_before" "$idle_after" <<'EOF'
import json, sys
b, a, ib, ia = (json.loads(x) for x in sys.argv[1:5])
idle = ia["process"]["allocatedBytes"] - ib["process"]["allocatedBytes"]
packets = sum(a["packets"][k] - b["packets"][k] for k in ("routedToHandset", "routedToNetwork"))
calls = a["grainCalls"] - b["grainCalls"]
alloc = a["process"]["allocatedBytes"] - b["process"]["allocatedBytes"]
cpu = a["process"]["cpuSeconds"] - b["process"]["cpuSeconds"]
drops = {k: a["drops"][k] - b["drops"][k] for k in a["drops"] if a["drops"][k] != b["drops"][k]}
print(f"ESP packets routed by the edge: {packets}; grain calls: {calls} ({calls / packets:.6f} per packet)")
print(f"managed bytes allocated: {alloc} ({alloc / packets:.2f} per packet); the idle silo allocated {idle} in the same time;"
      f" beyond that: {(alloc - idle) / packets:.2f} bytes per packet; drops: {drops or 'none'}")
print(f"silo CPU: {cpu:.2f} s = {1e6 * cpu / packets:.1f} us per packet")
EOF
grep -E '^\| esp-echo|ESP packets through' "$OUT/load.log" || true
