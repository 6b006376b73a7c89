#!/usr/bin/env bash
# Memory per provisioned subscriber and per attached handset of a KeyProxy edge silo (issue 7, "Targets").
#
# Starts the embedded silo (Release) on its own ports with a /18 handset pool, provisions SUBSCRIBERS load
# subscribers through the admin API (keyproxy-load provision), then attaches HANDSETS of them with
# keyproxy-load attach --hold and measures while they are held. With TWO_EDGES=1 a second edge silo joins
# the cluster (PrimarySiloPort) and HANDSETS more attach there (one edge silo holds at most ~9,000: two UDP
# sockets per attached handset against the process's 20,000 file descriptors).
#
# Figures: the silo process's VmRSS (/proc/PID/status) and its managed heap as Orleans reports it
# (dashboard HistoricalStats memoryUsage = GC.GetTotalMemory(false) + fragmented bytes; no GC is forced,
# so it includes garbage not yet collected), each after the system has been idle for SETTLE seconds.
#
#   load/measure-capacity.sh                      # 100,000 subscribers, 5,000 attached
#   SUBSCRIBERS=20000 HANDSETS=5000 TWO_EDGES=1 load/measure-capacity.sh
#
# Needs root for the edge's ports 500/4500 on the handsets' addresses (as the silo's defaults).
#
# PACKET_PATH=Tun puts the edges on the TUN packet path (KeyProxy:Edge:PacketPath=Tun, issue 18: one TUN device per
# edge, no socket per handset, so one edge silo holds as many handsets as its pool has addresses); the pools are then
# 100.64.0.0/14 and 100.68.0.0/14 unless POOL_A/POOL_B say otherwise, e.g.
#   PACKET_PATH=Tun SUBSCRIBERS=20000 HANDSETS=20000 load/measure-capacity.sh
#
# Carrier scale (issue 18): SUBSCRIBERS >= HANDSETS attaches the provisioned subscribers without provisioning them a
# second time. ATTACH_RATE (400/s) is the held fleet's open-model rate. PROBE=N measures the attach rate (closed model,
# 32 in flight, N handsets of their own that detach again) on the fresh silo and again once MID handsets are attached
# (default 100,000; the held fleet attaches in two parts around the second probe, prefixes cap and cap2), in the same run;
# the probes' subscribers are provisioned (and counted) with the others:
#   PACKET_PATH=Tun SUBSCRIBERS=250000 HANDSETS=250000 PROBE=5000 load/measure-capacity.sh
# SKIP_BUILD=1 with SILO_DLL and LOAD set runs binaries copied elsewhere (so a rebuild meanwhile does not touch them).
set -euo pipefail
. "$(dirname "$0")/admin-curl.sh"
cd "$(dirname "$0")/.."

SUBSCRIBERS=${SUBSCRIBERS:-100000}
HANDSETS=${HANDSETS:-5000}
TWO_EDGES=${TWO_EDGES:-0}
PARALLEL=${PARALLEL:-32}
SETTLE=${SETTLE:-5}
HTTP_A=${HTTP_A:-18080} HTTP_B=${HTTP_B:-18081}
ACCESS_A=${ACCESS_A:-17400} ACCESS_B=${ACCESS_B:-17401}
SILO_A=${SILO_A:-21111} SILO_B=${SILO_B:-21112}
GW_A=${GW_A:-31000} GW_B=${GW_B:-31001}
PACKET_PATH=${PACKET_PATH:-Sockets}
ATTACH_RATE=${ATTACH_RATE:-400}
PROBE=${PROBE:-0}
MID=${MID:-100000}
if [ "$PACKET_PATH" = Tun ]; then
  POOL_A=${POOL_A:-100.64.0.0/14} POOL_B=${POOL_B:-100.68.0.0/14}
else
  POOL_A=${POOL_A:-127.2.0.0/18} POOL_B=${POOL_B:-127.2.64.0/18}
fi
OUT=${OUT:-$(mktemp -d /tmp/keyproxy-capacity.XXXXXX)}
mkdir -p "$OUT"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  dotnet build src/KeyProxy.Silo -c Release -v q -nologo >/dev/null
  dotnet build load/KeyProxy.Load -c Release -v q -nologo >/dev/null
