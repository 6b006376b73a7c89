#!/usr/bin/env bash
# Scale-out from one silo to two (issue 17 item 4): proxied SAs/s of one edge silo against the same edge silo with a
# second, core-only silo joined, each silo pinned to a CPU of its own and capped to a share of it, in the same run.
#
#   load/measure-scale-out.sh [--rounds K] [--quota Q] [--period-ms P] [--handsets N] [--warm-up N] [--copies C] [--dh GROUP]
#                             [--audit T] [--edge-cpu N] [--core-cpu N] [--out DIR]
#
# This machine has two cores, so "the silos on cores of their own, the load on the rest" is emulated with smaller
# cores: each silo runs under `taskset -c` on its own CPU and in a cgroup (v1, the cpu controller) whose CFS quota is
# Q of a core (--quota, default 0.5) per CFS period of P ms (--period-ms, default 10: a short period, so that a silo
# waits at most P (1 - Q) ms for its next slice, not the 50 ms of the kernel's default 100 ms period, in each of the
# calls between silos an SA makes) and a high weight (cpu.shares 20480), so that other work on that CPU cannot take
# the silo's share below its quota; the load tool and its peers run unpinned on what is left.
#   step 1  one silo (edge) on --edge-cpu (0), capped at Q
#   step 2  the same edge silo on --edge-cpu at Q, and a core-only silo (KeyProxy:EdgeEnabled=false, joined with
#           KeyProxy:PrimarySiloPort) on --core-cpu (1) at Q; proxy sessions spread over both (ProxySessionPlacement)
# Every run starts its silos afresh (a cluster of its own), runs an uncounted warm-up of --warm-up SAs (default 1,000),
# then keyproxy-load proxied-sa, closed model (--copies 32 in flight), --handsets SAs (default 4,000), x25519 unless
# --dh, the peers in their own process (keyproxy-load peers). The silos' KeyProxy:Network:SessionAuditInterval is --audit
# (default 00:01:00, the product's is 10 s): a live session renews its lease and is probed that often, a cost per live
# session and second rather than per SA, which would otherwise enter a slow run's load phase (over 10 s) and not a fast one's. The steps alternate in K rounds (default 3), their order
# swapping every round (1 2, 2 1, 1 2, ...: load/interleaved-rounds.sh), so a slow stretch of the machine falls on both.
# The whole measurement holds the shared test lock (/tmp/keyproxy-tests.lock); the build runs before it is taken.
#
# Per run: SAs/s, p50/p99, and per silo over the load phase only (proxied-sa --meter-silo: after the attach, before the
# detach) its CPU seconds (/proc/PID/stat), CPU ms per SA, its use of its quota (CPU s / (phase s x Q)), the grain calls
# it received per SA (GET /api/grain-calls); the CFS periods in which its cgroup was throttled over the whole proxied-sa
# run (provisioning and attach included); the peers' CPU per SA over the load phase; the load average (1 min). Then the medians per step and the step 2 / step 1 ratios (each
# round's ratio, their median and range), and the scale-out model's parameters fitted from the step (docs/PERFORMANCE.md,
# "Scale-out"). Raw output, reports and logs under --out (default a new /tmp/keyproxy-scale-out.XXXXXX).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=3 QUOTA=0.5 PERIOD_MS=10 AUDIT=00:01:00 HANDSETS=4000 WARMUP=1000 COPIES=32 DH=x25519 EDGE_CPU=0 CORE_CPU=1 OUT=""
ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --quota) QUOTA="$2"; shift 2 ;;
    --period-ms) PERIOD_MS="$2"; shift 2 ;;
    --audit) AUDIT="$2"; shift 2 ;;
    --handsets) HANDSETS="$2"; shift 2 ;;
    --warm-up) WARMUP="$2"; shift 2 ;;
    --copies) COPIES="$2"; shift 2 ;;
    --dh) DH="$2"; shift 2 ;;
    --edge-cpu) EDGE_CPU="$2"; shift 2 ;;
    --core-cpu) CORE_CPU="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "measure-scale-out.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
python3 -c "import sys; q=float(sys.argv[1]); sys.exit(0 if 0.05 <= q <= 1 else 1)" "$QUOTA" 2>/dev/null \
  || { echo "measure-scale-out.sh: --quota is a share of one core, 0.05 to 1" >&2; exit 1; }
