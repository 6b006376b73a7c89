#!/usr/bin/env bash
# Where the open model's p99 comes from (issue 17): the proxied-sa latency over time at half the maximum rate.
#
#   load/measure-latency.sh [--dh GROUP] [--closed N] [--handsets N] [--runs K] [--rate R] [--out DIR] [--silo-env NAME=VALUE]...
#
# Starts the embedded silo (Release, one silo, in-memory storage, the 128 MiB gen0 budget) and engine responder
# peers in a process of their own (keyproxy-load peers), then with keyproxy-load proxied-sa: a warm-up run, a
# closed-model run (32 in flight, --closed SAs) whose SAs/s is the maximum, and --runs open-model runs at half of
# it (or at --rate; --closed 0: no closed run), --handsets SAs each (one edge silo holds about 9,000 attached handsets: two sockets each
# against the process's 20,000 file descriptors). While each open run loads, the silo's own figures (GET
# /api/edge: key transfers, collections, GC pause, CPU, bytes allocated) are sampled every 0.25 s into
# silo-samples.tsv. It prints each run's figures and its latency per second (report-intervals.csv) beside the
# silo's collections, GC pause and CPU in the same second (aligned on the first key transfer, to 0.25 s).
# --silo-env adds to the silo's environment (e.g. DOTNET_gcServer=0; DOTNET_GCgen0size=0 for the runtime's default).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DH=x25519 CLOSED=3000 HANDSETS=8000 RUNS=3 RATE="" OUT="${TMPDIR:-/tmp}/keyproxy-latency"
HTTP_PORT=18690 ACCESS_PORT=17690 SILO_PORT=21690 GATEWAY_PORT=31690 PEER_PORT=20690 PEER_NATT_PORT=24690
POOL="127.7.0.0/17" PEER_NETWORK="127.0.170.0" PEERS=16
SILO_ENV=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dh) DH="$2"; shift 2 ;;
    --closed) CLOSED="$2"; shift 2 ;;
    --handsets) HANDSETS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --silo-env) SILO_ENV+=("$2"); shift 2 ;;
    *) echo "measure-latency.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
mkdir -p "$OUT"
cd "$ROOT"
# shellcheck source=load/measure-silo.sh
. load/measure-silo.sh
build_release
LOAD=(dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll)

PEERS_PID="" SAMPLER_PID=""
cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
  [ -n "$PEERS_PID" ] && { kill "$PEERS_PID" 2>/dev/null; wait "$PEERS_PID" 2>/dev/null; } || true
  stop_processes
}
trap cleanup EXIT

start_silo measure-latency.sh "$OUT/silo.log"
start_engine_peers measure-latency.sh