fi
SILO_DLL=${SILO_DLL:-src/KeyProxy.Silo/bin/Release/net10.0/KeyProxy.Silo.dll}
LOAD=${LOAD:-load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

start_silo() { # name http access siloPort gatewayPort pool [primaryPort]
  local args=(--KeyProxy:HttpUrl=https://127.0.0.1:$2 --KeyProxy:Edge:AccessEndpoint=127.0.0.1:$3 --KeyProxy:SiloPort=$4
    --KeyProxy:GatewayPort=$5 --KeyProxy:Edge:AddressPool=$6 --KeyProxy:EdgeId=capacity-$1 --KeyProxy:ClusterId=capacity-$$
    --KeyProxy:DemoSubscribers=false --KeyProxy:Edge:PacketPath=$PACKET_PATH --Logging:LogLevel:Default=Warning)
  [ -n "${7:-}" ] && args+=(--KeyProxy:PrimarySiloPort=$7)
  DOTNET_GCgen0size=${DOTNET_GCgen0size:-0x8000000} dotnet "$SILO_DLL" "${args[@]}" >"$OUT/silo-$1.log" 2>&1 &
  SILO_PID=$!
  pids+=("$SILO_PID")
  for _ in $(seq 100); do curl -sf "https://127.0.0.1:$2/api/" >/dev/null && break; sleep 0.2; done
  curl -sf "https://127.0.0.1:$2/api/" >/dev/null || { echo "silo $1 did not start; see $OUT/silo-$1.log" >&2; exit 1; }
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# The newest managed-heap figure of the silo behind HTTP port $1 (bytes).
gc_bytes() { # http-port silo-port
  local addr
  addr=$(curl -sf "https://127.0.0.1:$1/dashboard/DashboardCounters" \
    | python3 -c 'import json,sys; print([h["siloAddress"] for h in json.load(sys.stdin)["hosts"] if h["siloAddress"].startswith("127.0.0.1:" + sys.argv[1] + "@")][0])' "$2")
  curl -sf "https://127.0.0.1:$1/dashboard/HistoricalStats/$addr" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)[-1]["memoryUsage"]))'
}

measure() { # label pid http silo-port
  sleep "$SETTLE"
  local rss gc
  rss=$(rss_kb "$2"); gc=$(gc_bytes "$3" "$4")
  printf '%-34s VmRSS %8.1f MiB   managed heap %8.1f MiB\n' "$1" "$(echo "$rss/1024" | bc -l)" "$(echo "$gc/1048576" | bc -l)" >&2
  echo "$rss $gc"
}

per() { # before after count -> bytes per item for RSS (kB) and GC (bytes)
  python3 - "$@" <<'EOF'
import sys
(r0, g0), (r1, g1) = [tuple(map(int, a.split())) for a in sys.argv[1:3]]
n = int(sys.argv[3])
print(f"{(r1 - r0) * 1024 / n:,.0f} B RSS, {(g1 - g0) / n:,.0f} B managed per item")
EOF
}

start_silo a "$HTTP_A" "$ACCESS_A" "$SILO_A" "$GW_A" "$POOL_A"
PID_A=$SILO_PID
echo "silo a: pid $PID_A, reports and logs in $OUT" >&2
base=$(measure "idle silo" "$PID_A" "$HTTP_A" "$SILO_A")

split=""; [ "$PROBE" -gt 0 ] && [ "$HANDSETS" -gt "$MID" ] && [ "$SUBSCRIBERS" -ge "$HANDSETS" ] && split=1
provision() { # prefix count
  "$LOAD" provision --api "https://127.0.0.1:$HTTP_A" --count "$2" --nai-prefix "$1" --parallel "$PARALLEL" | tee -a "$OUT/provision.txt" | tail -1 >&2
}
if [ -n "$split" ]; then
  # The held fleet attaches in two parts (prefix cap: MID handsets, then cap2: the rest), the second probe between.
  provision cap "$MID"
  provision cap2 "$((SUBSCRIBERS - MID))"
else
  provision cap "$SUBSCRIBERS"
fi
# The probes' subscribers too, before the reading, so that attaching them later adds only attachments.
if [ "$PROBE" -gt 0 ]; then provision probe1 "$PROBE"; provision probe2 "$PROBE"; SUBSCRIBERS=$((SUBSCRIBERS + 2 * PROBE)); fi
provisioned=$(measure "$SUBSCRIBERS subscribers provisioned" "$PID_A" "$HTTP_A" "$SILO_A")

