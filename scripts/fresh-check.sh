#!/usr/bin/env bash
# The release check: the README's two commands on a clean machine, not on this one.
#
#   scripts/fresh-check.sh [--dir D] [--rev REV] [--keep]
#
# 1. Builds a minimal Debian root of this machine's release with mmdebstrap (variant minbase, plus
#    what a fresh machine of the project's kind has and the .NET SDK needs: ca-certificates, git,
#    libicu, libssl, tzdata). Nothing of this machine goes in but its .NET SDK and the strongSwan 6 source
#    of ../shared/peers (both bind-mounted read-only) and its apt sources and resolver (to reach the same
#    registries).
# 2. Clones the repository (REV, default HEAD, committed work only) into it.
# 3. Runs the README's run command there, `dotnet run --project src/KeyProxy.Silo`, waits for its
#    start line, fetches the dashboard and the admin API, and stops it with SIGTERM.
# 4. Runs the README's test command there, `bash scripts/test.sh`, as root with CI=true and no
#    standard input, as CI does. Everything it needs beyond the root must come from the project's
#    own scripts (apt packages, Azurite from npm, NuGet packages).
#
# The root shares this machine's network (registries, loopback ports) but has its own mounts, /run,
# /tmp and package set. Holds /tmp/keyproxy-tests.lock while it runs tests, so test runs of other
# work trees on this machine wait instead of colliding on ports. Needs root. About 20 minutes here.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=${TMPDIR:-/tmp}/keyproxy-fresh
REV=HEAD
KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --rev) REV=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh-check: unknown option $1" >&2; exit 2 ;;
  esac
done
say() { echo "fresh-check: $*"; }
fail() { echo "fresh-check: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (mmdebstrap, chroot, and the tests themselves)"
DOTNET_ROOT=$(dirname "$(readlink -f "$(command -v dotnet)")")
[ -x "$DOTNET_ROOT/dotnet" ] || fail "no .NET SDK found on this machine"
command -v mmdebstrap >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null; }
. /etc/os-release
SUITE=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
SOURCES=()
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do [ -s "$f" ] && SOURCES+=("$f"); done

ROOT=$DIR/root
mounted=()
cleanup() {
  local i p
  # Whatever still runs inside the root (a build server node, a silo) ends with the check.
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  [ -n "$KEEP" ] || rm -rf --one-file-system "$DIR"
}
trap cleanup EXIT
mnt() { mount "$@"; mounted+=("${!#}"); }

start=$(date +%s)
rm -rf --one-file-system "$DIR"
mkdir -p "$DIR"
say "building a minimal $SUITE root in $ROOT"
mmdebstrap --variant=minbase --include=ca-certificates,git,libicu72,libssl3,tzdata,zlib1g \
  "$SUITE" "$ROOT" "${SOURCES[@]}" >"$DIR/mmdebstrap.log" 2>&1 || { tail -20 "$DIR/mmdebstrap.log" >&2; fail "mmdebstrap failed"; }
say "root ready in $(( $(date +%s) - start )) s: $(chroot "$ROOT" dpkg-query -W | wc -l) packages"

# The root is a mount point of its own, as / is on a machine: `unshare -m` (charon's private /run)
# cannot change the propagation of a / that is not one.
mnt --bind "$ROOT" "$ROOT"
# The .NET SDK as the machine has it, read-only; the resolver, to reach the registries.
mkdir -p "$ROOT/usr/share/dotnet" "$ROOT/origin"
mnt --bind "$DOTNET_ROOT" "$ROOT/usr/share/dotnet"
mount -o remount,bind,ro "$ROOT/usr/share/dotnet"
ln -sf /usr/share/dotnet/dotnet "$ROOT/usr/bin/dotnet"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# The network's own trust: a workplace or carrier that inspects TLS on the way to the registries adds
# its CA here, as every fresh machine on that network has it.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  chroot "$ROOT" update-ca-certificates >/dev/null 2>&1 || fail "update-ca-certificates failed in the root"
fi
# The kernel interfaces the tests use: network namespaces, TUN for charon's userspace ESP, /dev/shm.
mnt -t proc proc "$ROOT/proc"
mnt --rbind /sys "$ROOT/sys"
mnt --rbind /dev "$ROOT/dev"
mnt -t tmpfs tmpfs "$ROOT/run"
mnt -t tmpfs tmpfs "$ROOT/tmp"
# The repository, read-only, to clone from.
mnt --bind "$REPO" "$ROOT/origin"
mount -o remount,bind,ro "$ROOT/origin"
# The strongSwan 6 source the PQ interop peer is built from (../shared/peers next to the work tree, as on a
# development machine; infra/strongswan/build-charon6.sh): an input of the machine, as the .NET SDK is, read-only.
for peers in "${KEYPROXY_PEERS_DIR:-}" "$REPO/../shared/peers" /work/shared/peers; do
  if [ -n "$peers" ] && [ -f "$peers/strongswan-6.0.6.tar.xz" ]; then
    mkdir -p "$ROOT/work/shared/peers"
    mnt --bind "$peers" "$ROOT/work/shared/peers"
    mount -o remount,bind,ro "$ROOT/work/shared/peers"
    break
  fi
