#!/usr/bin/env bash
# Where the silo's allocation per proxied SA comes from.
#
#   load/profile-alloc.sh [--handsets N] [--rate R] [--dh GROUP] [--out DIR]
#
# Starts the embedded silo (Release, as profile-cpu.sh does), makes a warm-up run of N proxied SAs, then traces
# the silo with dotnet-trace (the runtime's GC AllocationTick event with its stack: one sample per ~100 KB
# allocated) over a second run, and groups the sampled bytes by component (the innermost frame naming one), by
# type, and by type and our innermost frame (load/profile-alloc.cs). Bytes per SA: GET /api/grain-calls'
# allocatedBytes and the key transfers of GET /api/edge, read at the start and end of the traced window.
# Needs dotnet-trace (dotnet tool install -g dotnet-trace; installed when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HANDSETS=2000
RATE=""
DH=""
OUT="${TMPDIR:-/tmp}/keyproxy-alloc"
HTTP_PORT=18591 ACCESS_PORT=17591 SILO_PORT=21591 GATEWAY_PORT=31591 PEER_PORT=20591 PEER_NATT_PORT=24591
POOL="127.5.0.0/20"

while [ $# -gt 0 ]; do
  case "$1" in
    --handsets) HANDSETS="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --dh) DH="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "profile-alloc.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
RATE="${RATE:-$((HANDSETS / 10))}"
DURATION=$(( (HANDSETS + RATE - 1) / RATE ))

export PATH="$PATH:$HOME/.dotnet/tools"
command -v dotnet-trace >/dev/null 2>&1 || dotnet tool install -g dotnet-trace >/dev/null
mkdir -p "$OUT"
cd "$ROOT"
# shellcheck source=load/measure-silo.sh
. load/measure-silo.sh
build_release
start_silo profile-alloc.sh "$OUT/silo.log"
CALLS="${API%/edge}/grain-calls"

start_profiled_phase profile-alloc.sh
before=$(curl -sf "$API"); before_calls=$(curl -sf "$CALLS")
dotnet-trace collect -p "$SILO_PID" --providers Microsoft-Windows-DotNETRuntime:0x1:5 --duration "00:00:00:$(printf %02d "$WINDOW")" \
  -o "$OUT/alloc.nettrace" >"$OUT/trace.log" 2>&1
after=$(curl -sf "$API"); after_calls=$(curl -sf "$CALLS")
wait "$LOAD_PID" || true
LOAD_PID=""
sas=$(python3 -c "import json; b=json.loads('''$before'''); a=json.loads('''$after'''); print(a['packets']['keyTransferToHandset']-b['packets']['keyTransferToHandset'])")
bytes=$(python3 -c "import json; b=json.loads('''$before_calls'''); a=json.loads('''$after_calls'''); print(a['allocatedBytes']-b['allocatedBytes'])")
echo "key transfers in the window: $sas; silo allocated $((bytes / 1024)) KiB = $(python3 -c "print(f'{$bytes/1024/max($sas,1):.1f}')") KiB per SA (runtime counter)"
dotnet run --file load/profile-alloc.cs -c Release -- "$OUT/alloc.nettrace" "$sas" 30 | tee "$OUT/alloc.md"
