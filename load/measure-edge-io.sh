#!/usr/bin/env bash
# ESP datagrams the edge routes per second on the TUN packet path, and its CPU per datagram, against a bare relay of the
# same datagrams with the same I/O, in one run (issue 18). Root (CAP_NET_ADMIN, /dev/net/tun).
#
#   load/measure-edge-io.sh [--handsets N] [--payload BYTES] [--in-flight N] [--window S] [--rounds R] [--variants "..."]
#
# Every variant gets the same load: bench/KeyProxy.Benchmarks esp-flood (one thread, recvmmsg/sendmmsg) makes N handsets
# send ESP in UDP (no crypto: the edge never decrypts) through the access link to UDP peers on 198.18.137.0/24 (an AnyIP
# route for the run) that send each datagram straight back, so each is routed twice; closed loop, --in-flight at once.
# It reads the measured process's CPU from /proc over the window. Variants (one process each, in this order, --rounds
# times):
#   relay      bench esp-flood's bare relay: the edge's own I/O classes (recvmmsg on the access socket, TUN writes, poll
#              then drain, sendmmsg back), no classification, no handset table, no metrics: the ceiling
#   relay-q2   the bare relay with two TUN queues, a reader thread each
#   tun-1      the silo's edge, PacketPath=Tun, IoBatch=1 (one datagram per system call on the access socket: before)
#   tun-32     the same with IoBatch=32 (recvmmsg/sendmmsg: after)
#   tun-32-q2  IoBatch=32 and TunQueues=2 (two TUN queues, a reader thread each)
# For the silo variants GET /api/edge before and after a window gives the grain calls and managed bytes per datagram.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HANDSETS=64 PAYLOAD=100 IN_FLIGHT=256 WINDOW=10 ROUNDS=1 VARIANTS="relay relay-q2 tun-1 tun-32 tun-32-q2"
HTTP_PORT=18637 ACCESS_PORT=17637 SILO_PORT=21637 GATEWAY_PORT=31637 PEER_PORT=20637 PEER_NATT_PORT=24637
POOL="100.64.137.0/24" PEERS=198.18.137.0/24
while [ $# -gt 0 ]; do
  case "$1" in
    --handsets) HANDSETS="$2"; shift 2 ;;
    --payload) PAYLOAD="$2"; shift 2 ;;
    --in-flight) IN_FLIGHT="$2"; shift 2 ;;
    --window) WINDOW="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --variants) VARIANTS="$2"; shift 2 ;;
    *) echo "measure-edge-io.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
OUT="$(mktemp -d /tmp/keyproxy-edge-io.XXXXXX)"
cd "$ROOT"
# shellcheck source=load/measure-silo.sh
. load/measure-silo.sh
build_release
dotnet build bench/KeyProxy.Benchmarks -c Release -v q -nologo >/dev/null
BENCH=bench/KeyProxy.Benchmarks/bin/Release/net10.0/KeyProxy.Benchmarks.dll
LOAD=load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll

RELAY_PID="" ANYIP=""
cleanup() {
  [ -n "$RELAY_PID" ] && kill "$RELAY_PID" 2>/dev/null || true
  stop_processes
  [ -n "$ANYIP" ] && ip route del local "$ANYIP" dev lo 2>/dev/null || true
}
trap cleanup EXIT
if ! ip route show table local | grep -q "^local $PEERS "; then ip route add local "$PEERS" dev lo && ANYIP=$PEERS; fi

flood() { # pid label [esp-flood options]
  local pid=$1 label=$2; shift 2
  dotnet "$BENCH" esp-flood --access 127.0.0.1:$ACCESS_PORT --pid "$pid" --handsets "$HANDSETS" --payload "$PAYLOAD" \
    --in-flight "$IN_FLIGHT" --peer-network 198.18.137.0 --peer-port $PEER_NATT_PORT --window "$WINDOW" "$@" >"$OUT/flood-$label.json" 2>"$OUT/flood-$label.err" &
  FLOOD_PID=$!
}

measure_relay() { # label queues
  dotnet "$BENCH" relay --access 127.0.0.1:$ACCESS_PORT --pool "$POOL" --queues "$2" --seconds $((WINDOW + 30)) >"$OUT/relay-$1.log" 2>&1 &
  RELAY_PID=$!
  for _ in $(seq 1 100); do grep -q '^relay ready' "$OUT/relay-$1.log" && break; sleep 0.1; done
  grep -q '^relay ready' "$OUT/relay-$1.log" || { cat "$OUT/relay-$1.log" >&2; exit 1; }
  flood "$RELAY_PID" "$1" --bare-pool "$POOL"
  wait "$FLOOD_PID" || { cat "$OUT/flood-$1.err" >&2; exit 1; }
  kill "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null || true
  RELAY_PID=""
}

