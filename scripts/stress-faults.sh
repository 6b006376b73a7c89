#!/usr/bin/env bash
# Issue 15's first "done when": the strict fault tests N times with both cores kept busy beside them.
#   scripts/stress-faults.sh [N] [--no-build]
# Each run holds /tmp/keyproxy-tests.lock (the tests start silos and Azurite on shared ports), starts
# `stress-ng --cpu 2` for its length, and runs FaultTests (edge kill -9 with the strict "no SA on one side only"
# check, storage outage), ClusterTests' kill -9 of the core silo and its three-silo test (the one that met the
# provisioning HTTP 500). Every silo's whole output of run i goes to $OUT/run-i/cluster-logs/<cluster id>/, the test
# output (with every test's printed figures) to $OUT/run-i/test.log; the summary names the failed runs' directories. Exit code: the number of failed runs
# (capped at 100).
set -uo pipefail
cd "$(dirname "$0")/.."

runs=20
build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    ''|*[!0-9]*) echo "usage: $0 [N] [--no-build]" >&2; exit 2 ;;
    *) runs=$arg ;;
  esac
done

if ! command -v stress-ng >/dev/null 2>&1; then
  echo "stress-faults: installing stress-ng"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends stress-ng >/dev/null
fi
infra/azurite/azurite.sh install >/dev/null

project=tests/KeyProxy.Cluster.Tests/KeyProxy.Cluster.Tests.csproj
if [ "$build" = 1 ]; then
  dotnet build "$project" -c Release -warnaserror -v q -nologo >/dev/null || { echo "stress-faults: build failed" >&2; exit 2; }
fi

filter='FullyQualifiedName~KeyProxy.Cluster.Tests.FaultTests|FullyQualifiedName~KeyProxy.Cluster.Tests.ClusterTests.Kill_9|FullyQualifiedName~KeyProxy.Cluster.Tests.ClusterTests.Three_silos'
out="${KEYPROXY_STRESS_OUT:-${TMPDIR:-/tmp}/keyproxy-stress-faults/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
echo "stress-faults: $runs runs beside stress-ng --cpu 2; output in $out"

passed=0
failed=()
for i in $(seq 1 "$runs"); do
  dir="$out/run-$i"
  mkdir -p "$dir"
  start=$(date +%s)
  # The lock, then the load, then the tests; the load stops with the run (also when the run fails).
  flock /tmp/keyproxy-tests.lock bash -c '
    stress-ng --cpu 2 --timeout 30m --quiet & load=$!
    trap "kill $load 2>/dev/null; wait $load 2>/dev/null" EXIT
    KEYPROXY_CLUSTER_LOGS="$1/cluster-logs" dotnet test "$2" -c Release --no-build --filter "$3" \
      --logger "console;verbosity=detailed" >"$1/test.log" 2>&1
  ' _ "$dir" "$project" "$filter"
  rc=$?
  took=$(( $(date +%s) - start ))
  summary=$(grep -E "^(Passed|Failed)!|Total tests" "$dir/test.log" | tail -1)
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    echo "run $i: passed in ${took}s ($summary)"
  else
    failed+=("$i")
    echo "run $i: FAILED (exit $rc) in ${took}s ($summary): $dir/test.log, silo logs $dir/cluster-logs"
    grep -E "^\s+Failed KeyProxy" "$dir/test.log" | sed 's/^/    /'
  fi
done

echo "stress-faults: $passed/$runs runs passed${failed:+; failed runs: ${failed[*]}}; output in $out"
n=${#failed[@]}
exit $(( n > 100 ? 100 : n ))
