#!/usr/bin/env bash
# Runs the SharpFuzz harnesses of fuzz/KeyProxy.Fuzz under AFL++.
#
#   scripts/fuzz.sh <target> <seconds> [--out DIR]
#   scripts/fuzz.sh all <seconds-each> [--out DIR]
#   scripts/fuzz.sh esp,wire <seconds-each> [--out DIR]     (a comma-separated list)
#
# Targets: ike-parse ike-decrypt esp wire access. Installs afl++ (Debian) and the SharpFuzz tool
# (.config/dotnet-tools.json) when missing, publishes the harness, instruments the KeyProxy library
# assemblies (not the harness), then runs afl-fuzz on fuzz/corpus/<target> for that long, one target at a time.
# DIR (default /tmp/keyproxy-fuzz) gets bin/ and one afl output directory per target (replaced on each run);
# crashing inputs stay in DIR/<target>/default/crashes/. Prints executions, exec/s, corpus size, crashes and
# hangs per target (also appended to DIR/summary.tsv) and exits 1 when any target found a crash.
# Reproduce a crash without afl: dotnet DIR/bin/keyproxy-fuzz.dll replay <target> <file>.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(ike-parse ike-decrypt esp wire access)
usage() { echo "usage: $0 <${all_targets[*]// /|}|all> <seconds> [--out DIR]" >&2; exit 2; }

[ $# -ge 2 ] || usage
target=$1; seconds=$2; shift 2
out=/tmp/keyproxy-fuzz
while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    *) usage ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || usage
if [ "$target" = all ]; then
  targets=("${all_targets[@]}")
else
  IFS=, read -r -a targets <<< "$target"
  for t in "${targets[@]}"; do [[ " ${all_targets[*]} " == *" $t "* ]] || usage; done
fi

if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "fuzz.sh: installing afl++"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends afl++ >/dev/null
fi
dotnet tool restore >/dev/null

mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$out/bin
rm -rf "$bin"
dotnet publish fuzz/KeyProxy.Fuzz -c Release -o "$bin" -warnaserror -nologo -v quiet >/dev/null
# Coverage comes from the libraries under test; the harness and the framework stay uninstrumented.
for dll in KeyProxy.Primitives KeyProxy.Ike KeyProxy.Ipsec KeyProxy.Wire KeyProxy.Edge; do
  dotnet tool run sharpfuzz "$bin/$dll.dll" >/dev/null
done

# This machine: no CPU frequency governor to check, core dumps not piped to a helper, shared cores.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
# afl-fuzz runs `dotnet`, which carries no AFL instrumentation of its own (SharpFuzz's is in the assemblies).
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1
export DOTNET_TieredPGO=0 DOTNET_CLI_TELEMETRY_OPTOUT=1

stat() { sed -n "s/^$2 *: *//p" "$1" | head -n1; }
[ -f "$out/summary.tsv" ] || printf 'target\tseconds\texecs\texecs_per_sec\tcorpus\tcrashes\thangs\tfinished\n' > "$out/summary.tsv"
found=0
for t in "${targets[@]}"; do
  echo "fuzz.sh: $t for ${seconds}s (output $out/$t)"
  # SharpFuzz's fork server reads its first input before afl-fuzz has written it; should that run leave the
  # coverage map empty, afl-fuzz aborts with "No instrumentation detected" (the harnesses avoid it; a new start
  # goes through anyway).
  for attempt in 1 2 3; do
    rm -rf "${out:?}/$t"
    if afl-fuzz -i "fuzz/corpus/$t" -o "$out/$t" -V "$seconds" -t 5000 -m none -- dotnet "$bin/keyproxy-fuzz.dll" "$t" > "$out/$t.log" 2>&1; then
      break
    fi
    if [ "$attempt" -lt 3 ] && grep -q "No instrumentation detected" "$out/$t.log"; then
      echo "fuzz.sh: $t: afl-fuzz saw no coverage on its first run, starting again" >&2
      continue
    fi
    echo "fuzz.sh: afl-fuzz failed for $t, last lines of $out/$t.log:" >&2
    tail -n 30 "$out/$t.log" >&2
    exit 1
  done
  stats=$out/$t/default/fuzzer_stats
  crashes=$(find "$out/$t/default/crashes" -name 'id:*' 2>/dev/null | wc -l)
  hangs=$(find "$out/$t/default/hangs" -name 'id:*' 2>/dev/null | wc -l)
  run_time=$(stat "$stats" run_time); execs=$(stat "$stats" execs_done)
  per_sec=$(stat "$stats" execs_per_sec); corpus=$(stat "$stats" corpus_count)
  [ -n "$corpus" ] || corpus=$(stat "$stats" paths_total)
  echo "fuzz.sh: $t: ${run_time}s, $execs execs, $per_sec exec/s, corpus $corpus, crashes $crashes, hangs $hangs"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$run_time" "$execs" "$per_sec" "$corpus" "$crashes" "$hangs" "$(date -u +%FT%TZ)" >> "$out/summary.tsv"
  if [ "$crashes" -gt 0 ]; then
    found=1
    echo "fuzz.sh: $t crashed; inputs in $out/$t/default/crashes/ (replay: dotnet $bin/keyproxy-fuzz.dll replay $t <file>)" >&2
  fi
done
exit $found