[[ "$PERIOD_MS" =~ ^[0-9]+$ ]] && [ "$PERIOD_MS" -ge 2 ] && [ "$PERIOD_MS" -le 1000 ] \
  || { echo "measure-scale-out.sh: --period-ms is 2 to 1000" >&2; exit 1; }
CGROUP_ROOT=/sys/fs/cgroup/cpu
[ -w "$CGROUP_ROOT" ] || { echo "measure-scale-out.sh: needs root and the cgroup v1 cpu controller at $CGROUP_ROOT" >&2; exit 1; }
cd "$ROOT"

if [ "${KEYPROXY_SCALE_OUT_LOCKED:-}" != 1 ]; then
  # shellcheck source=load/measure-silo.sh
  . load/measure-silo.sh
  build_release
  # The lock for the whole measurement; -o: held by flock itself, so that no silo or peer inherits it.
  exec env KEYPROXY_SCALE_OUT_LOCKED=1 flock -o /tmp/keyproxy-tests.lock "$0" "${ARGS[@]}"
fi

OUT="${OUT:-$(mktemp -d /tmp/keyproxy-scale-out.XXXXXX)}"
mkdir -p "$OUT"
HTTP_E=18790 HTTP_C=18791 ACCESS_PORT=17790 SILO_E=21790 SILO_C=21791 GATEWAY_E=31790 GATEWAY_C=31791
PEER_PORT=20790 PEER_NATT_PORT=24790 POOL="127.9.0.0/18" PEER_NETWORK="127.0.171.0" PEERS=16
# shellcheck source=load/measure-silo.sh
. load/measure-silo.sh
# shellcheck source=load/interleaved-rounds.sh
. load/interleaved-rounds.sh
LOAD=(dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll)
CGROUP="$CGROUP_ROOT/keyproxy-scale-out-$$"
PERIOD_US=$((PERIOD_MS * 1000))

