#!/usr/bin/env bash
# Tracing on against off (issue 20 item 3): proxied SAs/s of one embedded silo, alternating, same binary, same run.
#
#   load/measure-tracing.sh [--rounds N] [--handsets N] [--rate R]
#
# Each round starts the silo (Release, no dashboard, 128 MiB gen0) twice, tracing off (KeyProxy:Tracing:Enabled=false)
# then on (Enabled=true, every trace sampled, exported over OTLP/HTTP to load/otlp-drop-sink.py, which answers and drops
# them), and runs keyproxy-load proxied-sa against each: N handsets offered at R SAs/s, x25519, 8 engine peers in the
# load tool. Prints each run's SAs/s, p50 and p99, the spans' bytes the sink received, and the on/off ratio per round.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=3 HANDSETS=3000 RATE=1500
HTTP_PORT=18593 ACCESS_PORT=17593 SILO_PORT=21593 GATEWAY_PORT=31593 PEER_PORT=20593 PEER_NATT_PORT=24593 SINK_PORT=14318
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --handsets) HANDSETS="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    *) echo "measure-tracing.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
OUT="$(mktemp -d /tmp/keyproxy-tracing.XXXXXX)"
cd "$ROOT"
POOL="127.6.0.0/19"
# shellcheck source=load/measure-silo.sh
. load/measure-silo.sh
build_release
python3 load/otlp-drop-sink.py "$SINK_PORT" "$OUT/sink" &
SINK_PID=$!
trap 'stop_processes; kill $SINK_PID 2>/dev/null || true' EXIT

echo "| round | tracing | SAs/s | p50 ms | p99 ms | OTLP requests, bytes |"
echo "|---|---|---:|---:|---:|---|"
for round in $(seq 1 "$ROUNDS"); do
  for tracing in false true; do
    echo "0 0" >"$OUT/sink"
    SILO_ENV=(KeyProxy__DashboardEnabled=false KeyProxy__Tracing__Enabled=$tracing)
    [ "$tracing" = true ] && SILO_ENV+=(KeyProxy__Tracing__OtlpEndpoint=http://127.0.0.1:$SINK_PORT KeyProxy__Tracing__OtlpProtocol=http/protobuf)
    start_silo measure-tracing.sh "$OUT/silo-$round-$tracing.log"
    dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll proxied-sa --edge 127.0.0.1:$ACCESS_PORT \
      --api http://127.0.0.1:$HTTP_PORT --handsets "$HANDSETS" --rate "$RATE" --duration "$(python3 -c "print(f'{$HANDSETS/$RATE:.3f}s')")" \
      --nai-prefix "trace-$round-$tracing" --peer-network 127.0.226.0 --handset-pool "$POOL" --no-live \
      --report-dir "$OUT/report-$round-$tracing" >"$OUT/load-$round-$tracing.log" 2>&1 || true
    # The exporter sends its last batch at most 5 s after the load (its schedule): the sink's count includes it.
    [ "$tracing" = true ] && sleep 6
    stop_processes
    SILO_PID=""
    row=$(tail -n 1 "$OUT/report-$round-$tracing/report.csv")
    IFS=, read -r _ _ _ _ ok failed _ rps _ _ p50 _ _ p99 _ _ <<<"$row"
    echo "| $round | $tracing | $rps | $p50 | $p99 | $(cat "$OUT/sink") | ok $ok failed $failed"
    echo "$round $tracing $rps" >>"$OUT/rates"
  done
done
python3 - "$OUT/rates" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
off = {r: float(v) for r, t, v in rows if t == "false"}
on = {r: float(v) for r, t, v in rows if t == "true"}
ratios = [on[r] / off[r] for r in sorted(off) if r in on]
print("on/off per round: " + ", ".join(f"{x:.2f}" for x in ratios))
print(f"mean SAs/s off {sum(off.values())/len(off):.0f}, on {sum(on.values())/len(on):.0f}, ratio of means {sum(on.values())/len(on)/(sum(off.values())/len(off)):.2f}")
PY
echo "logs and reports: $OUT"