attach_held() { # edge-http access prefix count [provisioned] -> waits until the fleet is held; the attach process keeps running
  local more=(); [ -n "${5:-}" ] && more=(--no-provision)
  "$LOAD" attach --edge "127.0.0.1:$2" --api "https://127.0.0.1:$1" --handsets "$4" --nai-prefix "$3" --rate "$ATTACH_RATE" \
    --duration "$(( $4 / ATTACH_RATE + 1 ))s" --hold 3600s --report-dir "$OUT/attach-$3" --no-live "${more[@]}" >"$OUT/attach-$3.txt" 2>&1 &
  pids+=("$!")
  until grep -q '^holding' "$OUT/attach-$3.txt"; do
    sleep 1
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then cat "$OUT/attach-$3.txt" >&2; exit 1; fi
  done
  grep '^| attach \|^holding\|^attached at the end' "$OUT/attach-$3.txt" >&2 || true
}

probe() { # label prefix -> the attach rate of PROBE handsets of their own, 32 in flight, beside what is attached now
  [ "$PROBE" -gt 0 ] || return 0
  local attached_now
  attached_now=$(curl -sf "https://127.0.0.1:$HTTP_A/api/edge" | python3 -c 'import json,sys; print(json.load(sys.stdin)["attached"])')
  "$LOAD" attach --edge "127.0.0.1:$ACCESS_A" --api "https://127.0.0.1:$HTTP_A" --handsets "$PROBE" --nai-prefix "$2" --copies 32 --no-provision \
    --duration 600s --report-dir "$OUT/probe-$2" --no-live >"$OUT/probe-$2.txt" 2>&1 || { cat "$OUT/probe-$2.txt" >&2; exit 1; }
  echo "attach probe $1 ($attached_now attached): $(grep '^| attach ' "$OUT/probe-$2.txt")" >&2
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
}

probe "on the fresh silo" probe1
provisioned_flag=""; [ "$SUBSCRIBERS" -ge "$HANDSETS" ] && provisioned_flag=1
if [ -n "$split" ]; then
  attach_held "$HTTP_A" "$ACCESS_A" cap "$MID" 1
  probe "with $MID attached" probe2
  attach_held "$HTTP_A" "$ACCESS_A" cap2 "$((HANDSETS - MID))" 1
else
  attach_held "$HTTP_A" "$ACCESS_A" cap "$HANDSETS" "$provisioned_flag"
  probe "with $HANDSETS attached" probe2
fi
attached=$(measure "$HANDSETS handsets attached" "$PID_A" "$HTTP_A" "$SILO_A")

echo >&2
echo "== one edge silo" >&2
echo "per provisioned subscriber: $(per "$base" "$provisioned" "$SUBSCRIBERS")" >&2
echo "per attached handset:       $(per "$provisioned" "$attached" "$HANDSETS")" >&2
echo "file descriptors of the silo: $(ls /proc/$PID_A/fd | wc -l)" >&2

if [ "$TWO_EDGES" = 1 ]; then
  start_silo b "$HTTP_B" "$ACCESS_B" "$SILO_B" "$GW_B" "$POOL_B" "$SILO_A"
  PID_B=$SILO_PID
  "$LOAD" provision --api "https://127.0.0.1:$HTTP_A" --count "$HANDSETS" --nai-prefix capb --parallel "$PARALLEL" | tail -1 >&2
  before_b=$(measure "edge b before its attaches" "$PID_B" "$HTTP_B" "$SILO_B")
  attach_held "$HTTP_B" "$ACCESS_B" capb "$HANDSETS"
  attached_b=$(measure "$HANDSETS more attached at edge b" "$PID_B" "$HTTP_B" "$SILO_B")
  total=$(curl -sf "https://127.0.0.1:$HTTP_A/api/attachments" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d) if isinstance(d,list) else d.get("total", len(d.get("items", []))))' || echo "?")
  echo "== two edge silos: attachments listed by the admin API: $total" >&2
  echo "edge b per attached handset: $(per "$before_b" "$attached_b" "$HANDSETS")" >&2
  echo "RSS of the two silos: $(( ($(rss_kb "$PID_A") + $(rss_kb "$PID_B")) / 1024 )) MiB" >&2
fi