proxied() { # prefix report-dir load-arguments...
  local prefix="$1" dir="$2"; shift 2
  "${LOAD[@]}" proxied-sa --edge 127.0.0.1:$ACCESS_PORT --api "${SCHEME:-https}://127.0.0.1:$HTTP_PORT" --peer external \
    --peers $PEERS --peer-network $PEER_NETWORK --peer-port $PEER_PORT --peer-natt-port $PEER_NATT_PORT --dh "$DH" \
    --nai-prefix "$prefix" --report-dir "$dir" --no-live "$@" >"$dir.log" 2>&1 \
    || { echo "measure-latency.sh: $prefix failed; see $dir.log" >&2; exit 1; }
}
# report.csv of a run: its SAs/s (rps, ok and failed; a failure fails the run above unless the threshold held).
rate_of() { python3 -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(r[0]['rps'])" "$1/report.csv"; }

proxied "lw$$" "$OUT/warm-up" --copies 32 --handsets 1000 --duration 60s
if [ "$CLOSED" -gt 0 ]; then # the maximum; the open model runs at half of it unless --rate says
  proxied "lc$$" "$OUT/closed" --copies 32 --handsets "$CLOSED" --duration 60s --threshold "proxied-sa:fail<=0"
  MAX=$(rate_of "$OUT/closed")
  RATE="${RATE:-$(python3 -c "print(round($MAX / 2))")}"
  echo "closed model, 32 in flight: $MAX SAs/s"
fi
[ -n "$RATE" ] || { echo "measure-latency.sh: --closed 0 needs --rate" >&2; exit 1; }
DURATION=$(python3 -c "import math; print(math.ceil($HANDSETS / $RATE))")
echo "open model at $RATE/s, $HANDSETS SAs per run ($DURATION s); silo environment: ${SILO_ENV[*]:-none added}"

sample_silo() { # file: one line per 0.25 s: unix time, key transfers, gen0 collections, CPU s, bytes allocated
  while :; do
    s=$(curl -sf "https://127.0.0.1:$HTTP_PORT/api/edge" 2>/dev/null || true)
    [ -n "$s" ] && python3 -c "import json,sys,time; d=json.loads(sys.argv[1]); p=d['process']; print(f\"{time.time():.3f}\t{d['packets']['keyTransferToHandset']}\t{p['gen0Collections']}\t{p['cpuSeconds']:.3f}\t{p['allocatedBytes']}\t{p['gen1Collections']}\t{p['gen2Collections']}\t{p['gcPauseSeconds']:.4f}\")" "$s" >>"$1"
    sleep 0.25
  done
}

for run in $(seq 1 "$RUNS"); do
  dir="$OUT/open-$run"
  mkdir -p "$dir"
  : >"$dir/silo-samples.tsv"
  sample_silo "$dir/silo-samples.tsv" &
  SAMPLER_PID=$!
  proxied "lo$run-$$" "$dir" --rate "$RATE" --handsets "$HANDSETS" --duration "${DURATION}s"
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=""
done

python3 - "$OUT" "$RUNS" <<'EOF'
import csv, sys
out, runs = sys.argv[1], int(sys.argv[2])
def step(path):
    return list(csv.DictReader(open(path)))[0]
import os
if os.path.exists(f"{out}/closed/report.csv"):
    c = step(f"{out}/closed/report.csv")
    print(f"closed: {float(c['rps']):.0f} SAs/s, p50 {c['p50_ms']} ms, p99 {c['p99_ms']} ms")
for run in range(1, runs + 1):
    d = f"{out}/open-{run}"
    s = step(f"{d}/report.csv")
    print(f"\nopen run {run}: {float(s['rps']):.0f} SAs/s, {s['ok']} ok, {s['failed']} failed, p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms")
    # The load starts when the silo's key transfers start rising: align the silo's samples to it.
    samples = [l.split("\t") for l in open(f"{d}/silo-samples.tsv") if l.strip()]
    samples = [(float(t), int(k), int(g), float(cpu), int(a), int(g1), int(g2), float(pause)) for t, k, g, cpu, a, g1, g2, pause in samples]
    start = next((samples[i - 1][0] for i in range(1, len(samples)) if samples[i][1] > samples[0][1]), samples[0][0] if samples else 0)
    def at(t):
        before = [x for x in samples if x[0] <= t]
        return before[-1] if before else samples[0]
    print("| s | ok/s | failed | p50 ms | p90 ms | p99 ms | max ms | silo GCs (gen0/1/2) | silo GC pause ms | silo CPU s | silo MB alloc |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in csv.DictReader(open(f"{d}/report-intervals.csv")):
        t0, t1 = start + float(r["start_s"]), start + float(r["start_s"]) + float(r["length_s"])
        a, b = at(t0), at(t1)
        print(f"| {r['start_s']} | {float(r['ok_per_s']):.0f} | {r['failed']} | {r['p50_ms']} | {r['p90_ms']} | {r['p99_ms']} | {r['max_ms']} "
              f"| {b[2] - a[2]}/{b[5] - a[5]}/{b[6] - a[6]} | {1000 * (b[7] - a[7]):.0f} | {b[3] - a[3]:.2f} | {(b[4] - a[4]) / 1e6:.0f} |")
    total = samples[-1][7] - samples[0][7] if samples else 0
    print(f"silo GC pause over the run: {1000 * total:.0f} ms in {samples[-1][2] - samples[0][2] if samples else 0} collections")
EOF
