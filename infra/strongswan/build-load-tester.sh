#!/bin/sh
# Builds strongSwan's load-tester plugin (not in Debian's binary packages) against the installed
# strongSwan and installs libstrongswan-load-tester.so into charon's plugin directory.
#
#   infra/strongswan/build-load-tester.sh [--force] [--work DIR]
#
# Idempotent: does nothing when the plugin is already installed (unless --force). Needs root
# (apt-get, the plugin directory). Steps:
#   1. a deb-src entry for bookworm / bookworm-updates / bookworm-security in a separate file
#      (/etc/apt/sources.list.d/keyproxy-deb-src.sources), apt-get update;
#   2. `apt-get source strongswan=<installed version>`; when the mirror no longer has that exact
#      Debian revision (security uploads are replaced), the newest source with the same upstream
#      version is taken instead: the plugin is built from the same upstream tree, and Debian's
#      revisions only add CVE patches to other parts;
#   3. ./configure with Debian's options that change header layouts (IKEv1/IKEv2, mediation), the
#      load-tester enabled and nothing that needs extra -dev packages; no apt-get build-dep;
#   4. `make` in src/libcharon/plugins/load_tester only (about a second), install the .so.
# charon loads it only when `load-tester` is in its explicit load list and
# charon.plugins.load-tester.enable = yes, so installing it changes nothing for other configs.
set -eu

PLUGIN_DIR=/usr/lib/ipsec/plugins
PLUGIN="$PLUGIN_DIR/libstrongswan-load-tester.so"
WORK=${TMPDIR:-/tmp}/keyproxy-strongswan-src
FORCE=no
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=yes ;;
    --work) WORK=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -f "$PLUGIN" ] && [ "$FORCE" = no ]; then
  echo "load-tester plugin present: $PLUGIN"
  exit 0
fi

VERSION=$(dpkg-query -W -f '${Version}' strongswan-charon 2>/dev/null || true)
[ -n "$VERSION" ] || { echo "strongswan-charon is not installed" >&2; exit 1; }
UPSTREAM=${VERSION%%-*}
echo "installed strongSwan $VERSION (upstream $UPSTREAM)"

SOURCES=/etc/apt/sources.list.d/keyproxy-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  cat > "$SOURCES" <<'SRC'
# Added by KeyProxy infra/strongswan/build-load-tester.sh: source packages (strongSwan's load-tester plugin).
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq
fi

mkdir -p "$WORK"
cd "$WORK"
SRCDIR="$WORK/strongswan-$UPSTREAM"
if [ ! -x "$SRCDIR/configure" ]; then
  rm -rf "$SRCDIR"
  if ! apt-get source --download-only "strongswan=$VERSION" >download.log 2>&1; then
    # The exact revision is gone from the mirror (security uploads are replaced): the newest
    # source of the same upstream version that can still be downloaded.
    FOUND=
    for candidate in $(apt-cache showsrc strongswan | sed -n 's/^Version: //p' | grep "^$UPSTREAM-" | grep -vx "$VERSION" | sort -rV); do
      if apt-get source --download-only "strongswan=$candidate" >download.log 2>&1; then FOUND=$candidate; break; fi
    done
    [ -n "$FOUND" ] || { cat download.log >&2; echo "no downloadable strongswan $UPSTREAM source package" >&2; exit 1; }
    echo "strongswan=$VERSION source is not downloadable; building from $FOUND (same upstream $UPSTREAM)"
    VERSION=$FOUND
  fi
  dpkg-source -x "strongswan_${VERSION#*:}.dsc" "$SRCDIR" >/dev/null
fi

cd "$SRCDIR"
if [ ! -f src/libcharon/plugins/load_tester/Makefile ]; then
  echo "configuring (log: $WORK/configure.log)"
  ./configure --prefix=/usr --sysconfdir=/etc --libdir=/usr/lib --libexecdir=/usr/lib \
    --enable-mediation --enable-load-tester \
    --disable-charon --disable-stroke --disable-scepclient --disable-pki --disable-swanctl \
    --disable-kernel-netlink --disable-updown --disable-gmp >"$WORK/configure.log" 2>&1 \
    || { tail -20 "$WORK/configure.log" >&2; exit 1; }
fi
make -C src/libcharon/plugins/load_tester libstrongswan-load-tester.la >"$WORK/make.log" 2>&1 \
  || { tail -20 "$WORK/make.log" >&2; exit 1; }
install -m 0644 src/libcharon/plugins/load_tester/.libs/libstrongswan-load-tester.so "$PLUGIN"
echo "installed $PLUGIN"
