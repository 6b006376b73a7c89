#!/usr/bin/env bash
# Builds a strongSwan 6 charon (the peer for hybrid post-quantum IKEv2, issue 19) from the upstream source in
# ../shared/peers/strongswan-6.0.6.tar.xz, into a prefix of its own: Debian 12's strongSwan 5.9.8 has no ML-KEM,
# no IKE_INTERMEDIATE (RFC 9242) and no multiple key exchanges (RFC 9370).
#
#   infra/strongswan/build-charon6.sh [--source TARBALL] [--prefix DIR] [--force]
#
# Prints the prefix on its last line. Cached: when DIR/.keyproxy-build matches the tarball's sha256 and this
# script's configure options, nothing is built again. Needs the build packages below (installed with apt-get when
# missing, as root). No kernel changes: the tests use kernel-libipsec (userspace ESP) and their own
# strongswan.conf, swanctl.conf and vici socket per instance, as with 5.9.8; the pid file stays in /run, which the
# interop fixture gives each charon privately (a bind mount in its own mount namespace), as for Debian's.
#
# Plugins: `ml` is ML-KEM (FIPS 203) implemented by strongSwan itself (Debian's OpenSSL 3.0 has none); openssl
# for the classical groups and ciphers; curve25519, gcm, chapoly, and the rest of what 5.9.8's peers load
# (infra/strongswan/plugins.conf), so one plugin list serves both. test-vectors and drbg let its crypto tester check and
# time its own ML-KEM (bench/KeyProxy.Benchmarks `kem` runs it beside ours); load-tester drives charon-to-charon
# hybrid SAs for `keyproxy-load compare --dh x25519-mlkem768`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SOURCE=${KEYPROXY_STRONGSWAN6_SOURCE:-$ROOT/../shared/peers/strongswan-6.0.6.tar.xz}
PREFIX=${KEYPROXY_STRONGSWAN6_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/keyproxy/strongswan-6.0.6}
FORCE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --source) SOURCE=$2; shift 2 ;;
    --prefix) PREFIX=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-charon6: unknown option $1" >&2; exit 2 ;;
  esac
done
say() { echo "build-charon6: $*" >&2; }
[ -f "$SOURCE" ] || { say "no strongSwan 6 source at $SOURCE (see ../shared/peers/README.md)"; exit 1; }

CONFIGURE=(
  --prefix="$PREFIX" --sysconfdir="$PREFIX/etc" --with-piddir=/run
  --disable-defaults
  --enable-charon --enable-swanctl --enable-vici --enable-ikev2
  --enable-ml --enable-openssl --enable-curve25519 --enable-gcm --enable-chapoly
  --enable-random --enable-nonce --enable-pem --enable-pkcs1 --enable-pkcs8 --enable-x509 --enable-pubkey
  --enable-constraints --enable-kdf --enable-sha1 --enable-sha2 --enable-hmac --enable-aes --enable-ctr
  --enable-ccm --enable-cmac --enable-xcbc --enable-gmp
  --enable-kernel-libipsec --enable-kernel-netlink --enable-socket-default
  --enable-test-vectors --enable-drbg --enable-load-tester
  --disable-updown --disable-ikev1
)
STAMP="$(sha256sum "$SOURCE" | cut -d' ' -f1) ${CONFIGURE[*]}"
if [ -z "$FORCE" ] && [ -x "$PREFIX/libexec/ipsec/charon" ] && [ "$(cat "$PREFIX/.keyproxy-build" 2>/dev/null)" = "$STAMP" ]; then
  say "cached: $PREFIX"
  echo "$PREFIX"
  exit 0
fi

# What autogen.sh, configure and the build need (../shared/peers/README.md).
build_debs=(autoconf automake libtool pkg-config gettext gperf bison flex make gcc libgmp-dev libssl-dev xz-utils)
need=()
for pkg in "${build_debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keyproxy-strongswan6.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
say "building strongSwan 6 from $SOURCE in $WORK (several minutes)"
tar -xJf "$SOURCE" -C "$WORK"
SRC=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d | head -n1)
LOG="$WORK/build.log"
(
  cd "$SRC"
  ./autogen.sh
  ./configure "${CONFIGURE[@]}"
  make -j"$(nproc)"
  rm -rf "$PREFIX"
  make install
) >"$LOG" 2>&1 || { tail -n 40 "$LOG" >&2; say "build failed (log above)"; exit 1; }
echo "$STAMP" > "$PREFIX/.keyproxy-build"
say "built: $PREFIX/libexec/ipsec/charon"
echo "$PREFIX"
