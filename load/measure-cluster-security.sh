#!/usr/bin/env bash
# The cost of cluster TLS and secrets at rest (issue 16), on against off in one run, on the three-silo cluster of
# infra/cluster/cluster.sh (edge-a, edge-b, core; Azure Table clustering and storage on Azurite; Release).
#
#   load/measure-cluster-security.sh [--rounds N] [--provision N] [--handsets N] [--copies N] [--duration 60s]
#                                    [--modes "on tls-off rest-off off"] [--dir D] [--no-build]
#
# Modes: on (as shipped: mutual TLS between silos and on the gateway, secrets encrypted at rest), tls-off
# (KeyProxy:ClusterTls:Enabled=false), rest-off (KeyProxy:SecretsAtRest:Enabled=false: secrets stored marked
# unprotected), off (both). Each round starts a fresh cluster once per mode (its own cluster id and service id, on the
# same Azurite; the edges' pools /20s), the order turning each round (load/interleaved-rounds.sh). In each phase a
# warm-up (keyproxy-load proxied-sa, 200 handsets of their own: JIT, connections, grain activations) runs first, then:
#   - provisioning: keyproxy-load provision, N subscribers through edge-a's admin API, 32 in flight (PUTs/s; each PUT
#     writes the subscriber's row, so its secrets are encrypted, or not, at rest);
#   - proxied SAs: keyproxy-load proxied-sa through edge-a in a closed model (--copies in flight over --handsets
#     handsets, one SA each: the cluster's saturation rate, not a paced one; --duration only caps it): SAs/s and p99,
#     over the SAs of the phase. Proxy sessions spread
#     over the three silos (the default placement), so most sessions run on another silo than the edge carrying their
#     IKE and each of their packets crosses a silo connection; each session reads its subscriber's row once.
# Prints one line per phase, then the medians per mode and the on/off ratios (load/interleaved-rounds.sh).
#
# The silo, HTTP and access ports are cluster.sh's fixed ones: on a machine shared with other test runs, hold
# /tmp/keyproxy-tests.lock around it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=load/admin-curl.sh
. load/admin-curl.sh
# shellcheck source=load/interleaved-rounds.sh
. load/interleaved-rounds.sh

ROUNDS=3 DURATION=60s PROVISION=1000 HANDSETS=2500 COPIES=64 WARMUP=200 MODES="on tls-off rest-off off" BUILD=true
DIR="${TMPDIR:-/tmp}/keyproxy-measure-cluster-security"
TABLE_PORT=10502
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --provision) PROVISION="$2"; shift 2 ;;
    --handsets) HANDSETS="$2"; shift 2 ;;
    --copies) COPIES="$2"; shift 2 ;;
    --modes) MODES="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    --no-build) BUILD=false; shift ;;
    *) echo "measure-cluster-security.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

CLUSTER=(infra/cluster/cluster.sh)
LOAD=(dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll)
EDGE_A_API=https://127.0.0.1:8081 EDGE_A_ACCESS=127.0.0.1:7401
cleanup() { "${CLUSTER[@]}" stop --dir "$DIR/cluster" >/dev/null 2>&1 || true; }
trap cleanup EXIT

if [ "$BUILD" = true ]; then
  dotnet build src/KeyProxy.Silo -c Release -v q -nologo >/dev/null
  dotnet build load/KeyProxy.Load -c Release -v q -nologo >/dev/null
fi
cleanup
rm -rf "$DIR"
mkdir -p "$DIR"
RESULTS="$DIR/results.tsv"
printf 'round\tmode\tPUTs/s\tSAs/s\tp99 ms\n' >"$RESULTS"
echo "load average at start: $(cat /proc/loadavg); $(nproc) cores"

