#!/usr/bin/env bash
# Where the proxy's CPU goes per proxied SA.
#
#   load/profile-cpu.sh [--handsets N] [--rate R] [--dh GROUP] [--out DIR]
#
# Starts the embedded silo (Release, one silo, in-memory storage) with .NET perf maps on, provisions and
# attaches N simulated handsets with keyproxy-load proxied-sa (after a warm-up run of the same size), and
# once all are attached samples the silo
# with `perf record -e cpu-clock` for the proxied phase. It prints the silo's CPU seconds per proxied SA
# (from GET /api/edge: process CPU and key transfers, read at the start and end of the sampled window) and
# the samples split by component, each sample given to the first rule its symbol matches:
#   dh        the Diffie-Hellman work (OpenSSL's X25519, P-256 and big-number code, our key exchange providers)
#   crypto    the rest of IKE's and ESP's cryptography (AES, SHA-2, HMAC, the PRF+ and key derivation)
#   ike       the rest of KeyProxy.Ike (codec, exchanges, state)
#   edge      KeyProxy.Edge and KeyProxy.Wire (classification, routing, access link)
#   grains    KeyProxy.Grains (subscriber and proxy session grains)
#   orleans   the Orleans runtime (grain calls: messaging, scheduling, serialization)
#   sockets   .NET sockets and the socket system calls
#   runtime   the CLR, GC, thread pool and the rest of the BCL
#   spinning  threads waiting for work: context switches, sched_yield, the thread pool's semaphore spin
#   kernel    the rest of the kernel (network stack, system calls)
# Needs root (or perf_event_paranoid <= 1) and perf (Debian linux-perf; installed when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HANDSETS=400
RATE=""
DH=""
OUT="${TMPDIR:-/tmp}/keyproxy-profile"
HTTP_PORT=18590 ACCESS_PORT=17590 SILO_PORT=21590 GATEWAY_PORT=31590 PEER_PORT=20590 PEER_NATT_PORT=24590
POOL="127.4.0.0/20"

while [ $# -gt 0 ]; do
  case "$1" in
    --handsets) HANDSETS="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --dh) DH="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "profile-cpu.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
RATE="${RATE:-$((HANDSETS / 20))}"
DURATION=$(( (HANDSETS + RATE - 1) / RATE ))

command -v perf >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null; }
mkdir -p "$OUT"
cd "$ROOT"
# shellcheck source=load/measure-silo.sh
. load/measure-silo.sh
build_release
SILO_ENV=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
start_silo profile-cpu.sh "$OUT/silo.log"

start_profiled_phase profile-cpu.sh
before=$(curl -sf "$API")
perf record -e cpu-clock -F 999 -p "$SILO_PID" -o "$OUT/perf.data" -- sleep "$WINDOW" 2>"$OUT/perf.log" >/dev/null
after=$(curl -sf "$API")
wait "$LOAD_PID" || true
LOAD_PID=""

cpu=$(python3 -c "import json; b=json.loads('''$before'''); a=json.loads('''$after'''); print(a['process']['cpuSeconds']-b['process']['cpuSeconds'])")
sas=$(python3 -c "import json; b=json.loads('''$before'''); a=json.loads('''$after'''); print(a['packets']['keyTransferToHandset']-b['packets']['keyTransferToHandset'])")
perf report -i "$OUT/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null >"$OUT/perf.txt"

python3 - "$OUT/perf.txt" "$cpu" "$sas" "$WINDOW" <<'EOF'
import re, sys
path, cpu, sas, window = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rules = [
    ("dh", r"x25519|X25519|ecp_nistz256|nistp|ec_GFp|EC_POINT|ossl_ec|ecdh|ECDH|BN_|bn_|KeyExchange|Modp|DiffieHellman|mont"),
    ("crypto", r"aes|AES|gcm|GCM|ghash|sha256|sha512|SHA|sha2|HMAC|hmac|EVP_|Prf|SkCipher|KeyDerivation|Hkdf|libcrypto"),
    ("ike", r"KeyProxy\.Ike"),
    ("edge", r"KeyProxy\.Edge|KeyProxy\.Wire"),
    ("grains", r"KeyProxy\.Grains|KeyProxy\.Abstractions"),
    ("orleans", r"Orleans"),
    ("sockets", r"System\.Net\.Sockets|SystemNative_(Send|Receive)|sendto|recvfrom|sendmsg|recvmsg|epoll"),
    ("spinning", r"finish_task_switch|sched_yield|LowLevelLifoSemaphore|SpinWait|Thread::?Sleep|futex"),
    ("kernel", r"\[kernel"),
]
totals = {name: 0.0 for name, _ in rules}
totals["runtime"] = 0.0
line = re.compile(r"^\s*([\d.]+)%\s+(.+?)\s+\[[.k]\]\s+(.*)$")
for text in open(path, encoding="utf-8", errors="replace"):
    m = line.match(text)
    if not m:
        continue
    share, dso, sym = float(m.group(1)), m.group(2), m.group(3)
    what = dso + " " + sym
    for name, pattern in rules:
        if re.search(pattern, what):
            totals[name] += share
            break
    else:
        totals["runtime"] += share
matched = sum(totals.values())
totals = {k: 100 * v / matched for k, v in totals.items()} if matched else totals
per_sa_ms = 1000 * cpu / sas if sas else float("nan")
print(f"proxied SAs in the window: {sas} in {window:.0f} s; silo CPU {cpu:.2f} s = {per_sa_ms:.2f} ms per SA "
      f"({cpu / window:.2f} cores busy)")
print("| component | share of silo CPU | ms per SA |")
print("|---|---:|---:|")
for name, share in sorted(totals.items(), key=lambda kv: -kv[1]):
    print(f"| {name} | {share:.1f}% | {per_sa_ms * share / 100:.2f} |")
EOF
echo "perf report: $OUT/perf.txt; load report: $OUT/report/report.md"
