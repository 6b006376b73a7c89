#!/usr/bin/env bash
# Tracing on against off (issue 20 item 3): proxied SAs/s of one embedded silo, alternating, same binary, same run.
#
#   load/measure-tracing.sh [--rounds N] [--handsets N] [--rate R | --copies C] [--modes "off on ..."]
#
# Each round starts the silo (Release, no dashboard, 128 MiB gen0) once per mode and runs keyproxy-load proxied-sa
# against it: N handsets offered at R SAs/s (open model), or with --copies C kept C in flight (closed model, as compare
# does: no handset waits long enough to retry its request), x25519, 8 engine peers in the load tool. Modes:
#   off       KeyProxy:Tracing:Enabled=false (the default)
#   on        Enabled=true, every trace sampled, exported over OTLP/HTTP to load/otlp-drop-sink.py (answers, drops)
#   noexport  Enabled=true, every trace sampled, no exporter (spans made and dropped in the silo)
#   sample10  as on, with SampleRatio=0.1
# Prints each run's SAs/s, p50 and p99, the silo's CPU per SA (its process CPU from GET /api/edge, from before the load
# to 6 s after it, so that the exporter's last batch counts; less disturbed by other work on a shared machine than the
# rate), the OTLP requests and bytes the sink received, and per round each mode's ratios to off.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=3 HANDSETS=3000 RATE=1500 COPIES="" MODES="off on"
HTTP_PORT=18593 ACCESS_PORT=17593 SILO_PORT=21593 GATEWAY_PORT=31593 PEER_PORT=20593 PEER_NATT_PORT=24593 SINK_PORT=14318
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --handsets) HANDSETS="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --copies) COPIES="$2"; shift 2 ;;
    --modes) MODES="$2"; shift 2 ;;
    *) echo "measure-tracing.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
OUT="$(mktemp -d /tmp/keyproxy-tracing.XXXXXX)"
cd "$ROOT"
POOL="127.6.0.0/19"
# shellcheck source=load/measure-silo.sh
. load/measure-silo.sh
build_release
if [ -n "$COPIES" ]; then MODEL=(--copies "$COPIES" --duration 120s)
else MODEL=(--rate "$RATE" --duration "$(python3 -c "print(f'{$HANDSETS/$RATE:.3f}s')")"); fi
SINK_PID=""
trap 'stop_processes; [ -n "$SINK_PID" ] && kill $SINK_PID 2>/dev/null || true' EXIT

cpu() { curl -sf "$API" | python3 -c "import json,sys; print(json.load(sys.stdin)['process']['cpuSeconds'])"; }
echo "| round | tracing | SAs/s | p50 ms | p99 ms | silo CPU ms/SA | OTLP requests, bytes |"
echo "|---|---|---:|---:|---:|---:|---|"
for round in $(seq 1 "$ROUNDS"); do
  for mode in $MODES; do
    SILO_ENV=(KeyProxy__DashboardEnabled=false)
    case "$mode" in
      off) SILO_ENV+=(KeyProxy__Tracing__Enabled=false) ;;
      on) SILO_ENV+=(KeyProxy__Tracing__Enabled=true KeyProxy__Tracing__OtlpEndpoint=http://127.0.0.1:$SINK_PORT KeyProxy__Tracing__OtlpProtocol=http/protobuf) ;;
      noexport) SILO_ENV+=(KeyProxy__Tracing__Enabled=true) ;;
      sample10) SILO_ENV+=(KeyProxy__Tracing__Enabled=true KeyProxy__Tracing__OtlpEndpoint=http://127.0.0.1:$SINK_PORT KeyProxy__Tracing__OtlpProtocol=http/protobuf KeyProxy__Tracing__SampleRatio=0.1) ;;
      *) echo "measure-tracing.sh: unknown mode $mode" >&2; exit 1 ;;
    esac
    echo "0 0" >"$OUT/sink"
    python3 load/otlp-drop-sink.py "$SINK_PORT" "$OUT/sink" &
    SINK_PID=$!
    start_silo measure-tracing.sh "$OUT/silo-$round-$mode.log"
    cpu_before=$(cpu)
    dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll proxied-sa --edge 127.0.0.1:$ACCESS_PORT \
      --api ${SCHEME:-https}://127.0.0.1:$HTTP_PORT --handsets "$HANDSETS" "${MODEL[@]}" \
      --nai-prefix "trace-$round-$mode" --peer-network 127.0.226.0 --handset-pool "$POOL" --no-live \
      --report-dir "$OUT/report-$round-$mode" >"$OUT/load-$round-$mode.log" 2>&1 || true
    # The exporter sends its last batch at most 5 s after the load (its schedule): the sink's count includes it.
    sleep 6
    cpu_after=$(cpu)
    stop_processes
    SILO_PID=""
    kill "$SINK_PID" 2>/dev/null || true
    wait "$SINK_PID" 2>/dev/null || true
    SINK_PID=""
    row=$(tail -n 1 "$OUT/report-$round-$mode/report.csv")
    IFS=, read -r _ _ _ _ ok failed _ rps _ _ p50 _ _ p99 _ _ <<<"$row"
    cpu_per_sa=$(python3 -c "print(f'{($cpu_after - $cpu_before) * 1000 / max($ok, 1):.3f}')")
    echo "| $round | $mode | $rps | $p50 | $p99 | $cpu_per_sa | $(cat "$OUT/sink") | ok $ok failed $failed"
    echo "$round $mode $rps $cpu_per_sa" >>"$OUT/rates"
  done
done
python3 - "$OUT/rates" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
rate, cpu = {}, {}
for r, mode, v, c in rows:
    rate.setdefault(mode, {})[r] = float(v)
    cpu.setdefault(mode, {})[r] = float(c)
mean = lambda d: sum(d.values()) / len(d)
for mode in rate:
    line = f"{mode}: mean {mean(rate[mode]):.0f} SAs/s, {mean(cpu[mode]):.3f} silo CPU ms/SA"
    if mode != "off" and "off" in rate:
        per = lambda m: ", ".join(f"{m[mode][r] / m['off'][r]:.2f}" for r in sorted(m[mode]) if r in m["off"])
        line += (f" | SAs/s to off per round {per(rate)}, of means {mean(rate[mode]) / mean(rate['off']):.2f}"
                 f" | CPU/SA to off per round {per(cpu)}, of means {mean(cpu[mode]) / mean(cpu['off']):.2f}")
    print(line)
PY
echo "logs and reports: $OUT"