measure_silo() { # label io-batch queues
  SILO_ENV=(KeyProxy__Edge__PacketPath=Tun KeyProxy__Edge__IoBatch="$2" KeyProxy__Edge__TunQueues="$3")
  start_silo measure-edge-io.sh "$OUT/silo-$1.log"
  local prefix="flood$$$1"; prefix=${prefix//-/}
  dotnet "$LOAD" provision --api https://127.0.0.1:$HTTP_PORT --count "$HANDSETS" --nai-prefix "$prefix" >/dev/null
  local idle_before idle_after before after
  idle_before=$(curl -sf "$API"); sleep 5; idle_after=$(curl -sf "$API")
  flood "$SILO_PID" "$1" --nai-prefix "$prefix" --handset-port 4500
  # The flooder's window starts 5 s after its attaches (2 s idle reading, 3 s warm-up); the API's window lies inside it.
  for _ in $(seq 1 300); do
    [ "$(curl -sf "$API" | python3 -c "import json,sys; p=json.load(sys.stdin)['packets']; print(p['routedToHandset'] + p['routedToNetwork'])")" -gt 20000 ] && break
    kill -0 "$FLOOD_PID" 2>/dev/null || { cat "$OUT/flood-$1.err" >&2; exit 1; }
    sleep 0.2
  done
  sleep 2
  before=$(curl -sf "$API"); sleep $((WINDOW - 4)); after=$(curl -sf "$API")
  wait "$FLOOD_PID" || { cat "$OUT/flood-$1.err" >&2; exit 1; }
  python3 - "$before" "$after" "$idle_before" "$idle_after" "$OUT/api-$1.json" <<'PY'
import json, sys
b, a, ib, ia = (json.loads(x) for x in sys.argv[1:5])
routed = sum(a["packets"][k] - b["packets"][k] for k in ("routedToHandset", "routedToNetwork"))
idle = (ia["process"]["allocatedBytes"] - ib["process"]["allocatedBytes"]) / 5.0  # the idle reading spans 5 s
alloc = a["process"]["allocatedBytes"] - b["process"]["allocatedBytes"]
drops = {k: a["drops"][k] - b["drops"][k] for k in a["drops"] if a["drops"][k] != b["drops"][k]}
json.dump({"routed": routed, "grainCalls": a["grainCalls"] - b["grainCalls"], "allocatedBytes": alloc,
           "idleAllocatedPerSecond": idle, "drops": drops}, open(sys.argv[5], "w"))
PY
  stop_processes
  SILO_PID=""
}

for round in $(seq 1 "$ROUNDS"); do
  for v in $VARIANTS; do
    label="$v-r$round"
    case "$v" in
      relay) measure_relay "$label" 1 ;;
      relay-q2) measure_relay "$label" 2 ;;
      tun-1) measure_silo "$label" 1 1 ;;
      tun-32) measure_silo "$label" 32 1 ;;
      tun-32-q2) measure_silo "$label" 32 2 ;;
      *) echo "measure-edge-io.sh: unknown variant $v" >&2; exit 1 ;;
    esac
    echo "[$label] $(cat "$OUT/flood-$label.json")" >&2
  done
done

python3 - "$OUT" "$ROUNDS" "$VARIANTS" "$WINDOW" <<'PY'
import json, os, sys
out, rounds, variants, window = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), float(sys.argv[4])
print(f"| round | variant | datagrams routed/s | CPU µs per datagram (measured process) | against the relay (as many queues): rate, CPU | grain calls per datagram | bytes allocated per datagram beyond the idle silo | load average |")
print("|---|---|---:|---:|---:|---:|---:|---|")
for r in range(1, rounds + 1):
    f = {v: json.load(open(f"{out}/flood-{v}-r{r}.json")) for v in variants}
    for v in variants:
        x = f[v]
        # against the relay with as many TUN queues
        relay = f.get("relay-q2" if v.endswith("-q2") and "relay-q2" in f else "relay")
        vs = f"{x['datagramsPerSecond'] / relay['datagramsPerSecond']:.2f}x, {x['cpuUsPerDatagram'] / relay['cpuUsPerDatagram']:.2f}x" if relay and not v.startswith("relay") else ""
        calls = alloc = ""
        p = f"{out}/api-{v}-r{r}.json"
        if os.path.exists(p):
            a = json.load(open(p))
            if a["routed"]:
                calls = f"{a['grainCalls'] / a['routed']:.6f}"
                # the API's window is WINDOW - 4 s long
                alloc = f"{(a['allocatedBytes'] - a['idleAllocatedPerSecond'] * (window - 4)) / a['routed']:.3f}"
        print(f"| {r} | {v} | {x['datagramsPerSecond']:,.0f} | {x['cpuUsPerDatagram']:.2f} | {vs} | {calls} | {alloc} | {x['loadAverage']} |")
PY
echo "logs: $OUT" >&2