EDGE_PID="" CORE_PID="" PEERS_PID=""
stop_silos() {
  local p
  for p in "$CORE_PID" "$EDGE_PID"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "$CORE_PID" "$EDGE_PID"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  EDGE_PID="" CORE_PID="" SILO_PID=""
}
cleanup() {
  stop_silos
  exec 3>&- 2>/dev/null || true
  [ -n "$PEERS_PID" ] && { kill "$PEERS_PID" 2>/dev/null; wait "$PEERS_PID" 2>/dev/null; } || true
  local g
  for g in edge core; do [ -d "$CGROUP/$g" ] && rmdir "$CGROUP/$g" 2>/dev/null || true; done
  [ -d "$CGROUP" ] && rmdir "$CGROUP" 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$CGROUP/edge" "$CGROUP/core"
QUOTA_US=$(python3 -c "print(round($QUOTA * $PERIOD_US))")
for g in edge core; do
  echo "$PERIOD_US" >"$CGROUP/$g/cpu.cfs_period_us"
  echo "$QUOTA_US" >"$CGROUP/$g/cpu.cfs_quota_us"
  echo 20480 >"$CGROUP/$g/cpu.shares"
done
throttled() { awk '$1 == "nr_periods" {p = $2} $1 == "nr_throttled" {t = $2} END {print p, t}' "$1/cpu.stat"; }

# start_one NAME CPU HTTP SILO GATEWAY [PRIMARY]: a silo pinned to CPU in cgroup NAME (an edge without PRIMARY, a
# core-only silo joined to it with); sets SILO_PID.
start_one() {
  local name=$1 cpu=$2
  HTTP_PORT=$3 SILO_PORT=$4 GATEWAY_PORT=$5
  SILO_LAUNCH=(taskset -c "$cpu")
  SILO_ARGS=(--KeyProxy:ClusterId="$CLUSTER" --KeyProxy:DashboardEnabled=false --KeyProxy:EdgeId="scale-$name"
    --KeyProxy:Network:SessionAuditInterval="$AUDIT")
  if [ -n "${6:-}" ]; then
    SILO_ARGS+=(--KeyProxy:EdgeEnabled=false --KeyProxy:PrimarySiloPort="$6")
    SILO_READY="${SCHEME:-https}://127.0.0.1:$HTTP_PORT/api/"
  else
    SILO_READY=""
  fi
  start_silo measure-scale-out.sh "$OUT/$RUN-silo-$name.log"
  echo "$SILO_PID" >"$CGROUP/$name/cgroup.procs"
}

proxied() { # prefix report-dir load-arguments...
  local prefix="$1" dir="$2"; shift 2
  "${LOAD[@]}" proxied-sa --edge 127.0.0.1:$ACCESS_PORT --api "${SCHEME:-https}://127.0.0.1:$HTTP_E" --peer external \
    --peers $PEERS --peer-network $PEER_NETWORK --peer-port $PEER_PORT --peer-natt-port $PEER_NATT_PORT --dh "$DH" \
    --nai-prefix "$prefix" --report-dir "$dir" --no-live --copies "$COPIES" --duration 300s "$@" >"$dir.log" 2>&1 \
    || { echo "measure-scale-out.sh: $prefix failed; see $dir.log" >&2; exit 1; }
}

start_engine_peers measure-scale-out.sh
echo "scale-out: $ROUNDS rounds, quota $QUOTA of a core per ${PERIOD_MS} ms period per silo (edge on CPU $EDGE_CPU, core on CPU $CORE_CPU), $DH," \
  "$HANDSETS SAs per run after $WARMUP warm-up, $COPIES in flight, session audit every $AUDIT; raw output in $OUT"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
RESULTS="$OUT/results.tsv"
printf 'round\tmode\tsas_per_s\tp50_ms\tp99_ms\tedge_ms_per_sa\tcore_ms_per_sa\tsilos_ms_per_sa\tedge_quota_use\tcore_quota_use\tedge_calls_per_sa\tcore_calls_per_sa\n' >"$RESULTS"
echo
echo "| round | step | SAs/s | failed | p50 ms | p99 ms | edge CPU s | edge ms/SA | edge quota use | edge throttled | core CPU s | core ms/SA | core quota use | core throttled | grain calls/SA edge, core | peers ms/SA | load avg |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"
for round in $(seq 1 "$ROUNDS"); do
  for step in $(round_order "$round" 1 2); do
    RUN="r$round-step$step"
    CLUSTER="scale-$$-$RUN"
    start_one edge "$EDGE_CPU" $HTTP_E $SILO_E $GATEWAY_E
    EDGE_PID=$SILO_PID EDGE_PID_RUN=$SILO_PID CORE_PID_RUN=""
    meters=(--meter-silo "$PEERS_PID" --meter-silo "$EDGE_PID=${SCHEME:-https}://127.0.0.1:$HTTP_E")
    if [ "$step" = 2 ]; then
      start_one core "$CORE_CPU" $HTTP_C $SILO_C $GATEWAY_C $SILO_E
      CORE_PID=$SILO_PID CORE_PID_RUN=$SILO_PID
      meters+=(--meter-silo "$CORE_PID=${SCHEME:-https}://127.0.0.1:$HTTP_C")
    fi
    SILO_PID=""
    proxied "w$$-$RUN" "$OUT/$RUN-warm-up" --handsets "$WARMUP" "${meters[@]}"
    if [ "$step" = 2 ] && ! grep -Eq "^silo $CORE_PID: .* calls [1-9]" "$OUT/$RUN-warm-up.log"; then
      echo "measure-scale-out.sh: the core silo took no grain call in the warm-up (not in the cluster?); see $OUT/$RUN-*.log" >&2; exit 1
    fi
    read -r ep0 et0 < <(throttled "$CGROUP/edge"); read -r cp0 ct0 < <(throttled "$CGROUP/core")
    load_before=$(cut -d' ' -f1 /proc/loadavg)
    proxied "m$$-$RUN" "$OUT/$RUN" --handsets "$HANDSETS" --threshold "proxied-sa:fail<=0" "${meters[@]}"
    load_after=$(cut -d' ' -f1 /proc/loadavg)
    read -r ep1 et1 < <(throttled "$CGROUP/edge"); read -r cp1 ct1 < <(throttled "$CGROUP/core")
    stop_silos
    python3 - "$OUT/$RUN" "$round" "$step" "$QUOTA" "$RESULTS" "$PEERS_PID $EDGE_PID_RUN ${CORE_PID_RUN:-0}" \
      "$((ep1 - ep0)) $((et1 - et0))" "$((cp1 - cp0)) $((ct1 - ct0))" "$load_before" "$load_after" <<'PY'
import csv, re, sys
run, rnd, step, quota, results, pids, edge_thr, core_thr, la0, la1 = sys.argv[1:]
peers_pid, edge_pid, core_pid = pids.split()
quota = float(quota)
r = list(csv.DictReader(open(f"{run}/report.csv")))[0]
ok, failed, rps = int(r["ok"]), int(r["failed"]), float(r["rps"])
metered = {m[0]: m[1:] for m in re.findall(r"^silo (\d+): cpu_s ([\d.]+) wall_s ([\d.]+) calls (\S+)", open(f"{run}.log").read(), re.M)}
def silo(pid):
    if pid not in metered: return None
    cpu, wall, calls = metered[pid]
    cpu, wall = float(cpu), float(wall)
    return dict(cpu=cpu, ms=1000 * cpu / ok, use=cpu / (wall * quota), calls=(int(calls) / ok) if calls != "-" else float("nan"))
def thr(text):
    periods, throttled = map(int, text.split())
    return f"{throttled}/{periods}" if periods else "-"
e, c, p = silo(edge_pid), silo(core_pid), silo(peers_pid)
cells = [rnd, step, f"{rps:.0f}", str(failed), r["p50_ms"], r["p99_ms"],
         f"{e['cpu']:.2f}", f"{e['ms']:.3f}", f"{e['use']:.2f}", thr(edge_thr)]
cells += [f"{c['cpu']:.2f}", f"{c['ms']:.3f}", f"{c['use']:.2f}", thr(core_thr)] if c else ["-", "-", "-", "-"]
cells += [f"{e['calls']:.2f}, {c['calls']:.2f}" if c else f"{e['calls']:.2f}, -", f"{p['ms']:.3f}", f"{la0} → {la1}"]
print("| " + " | ".join(cells) + " |")
nan = float("nan")
with open(results, "a") as f:
    f.write("\t".join([rnd, "one" if step == "1" else "two", f"{rps:.1f}", r["p50_ms"], r["p99_ms"], f"{e['ms']:.4f}",
                       f"{c['ms']:.4f}" if c else "0", f"{e['ms'] + (c['ms'] if c else 0):.4f}", f"{e['use']:.3f}",
                       f"{c['use']:.3f}" if c else "0", f"{e['calls']:.3f}", f"{c['calls']:.3f}" if c else "0"]) + "\n")
PY
  done
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
summarize_rounds "$RESULTS" one
echo
python3 - "$RESULTS" "$QUOTA" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
q = float(sys.argv[2])
med = lambda mode, key: statistics.median(float(r[key]) for r in rows if r["mode"] == mode)
a1, a2, b2 = med("one", "edge_ms_per_sa"), med("two", "edge_ms_per_sa"), med("two", "core_ms_per_sa")
r1, r2 = med("one", "sas_per_s"), med("two", "sas_per_s")
# The model (docs/PERFORMANCE.md, "Scale-out"): a proxied SA costs e at its handset's edge silo and s where its session
# runs; a session away from the edge's silo costs x more (the step: half the sessions, Spread placement over 2 silos).
x = 2 * (a2 + b2 - a1)
print(f"fitted from the medians: step 1 edge {a1:.3f} ms/SA; step 2 edge {a2:.3f}, core {b2:.3f} ms/SA")
print(f"  extra CPU per session away from the edge silo x = 2 (edge2 + core2 - edge1) = {x:.3f} ms ({x / a1:.0%} of an SA on one silo)")
s_sym = 2 * b2 - x / 2
print(f"  with x split evenly between the two silos: session share s = {s_sym:.3f} ms, edge share e = {a1 - s_sym:.3f} ms")
print(f"  CPU-bound at the quota: step 1 {1000 * q / a1:.0f} SAs/s, step 2 {1000 * q / max(a2, b2):.0f} SAs/s;"
      f" ratio {a1 / max(a2, b2):.2f} from the CPU per SA, measured {r2 / r1:.2f} (medians)")
PY
echo "raw output: $OUT"
