#!/usr/bin/env bash
# Start, drive and stop a strongSwan charon peer on loopback with a generated config.
# Each peer lives in its own directory (config, private /run, vici socket, log).
#
#   charon-peer.sh start DIR [options]   write DIR/strongswan.conf + DIR/swanctl/swanctl.conf,
#                                         start charon, load the config
#   charon-peer.sh swanctl DIR ARGS...    swanctl against this charon (e.g. --list-sas, --initiate --child child)
#   charon-peer.sh stop DIR               SIGTERM the peer's process group (SIGKILL after 5 s)
#   charon-peer.sh log DIR                the peer's charon.log
#
# Options for start (defaults in brackets):
#   --name NAME            connection name [peer]        --child NAME        CHILD_SA name [child]
#   --addr ADDR            local_addrs [127.0.0.1]       --port P            charon.port [20500]
#   --natt-port P          charon.port_nat_t [port+1]    --remote ADDR       remote_addrs [%any]
#   --remote-port P        remote_port [unset: 500]      --local-id ID       [charon-PORT.keyproxy.test]
#   --remote-id ID         [%any]                        --psk SECRET        [keyproxy-interop-psk]
#   --proposals P          [aes128gcm16-prfsha256-x25519]
#   --esp-proposals P      [aes128gcm16]                 --local-ts TS       [dynamic]
#   --remote-ts TS         [dynamic]                     --start-action A    none|trap|start [none]
#   --rekey-time T         IKE rekey_time (e.g. 60s)     --reauth-time T     --dpd-delay T
#   --encap                force UDP encapsulation       --log-ike N         ike log level [2]
#   --log-keys             ike=4: log IKE keys (tshark ikev2_decryption_table)
#
# Needs root: unshare -m + mount --bind give the peer a private /run (charon's pid file path is
# fixed), kernel-libipsec opens /dev/net/tun. See README.md next to this script.
set -euo pipefail

CHARON=/usr/lib/ipsec/charon
# The plugin table shared with the tests and scripts/check-strongswan.sh.
TABLE=$(dirname "$0")/plugins.conf
plugins_for() { awk -v who="$1" '!/^#/ && NF >= 3 && index("," $3 "," , "," who ",") { printf "%s ", $1 }' "$TABLE"; }
PLUGINS=$(plugins_for charon)
SWANCTL_PLUGINS=$(plugins_for swanctl)

die() { echo "charon-peer.sh: $*" >&2; exit 1; }
usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

cmd=${1:-}; [ -n "$cmd" ] || usage 1
[ "$cmd" = -h ] || [ "$cmd" = --help ] && usage 0
D=${2:-}; [ -n "$D" ] || usage 1
shift 2
mkdir -p "$D"
D=$(cd "$D" && pwd)

swanctl_cmd() { STRONGSWAN_CONF="$D/strongswan.conf" swanctl "$@" --uri "unix://$D/charon.vici"; }

case "$cmd" in
start)
  name=peer child=child addr=127.0.0.1 port=20500 natt="" remote=%any rport="" lid="" rid=%any
  psk=keyproxy-interop-psk props=aes128gcm16-prfsha256-x25519 esp=aes128gcm16 lts=dynamic rts=dynamic
  start_action=none rekey="" reauth="" dpd="" encap="" logike=2
  while [ $# -gt 0 ]; do
    case "$1" in
      --name) name=$2; shift ;;            --child) child=$2; shift ;;
      --addr) addr=$2; shift ;;            --port) port=$2; shift ;;
      --natt-port) natt=$2; shift ;;       --remote) remote=$2; shift ;;
      --remote-port) rport=$2; shift ;;    --local-id) lid=$2; shift ;;
      --remote-id) rid=$2; shift ;;        --psk) psk=$2; shift ;;
      --proposals) props=$2; shift ;;      --esp-proposals) esp=$2; shift ;;
      --local-ts) lts=$2; shift ;;         --remote-ts) rts=$2; shift ;;
      --start-action) start_action=$2; shift ;;
      --rekey-time) rekey=$2; shift ;;     --reauth-time) reauth=$2; shift ;;
      --dpd-delay) dpd=$2; shift ;;        --encap) encap=yes ;;
      --log-ike) logike=$2; shift ;;       --log-keys) logike=4 ;;
      *) die "unknown option $1" ;;
    esac
    shift
  done
  [ -n "$natt" ] || natt=$((port + 1))
  [ -n "$lid" ] || lid="charon-$port.keyproxy.test"
  [ -x "$CHARON" ] || die "$CHARON missing: bash scripts/test.sh installs it, or see the README for the apt-get line"
  if [ -f "$D/pgid" ] && kill -0 -- "-$(cat "$D/pgid")" 2>/dev/null; then die "a peer is already running in $D"; fi
  mkdir -p "$D/run" "$D/swanctl"/{x509,x509ca,x509aa,x509ocsp,x509crl,x509ac,pubkey,private,rsa,ecdsa,bliss,pkcs8,pkcs12,conf.d}
  cat > "$D/strongswan.conf" <<CONF
