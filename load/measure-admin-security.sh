#!/usr/bin/env bash
# The cost of the admin listener's HTTPS and bearer tokens (issue 16 items 1-2), on against off in one run.
#
#   load/measure-admin-security.sh [--rounds N] [--provision N] [--handsets N] [--modes "on off tls token"] [--out DIR]
#
# Starts the embedded silo (Release, one silo, in-memory storage) once per phase, alternately with the admin
# listener as shipped (HTTPS, tokens: "on") and with KeyProxy:AdminHttps:Enabled=false and
# KeyProxy:AdminAuth:Enabled=false ("off"), the order swapped every round (on/off, off/on, ...) so drift of the shared
# machine falls on both. --modes adds "tls" (HTTPS, no tokens) and "token" (tokens over plain HTTP) to split the cost;
# with more than two modes each round starts one mode later. In each phase: keyproxy-load provision (PUTs/s, 32 in flight, over one HTTP/1.1 connection
# pool as an operator's tool would) and keyproxy-load proxied-sa (proxied SAs/s, p99, with its own engine peers; the
# load tool provisions its handsets through the API first). Prints one line per phase and the on/off ratios of the
# medians.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=3 PROVISION=2000 HANDSETS=400 MODES="on off"
OUT="${TMPDIR:-/tmp}/keyproxy-admin-security"
HTTP_PORT=18591 ACCESS_PORT=17591 SILO_PORT=21591 GATEWAY_PORT=31591 PEER_PORT=20591 PEER_NATT_PORT=24591
POOL="127.5.0.0/20"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --provision) PROVISION="$2"; shift 2 ;;
    --handsets) HANDSETS="$2"; shift 2 ;;
    --modes) MODES="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "measure-admin-security.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
mkdir -p "$OUT"
cd "$ROOT"
# shellcheck source=load/measure-silo.sh
. load/measure-silo.sh
build_release
LOAD=(dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll)
RESULTS="$OUT/results.tsv"
printf 'round\tmode\tputs_per_s\tsas_per_s\tp99_ms\n' >"$RESULTS"

phase() { # round mode
  local r="$1" mode="$2" dir="$OUT/$1-$2"
  mkdir -p "$dir"
  case "$mode" in
    on) SCHEME=https SILO_ENV=() ;;
    off) SCHEME=http SILO_ENV=(KeyProxy__AdminHttps__Enabled=false KeyProxy__AdminAuth__Enabled=false) ;;
    tls) SCHEME=https SILO_ENV=(KeyProxy__AdminAuth__Enabled=false) ;;
    token) SCHEME=http SILO_ENV=(KeyProxy__AdminHttps__Enabled=false) ;;
    *) echo "measure-admin-security.sh: unknown mode $mode" >&2; exit 1 ;;
  esac
  start_silo measure-admin-security.sh "$dir/silo.log"
  local api="$SCHEME://127.0.0.1:$HTTP_PORT"
  local puts
  puts=$("${LOAD[@]}" provision --api "$api" --count "$PROVISION" --nai-prefix "p$r$mode" --parallel 32 | tail -1 | sed -E 's/.*\(([0-9.]+)\/s\)/\1/')
  "${LOAD[@]}" proxied-sa --edge 127.0.0.1:$ACCESS_PORT --api "$api" --handsets "$HANDSETS" --copies 64 --duration 15s \
    --peer-port $PEER_PORT --peer-natt-port $PEER_NATT_PORT --peers 16 --report-dir "$dir/report" --no-live --nai-prefix "s$r$mode" >"$dir/load.log" 2>&1 || true
  local sas p99
  read -r sas p99 < <(python3 - "$dir/report/report.csv" <<'PY'
import csv, sys
r = list(csv.DictReader(open(sys.argv[1])))[-1]
print(r["rps"], r["p99_ms"])
PY
)
  stop_processes; SILO_PID=""
  printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$mode" "$puts" "$sas" "$p99" | tee -a "$RESULTS"
}

read -r -a modes <<<"$MODES"
for r in $(seq 1 "$ROUNDS"); do
  for i in $(seq 0 $(( ${#modes[@]} - 1 ))); do
    if [ "${#modes[@]}" = 2 ] && [ $((r % 2)) = 0 ]; then j=$(( 1 - i )); else j=$(( (i + r - 1) % ${#modes[@]} )); fi
    phase "$r" "${modes[$j]}"
  done
done
python3 - "$RESULTS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
modes = list(dict.fromkeys(r["mode"] for r in rows))
def med(mode, key): return statistics.median(float(r[key]) for r in rows if r["mode"] == mode)
for key, name in (("puts_per_s", "provisioning PUTs/s"), ("sas_per_s", "proxied SAs/s"), ("p99_ms", "proxied SA p99 ms")):
    off = med("off", key)
    print(f"{name}: " + ", ".join(f"{m} {med(m, key):.1f} ({m}/off {med(m, key) / off:.2f})" for m in modes)
          + f" (medians of {sum(r['mode'] == 'off' for r in rows)} rounds)")
PY
