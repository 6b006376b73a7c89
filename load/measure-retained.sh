#!/usr/bin/env bash
# What a live proxied SA keeps alive in the silo, by type (issue 17): the state every garbage collection under load
# has to mark and copy once, so the open model's pauses grow with it.
#
#   load/measure-retained.sh [--handsets N] [--dh GROUP] [--top K] [--out DIR]
#
# Starts the embedded silo (Release, one silo, in-memory storage, the scripts' GC settings), makes N proxied SAs
# with keyproxy-load proxied-sa (engine peers in the load process) and holds them, takes a heap dump of the silo
# with dotnet-gcdump while they are held, then again once the handsets have detached and their sessions closed
# (the same subscribers still active: they are not idle long enough to be collected). The difference per SA, by
# type and by the assembly that defines it, is what one attached handset with one proxied SA holds (the attach's
# own share is in PERFORMANCE.md, "Memory"), as objects per SA by type (load/retained-report.py). Needs dotnet-gcdump (installed when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HANDSETS=3000 DH=x25519 TOP=25 OUT="${TMPDIR:-/tmp}/keyproxy-retained"
HTTP_PORT=18890 ACCESS_PORT=17890 SILO_PORT=21890 GATEWAY_PORT=31890 PEER_PORT=20890 PEER_NATT_PORT=24890
POOL="127.9.0.0/18"
while [ $# -gt 0 ]; do
  case "$1" in
    --handsets) HANDSETS="$2"; shift 2 ;;
    --dh) DH="$2"; shift 2 ;;
    --top) TOP="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "measure-retained.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
export PATH="$PATH:$HOME/.dotnet/tools"
command -v dotnet-gcdump >/dev/null 2>&1 || dotnet tool install -g dotnet-gcdump >/dev/null
mkdir -p "$OUT"
cd "$ROOT"
# shellcheck source=load/measure-silo.sh
. load/measure-silo.sh
build_release
start_silo measure-retained.sh "$OUT/silo.log"

key_transfers() { curl -sf "$API" | python3 -c "import json,sys; print(json.load(sys.stdin)['packets']['keyTransferToHandset'])"; }
attached() { curl -sf "$API" | python3 -c "import json,sys; print(json.load(sys.stdin)['attached'])"; }
proxied() { # prefix report-dir handsets [hold]
  local hold=(); [ -n "${4:-}" ] && hold=(--hold "$4")
  dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll proxied-sa --edge 127.0.0.1:$ACCESS_PORT \
    --api https://127.0.0.1:$HTTP_PORT --handsets "$3" --copies 32 --duration 120s --dh "$DH" \
    --peer-port $PEER_PORT --peer-natt-port $PEER_NATT_PORT --peers 8 --peer-network 127.0.180.0 \
    --report-dir "$2" --no-live --nai-prefix "$1" "${hold[@]}"
}
# A warm-up (JIT, pools, grain types, Orleans' caches), then the measured run whose SAs are held while the dump is taken.
proxied "rw$$" "$OUT/warm-up" 500 >"$OUT/warm-up.log" 2>&1 || { echo "measure-retained.sh: the warm-up failed; see $OUT/warm-up.log" >&2; exit 1; }
before=$(key_transfers)
proxied "rm$$" "$OUT/report" "$HANDSETS" 90s >"$OUT/load.log" 2>&1 &
LOAD_PID=$!
for _ in $(seq 1 600); do
  [ $(( $(key_transfers) - before )) -ge "$HANDSETS" ] && grep -q "^holding" "$OUT/load.log" && break
  kill -0 "$LOAD_PID" 2>/dev/null || { echo "measure-retained.sh: the load tool ended early; see $OUT/load.log" >&2; exit 1; }
  sleep 1
done
held=$(attached)
dotnet-gcdump collect -p "$SILO_PID" -o "$OUT/held.gcdump" >"$OUT/gcdump-held.log" 2>&1
wait "$LOAD_PID" 2>/dev/null || true # the hold (90 s) ends: the fleet detaches and the sessions close
LOAD_PID=""
for _ in $(seq 1 60); do [ "$(attached)" -eq 0 ] && break; sleep 1; done
sleep 10 # closed sessions deactivate
dotnet-gcdump collect -p "$SILO_PID" -o "$OUT/released.gcdump" >"$OUT/gcdump-released.log" 2>&1
dotnet-gcdump report "$OUT/held.gcdump" >"$OUT/held.txt"
dotnet-gcdump report "$OUT/released.gcdump" >"$OUT/released.txt"

python3 load/retained-report.py "$OUT/held.txt" "$OUT/released.txt" "$held" "$TOP"
echo "dumps and reports: $OUT"
