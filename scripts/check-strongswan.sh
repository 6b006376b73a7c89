#!/usr/bin/env bash
# Checks that this machine's strongSwan can be the tests' IKE peer, before any test runs:
#   1. charon starts with every plugin of infra/strongswan/plugins.conf and none fails to load;
#   2. `swanctl --list-algs` offers every algorithm the tests negotiate with it.
# A miss stops here with one line naming the Debian package to install, instead of dozens of
# interop tests timing out on a charon that cannot do AES-GCM.
#
#   scripts/check-strongswan.sh [--table FILE]
#
# --table reads another plugin table than infra/strongswan/plugins.conf (the check's own tests
# use it to name plugins or drop ones that are there). charon runs in private
# mount and network namespaces (its pid file and TUN device stay out of the way of other peers),
# so this needs root, as the tests do.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TABLE=$ROOT/infra/strongswan/plugins.conf
CHARON=/usr/lib/ipsec/charon

# What the interop tests negotiate with charon: AES-GCM, AES-CBC with the SHA-2 HMACs and PRFs, DH groups
# 14, 19, 20, 31. Each with the package that brings a plugin offering it on Debian.
REQUIRED_ALGS=(
  "AES_CBC libstrongswan"
  "AES_GCM_16 libstrongswan-standard-plugins"
  "HMAC_SHA2_256_128 libstrongswan"
  "HMAC_SHA2_384_192 libstrongswan"
  "HMAC_SHA2_512_256 libstrongswan"
  "PRF_HMAC_SHA2_256 libstrongswan"
  "PRF_HMAC_SHA2_384 libstrongswan"
  "PRF_HMAC_SHA2_512 libstrongswan"
  "MODP_2048 libstrongswan"
  "ECP_256 libstrongswan-standard-plugins"
  "ECP_384 libstrongswan-standard-plugins"
  "CURVE_25519 libstrongswan-extra-plugins"
)

fail() { echo "check-strongswan: $*" >&2; exit 1; }

# plugins.conf: plugin, package, loaded by (charon and/or swanctl).
plugins_for() { awk -v who="$1" '!/^#/ && NF >= 3 && index("," $3 ",", "," who ",") { printf "%s ", $1 }' "$TABLE"; }
package_of() { awk -v p="$1" '!/^#/ && $1 == p { print $2 }' "$TABLE"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --table) TABLE=$2; shift 2 ;;
    *) fail "unknown option $1" ;;
  esac
done

[ -f "$TABLE" ] || fail "no plugin table at $TABLE"
plugins=$(plugins_for charon)
[ -x "$CHARON" ] || fail "no charon at $CHARON: apt-get install strongswan-charon"
command -v swanctl >/dev/null 2>&1 || fail "no swanctl: apt-get install strongswan-swanctl"

D=$(mktemp -d "${TMPDIR:-/tmp}/keyproxy-strongswan-check.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$D"
}
trap cleanup EXIT
mkdir -p "$D/run"
cat > "$D/strongswan.conf" <<CONF
charon {
  port = 0
  port_nat_t = 0
  load = $plugins
  plugins {
    vici {
      socket = unix://$D/charon.vici
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
  filelog {
    charon {
      path = $D/charon.log
      default = 1
      flush_line = yes
    }
  }
}
swanctl {
  load = $(plugins_for swanctl)
}
CONF

STRONGSWAN_CONF=$D/strongswan.conf unshare -m -n sh -c "mount --bind '$D/run' /run && exec $CHARON" \
  >"$D/charon.out" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q "loaded plugins:" "$D/charon.log" 2>/dev/null && [ -S "$D/charon.vici" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[ -f "$D/charon.log" ] || fail "charon did not start: $(tr '\n' ' ' < "$D/charon.out")"

# "plugin 'gcm': failed to load - gcm_plugin_create not found and no plugin file available"
failed=$(sed -n "s/.*plugin '\([^']*\)': failed to load.*/\1/p" "$D/charon.log" | sort -u)
if [ -n "$failed" ]; then
  packages=$(for p in $failed; do package_of "$p"; done | sort -u | tr '\n' ' ')
  fail "charon plugins failed to load: $(echo $failed | sed 's/ /, /g'). Install: apt-get install ${packages% }."
fi
grep -q "loaded plugins:" "$D/charon.log" 2>/dev/null \
  || fail "charon did not start: $(tail -n 3 "$D/charon.log" "$D/charon.out" 2>/dev/null | tr '\n' ' ')"


for _ in $(seq 50); do [ -S "$D/charon.vici" ] && break; sleep 0.1; done
algs=$(STRONGSWAN_CONF=$D/strongswan.conf swanctl --list-algs --uri "unix://$D/charon.vici" 2>&1) \
  || fail "swanctl --list-algs failed: $algs"
missing="" missing_pkgs=""
for entry in "${REQUIRED_ALGS[@]}"; do
  read -r alg pkg <<<"$entry"
  if ! grep -q "^  $alg\[" <<<"$algs"; then missing="$missing $alg"; missing_pkgs="$missing_pkgs $pkg"; fi
done
if [ -n "$missing" ]; then
  missing_pkgs=$(echo "$missing_pkgs" | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
  fail "charon offers no$missing with the plugins of $TABLE: install ${missing_pkgs% } and load its plugins."
fi

version=$(sed -n 's/.*Starting IKE charon daemon (strongSwan \([^,]*\),.*/\1/p' "$D/charon.log")
echo "check-strongswan: charon $version loads $(echo $plugins | wc -w) plugins and offers all ${#REQUIRED_ALGS[@]} algorithms the tests use"
