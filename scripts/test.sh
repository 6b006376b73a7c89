#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need when it is missing:
# strongSwan's charon and swanctl (interop peer), tshark (capture check), iproute2 (network
# namespaces), Node.js and Azurite (Azure Table storage tests), Chromium (dashboard test), AFL++ (fuzzing smoke).
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
[ -x /usr/lib/ipsec/charon ] || need_pkgs+=(strongswan-charon libcharon-extra-plugins libstrongswan-extra-plugins)
command -v swanctl >/dev/null 2>&1 || need_pkgs+=(strongswan-swanctl)
command -v tshark >/dev/null 2>&1 || need_pkgs+=(tshark)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)          # network namespaces for the ESP interop tests
command -v npm >/dev/null 2>&1 || need_pkgs+=(nodejs npm)       # Azurite
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)  # headless browser for the dashboard test
command -v afl-fuzz >/dev/null 2>&1 || need_pkgs+=(afl++)       # fuzzing smoke (scripts/fuzz.sh)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "test.sh: installing ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
infra/azurite/azurite.sh install  # Azurite for the Azure Table storage tests, npm-installed into the user cache when missing

# charon must not run from the system service: each test starts its own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet strongswan 2>/dev/null; then
  systemctl stop strongswan || true
fi

dotnet build KeyProxyOrleans.sln -c Release -warnaserror
# Fuzzing smoke: each SharpFuzz harness under AFL++ for a bounded time; a crash fails the run
# (the inputs stay in the output directory). Longer runs: scripts/fuzz.sh <target|all> <seconds>.
scripts/fuzz.sh all "${KEYPROXY_FUZZ_SMOKE_SECONDS:-25}" --out "${TMPDIR:-/tmp}/keyproxy-fuzz-smoke"
dotnet test KeyProxyOrleans.sln -c Release --no-build --logger "console;verbosity=normal" "$@"