phase() { # round mode
  local r="$1" mode="$2" out="$DIR/$1-$2" id="seccost-$1-$2"
  local -a env=("KeyProxy__ServiceId=$id")
  case "$mode" in
    on) ;;
    tls-off) env+=(KeyProxy__ClusterTls__Enabled=false) ;;
    rest-off) env+=(KeyProxy__SecretsAtRest__Enabled=false) ;;
    off) env+=(KeyProxy__ClusterTls__Enabled=false KeyProxy__SecretsAtRest__Enabled=false) ;;
    *) echo "measure-cluster-security.sh: unknown mode $mode (on, tls-off, rest-off, off)" >&2; exit 2 ;;
  esac
  mkdir -p "$out"
  # The silos inherit the settings from cluster.sh's environment; the storage (Azurite) stays up between phases.
  env "${env[@]}" "${CLUSTER[@]}" start --dir "$DIR/cluster" --config Release --table-port "$TABLE_PORT" \
    --ike-port 20500 --natt-port 24500 --cluster-id "$id" --pool-a 127.64.0.0/20 --pool-b 127.64.16.0/20 >"$out/cluster.log" 2>&1 \
    || { echo "measure-cluster-security.sh: the $mode cluster did not start; see $out/cluster.log and $DIR/cluster/*.log" >&2; exit 1; }
  check_mode "$mode" "$out"
  "${LOAD[@]}" proxied-sa --edge "$EDGE_A_ACCESS" --api "$EDGE_A_API" --handsets "$WARMUP" --copies "$COPIES" --duration 60s \
    --peers 8 --nai-prefix "w$r$mode" --report-dir "$out/warmup" --no-live >"$out/warmup.log" 2>&1 \
    || { echo "measure-cluster-security.sh: the warm-up failed in round $r, $mode; see $out/warmup.log" >&2; exit 1; }
  local puts
  puts=$("${LOAD[@]}" provision --api "$EDGE_A_API" --count "$PROVISION" --nai-prefix "p$r$mode" --parallel 32 | tail -n 1 \
    | sed -nE 's/^provisioned .*\(([0-9.]+)\/s\)$/\1/p')
  [ -n "$puts" ] || { echo "measure-cluster-security.sh: provisioning failed in round $r, $mode" >&2; exit 1; }
  "${LOAD[@]}" proxied-sa --edge "$EDGE_A_ACCESS" --api "$EDGE_A_API" --handsets "$HANDSETS" --copies "$COPIES" --duration "$DURATION" \
    --peers 8 --nai-prefix "s$r$mode" --report-dir "$out/report" --no-live --threshold "proxied-sa:fail<=0" >"$out/load.log" 2>&1 \
    || { echo "measure-cluster-security.sh: proxied-sa failed in round $r, $mode; see $out/load.log" >&2; exit 1; }
  local sas p99
  read -r sas p99 < <(python3 - "$out/report/report.csv" <<'PY'
import csv, sys
r = list(csv.DictReader(open(sys.argv[1])))[-1]
print(r["rps"], r["p99_ms"])
PY
)
  for f in "$DIR"/cluster/*.log; do cp "$f" "$out/"; done
  "${CLUSTER[@]}" stop --dir "$DIR/cluster" --keep-storage >/dev/null 2>&1
  printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$mode" "$puts" "$sas" "$p99" >>"$RESULTS"
  printf '%s\t%s\t%s\t%s\t%s\tload average %s\n' "$r" "$mode" "$puts" "$sas" "$p99" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# Each mode is what it says: the silos announce secrets at rest off, and cluster TLS is on exactly when expected.
check_mode() { # mode out
  local mode="$1" logs="$DIR/cluster/edge-a.log"
  local rest_off=false tls_off=false want_rest_off=false want_tls_off=false
  grep -q "Secrets at rest: OFF" "$logs" && rest_off=true
  grep -q "KeyProxy cluster TLS: off" "$logs" && tls_off=true
  case "$mode" in rest-off | off) want_rest_off=true ;; esac
  case "$mode" in tls-off | off) want_tls_off=true ;; esac
  if [ "$rest_off" != "$want_rest_off" ] || [ "$tls_off" != "$want_tls_off" ]; then
    echo "measure-cluster-security.sh: mode $mode, but edge-a's log says cluster TLS off=$tls_off, secrets at rest off=$rest_off" >&2
    exit 1
  fi
  echo "$mode: cluster TLS off=$tls_off, secrets at rest off=$rest_off" >"$2/mode"
}

read -r -a modes <<<"$MODES"
for r in $(seq 1 "$ROUNDS"); do
  mapfile -t order < <(round_order "$r" "${modes[@]}")
  for mode in "${order[@]}"; do phase "$r" "$mode"; done
done
echo "load average at end: $(cat /proc/loadavg)"
echo
pairs=""
for p in on/tls-off rest-off/off on/rest-off tls-off/off on/off; do
  a="${p%/*}" b="${p#*/}"
  [[ " $MODES " == *" $a "* && " $MODES " == *" $b "* ]] && pairs+="$p "
done
base="off"; [[ " $MODES " == *" off "* ]] || base="${modes[0]}"
summarize_rounds "$RESULTS" "$base" "$pairs" | tee "$DIR/summary.md"