done

# As CI runs: root, CI=true, no standard input, a plain environment but for the machine's network
# settings (proxies, CA bundles, NuGet's revocation mode) and .NET's switches, which CI has too.
mapfile -t NETWORK_ENV < <(env | grep -E '^(NUGET_[A-Z_]*|DOTNET_[A-Z_]*|[A-Z_]*(CERT|CA_BUNDLE|CAINFO|PROXY)[A-Z_]*|(http|https|no)_proxy)=' || true)
in_root() {
  # 9>&-: the test lock stays with this script, not with a build server that outlives a command.
  chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 CI=true "${NETWORK_ENV[@]}" /bin/bash -c "$1" </dev/null 9>&-
}
in_root "git config --global --add safe.directory '*' && git clone -q /origin /work/keyproxy && cd /work/keyproxy && git checkout -q $(git -C "$REPO" rev-parse "$REV")"
say "cloned $(git -C "$REPO" rev-parse --short "$REV") into the root"

exec 9>/tmp/keyproxy-tests.lock
flock 9

# README: `dotnet run --project src/KeyProxy.Silo`, the embedded default.
run_start=$(date +%s)
in_root "cd /work/keyproxy && exec dotnet run --project src/KeyProxy.Silo" >"$DIR/silo.log" 2>&1 &
silo=$!
for _ in $(seq 600); do
  grep -q "KeyProxy silo up: " "$DIR/silo.log" && break
  kill -0 "$silo" 2>/dev/null || { tail -30 "$DIR/silo.log" >&2; fail "the silo exited before its start line"; }
  sleep 1
done
grep -q "KeyProxy silo up: " "$DIR/silo.log" || { tail -30 "$DIR/silo.log" >&2; fail "no start line from the silo in 10 minutes"; }
grep "KeyProxy silo up: " "$DIR/silo.log"
check_url() {
  local body
  body=$(curl -fsS --max-time 10 "$1") || { kill "$silo"; fail "GET $1 failed"; }
  grep -q "$2" <<<"$body" || { kill "$silo"; fail "GET $1: no '$2' in the answer"; }
  say "GET $1: ok"
}
check_url http://127.0.0.1:8080/dashboard/ "<html"
check_url http://127.0.0.1:8080/api/subscribers/alice@keyproxy.test '"nai":"alice@keyproxy.test"'
check_url http://127.0.0.1:8080/api/edge '"edgeId"'
# Ctrl+C's signal goes to the whole foreground group: dotnet run and the silo under it.
pkill -TERM -f "KeyProxy.Silo" || true
wait "$silo" && code=0 || code=$?
[ "$code" = 0 ] || [ "$code" = 143 ] || { tail -30 "$DIR/silo.log" >&2; fail "the silo stopped with exit code $code"; }
say "run command: up, dashboard and API answered, stopped cleanly, in $(( $(date +%s) - run_start )) s"

# README: `bash scripts/test.sh`.
test_start=$(date +%s)
set +e
in_root "cd /work/keyproxy && bash scripts/test.sh" 2>&1 | tee "$DIR/test.log"
code=${PIPESTATUS[0]}
set -e
say "test command: exit code $code in $(( $(date +%s) - test_start )) s"
say "whole check: $(( $(date +%s) - start )) s (logs in $DIR$( [ -n "$KEEP" ] || echo ', removed: pass --keep to keep them'))"
# The test projects' summaries ("Passed: N", "Failed: N"), added up, as the closing line.
passed=$(awk '$1 == "Passed:" { s += $2 } END { print s + 0 }' "$DIR/test.log")
failed=$(awk '$1 == "Failed:" { s += $2 } END { print s + 0 }' "$DIR/test.log")
skipped=$(awk '$1 == "Skipped:" { s += $2 } END { print s + 0 }' "$DIR/test.log")
[ "$passed" = 0 ] && [ "$failed" = 0 ] || echo "fresh-check: $passed passed, $failed failed, $skipped skipped"
exit "$code"