charon {
  port = $port
  port_nat_t = $natt
  threads = 16
  load = $PLUGINS
  install_routes = no
  install_virtual_ip = no
  interfaces_use = lo
  retransmit_timeout = 2.0
  retransmit_tries = 3
  plugins {
    vici {
      socket = unix://$D/charon.vici
    }
    kernel-libipsec {
      allow_peer_ts = yes
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
      time_format = %H:%M:%S
      append = no
      flush_line = yes
      ike_name = yes
      default = 1
      ike = $logike
      cfg = 2
      net = 2
    }
  }
}
swanctl {
  load = $SWANCTL_PLUGINS
}
CONF
  {
    echo "connections {"
    echo "  $name {"
    echo "    version = 2"
    echo "    local_addrs = $addr"
    echo "    remote_addrs = $remote"
    [ -z "$rport" ] || echo "    remote_port = $rport"
    echo "    proposals = $props"
    echo "    mobike = no"
    [ -z "$encap" ] || echo "    encap = yes"
    [ -z "$rekey" ] || echo "    rekey_time = $rekey"
    [ -z "$reauth" ] || echo "    reauth_time = $reauth"
    [ -z "$dpd" ] || echo "    dpd_delay = $dpd"
    echo "    local {"
    echo "      auth = psk"
    echo "      id = $lid"
    echo "    }"
    echo "    remote {"
    echo "      auth = psk"
    echo "      id = $rid"
    echo "    }"
    echo "    children {"
    echo "      $child {"
    echo "        local_ts = $lts"
    echo "        remote_ts = $rts"
    echo "        esp_proposals = $esp"
    echo "        mode = tunnel"
    echo "        start_action = $start_action"
    echo "      }"
    echo "    }"
    echo "  }"
    echo "}"
    echo "secrets {"
    echo "  ike-psk {"
    echo "    secret = 0x$(printf '%s' "$psk" | od -An -tx1 -v | tr -d ' \n')"
    echo "  }"
    echo "}"
  } > "$D/swanctl/swanctl.conf"
  rm -f "$D/charon.vici" "$D/run/charon.pid"
  # Own session/process group; private mount namespace whose /run is $D/run.
  STRONGSWAN_CONF="$D/strongswan.conf" setsid unshare --mount --propagation private \
    sh -c "mount --bind '$D/run' /run && exec $CHARON" >"$D/charon.out" 2>&1 </dev/null &
  echo $! > "$D/pgid"
  for _ in $(seq 1 200); do
    [ -S "$D/charon.vici" ] && swanctl_cmd --stats >/dev/null 2>&1 && break
    kill -0 "$(cat "$D/pgid")" 2>/dev/null || die "charon exited; see $D/charon.out and $D/charon.log"
    sleep 0.05
  done
  swanctl_cmd --load-all --noprompt --file "$D/swanctl/swanctl.conf"
  echo "charon peer '$name' (id $lid) on $addr IKE port $port, NAT-T port $natt; pid $(cat "$D/run/charon.pid" 2>/dev/null || echo ?), dir $D"
  ;;
swanctl)
  swanctl_cmd "$@"
  ;;
log)
  cat "$D/charon.log"
  ;;
stop)
  [ -f "$D/pgid" ] || die "no peer in $D"
  pg=$(cat "$D/pgid")
  kill -TERM -- "-$pg" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 -- "-$pg" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pg" 2>/dev/null || true
  rm -f "$D/pgid"
  echo "stopped charon peer in $D"
  ;;
*)
  usage 1
  ;;
esac
