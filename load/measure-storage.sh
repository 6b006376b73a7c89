#!/usr/bin/env bash
# The storage figures of issue 14, one run, on the three-silo cluster of infra/cluster/cluster.sh (Azurite, Release):
#   1. cluster start: first silo process started to the last ready line (cluster.sh's own figure);
#   2. provisioning rate: N subscribers (default 10,000) through edge-a's admin API with keyproxy-load provision;
#   3. failure detection: kill -9 of the core silo to edge-a's dashboard showing it Dead (polled every 100 ms);
#   4. restart with profiles: every silo stopped (SIGTERM), started again on the same Azurite, and then every
#      provisioned profile read back through the admin API (a page of 1,000 at a time, each a grain activation
#      reading its stored state); the count must be N.
#
#   load/measure-storage.sh [--count N] [--dir D] [--table-port P] [--no-build]
#
# Each figure is printed as soon as it is measured.
#
# The silo, HTTP and access ports are cluster.sh's fixed ones (11111-11113, 30000-30002, 8081-8083, 7401-7402):
# on a machine shared with other test runs, hold /tmp/keyproxy-tests.lock around it.
set -euo pipefail
. "$(dirname "$0")/admin-curl.sh"
cd "$(dirname "$0")/.."

COUNT=10000
DIR="${TMPDIR:-/tmp}/keyproxy-measure-storage"
TABLE_PORT=10302
BUILD=true
while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    --table-port) TABLE_PORT="$2"; shift 2 ;;
    --no-build) BUILD=false; shift ;;
    *) echo "measure-storage.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

CLUSTER=(infra/cluster/cluster.sh)
OPTS=(--dir "$DIR" --config Release --table-port "$TABLE_PORT" --ike-port 20500 --natt-port 24500 --cluster-id measure-storage)
EDGE_A=https://127.0.0.1:8081
now_ms() { date +%s%3N; }
cleanup() { "${CLUSTER[@]}" stop --dir "$DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT

if [ "$BUILD" = true ]; then
  dotnet build src/KeyProxy.Silo -c Release -v q -nologo >/dev/null
  dotnet build load/KeyProxy.Load -c Release -v q -nologo >/dev/null
fi
rm -rf "$DIR"

# 1. cluster start
start_line="$("${CLUSTER[@]}" start "${OPTS[@]}" | tail -n 1)"
echo "cluster start: $(sed -E 's/.* up in ([0-9]+) ms.*/\1/' <<<"$start_line") ms"

# 2. provisioning
prov_line="$(dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll provision --api "$EDGE_A" --count "$COUNT" \
  --nai-prefix measure | tail -n 1)"
echo "provisioning: $prov_line"

# 3. failure detection: the core silo's status on edge-a's dashboard (which lists a Dead silo, or drops it)
core_status() {
  local status
  status="$(curl -s --max-time 2 "$EDGE_A/dashboard/DashboardCounters" \
    | grep -oE '"siloName":"core","startTime":"[^"]*","status":"[^"]*"' | sed -E 's/.*"status":"([^"]*)"/\1/' | head -n 1)"
  echo "${status:-absent}"
}
[ "$(core_status)" = Active ] || { echo "measure-storage.sh: core is not Active on edge-a's dashboard before the kill" >&2; exit 1; }
killed="$(now_ms)"
kill -9 "$(cat "$DIR/core.pid")"
detect_ms=""
while [ $(( $(now_ms) - killed )) -lt 60000 ]; do
  if [[ "$(core_status)" =~ ^(Dead|absent)$ ]]; then detect_ms=$(( $(now_ms) - killed )); break; fi
  sleep 0.1
done
[ -n "$detect_ms" ] || { echo "measure-storage.sh: core still $(core_status) on edge-a's dashboard 60 s after kill -9" >&2; exit 1; }
echo "failure detection (kill -9 of core to Dead on edge-a's dashboard): $detect_ms ms"

# 4. whole-cluster stop and restart, then every profile read back
"${CLUSTER[@]}" stop --dir "$DIR" --keep-storage >/dev/null 2>&1
restart_line="$("${CLUSTER[@]}" start "${OPTS[@]}" | tail -n 1)"
echo "restart: $(sed -E 's/.* up in ([0-9]+) ms.*/\1/' <<<"$restart_line") ms to the ready lines"
read_start="$(now_ms)"
read_back=0
for ((skip = 0; skip < COUNT; skip += 1000)); do
  page="$(curl -sf --max-time 120 "$EDGE_A/api/subscribers?skip=$skip&take=1000")"
  read_back=$(( read_back + $(grep -o '"nai":"measure-' <<<"$page" | wc -l) ))
done
read_ms=$(( $(now_ms) - read_start ))
[ "$read_back" -eq "$COUNT" ] || { echo "measure-storage.sh: $read_back of $COUNT profiles read back after the restart" >&2; exit 1; }

echo "all $COUNT profiles read back through the admin API in $read_ms ms after the restart"
