# Sourced by the load/ measurement scripts: builds Release, starts one embedded silo on the ports they set
# (HTTP_PORT, ACCESS_PORT, SILO_PORT, GATEWAY_PORT, PEER_PORT, PEER_NATT_PORT, POOL) with the 128 MiB gen0
# budget of docs/PERFORMANCE.md, and stops it (and LOAD_PID, when set) on exit. Sets SILO_PID and API
# (GET /api/edge). Extra environment for the silo: SILO_ENV=(NAME=value ...); SCHEME=http with the admin listener's HTTPS off.
# Extra settings: SILO_ARGS=(--KeyProxy:Name=value ...); a launcher before it: SILO_LAUNCH=(taskset -c 0); the address
# polled until the silo is up: SILO_READY (default API; a silo without an edge answers 404 there, so give its /api/).
# shellcheck shell=bash

. "$(dirname "${BASH_SOURCE[0]}")/admin-curl.sh"

build_release() {
  dotnet build src/KeyProxy.Silo -c Release -v q -nologo >/dev/null
  dotnet build load/KeyProxy.Load -c Release -v q -nologo >/dev/null
}

SILO_PID="" LOAD_PID=""
stop_processes() {
  [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null || true
  [ -n "$SILO_PID" ] && kill "$SILO_PID" 2>/dev/null && wait "$SILO_PID" 2>/dev/null || true
}
trap stop_processes EXIT

# start_silo NAME LOG: NAME is the calling script's, for its error message.
start_silo() {
  ${SILO_LAUNCH[@]+"${SILO_LAUNCH[@]}"} env DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x8000000}" "${SILO_ENV[@]}" dotnet src/KeyProxy.Silo/bin/Release/net10.0/KeyProxy.Silo.dll \
    --KeyProxy:HttpUrl=${SCHEME:-https}://127.0.0.1:$HTTP_PORT --KeyProxy:Edge:AccessEndpoint=127.0.0.1:$ACCESS_PORT \
    --KeyProxy:SiloPort=$SILO_PORT --KeyProxy:GatewayPort=$GATEWAY_PORT --KeyProxy:Edge:AddressPool=$POOL \
    --KeyProxy:Network:PeerIkePort=$PEER_PORT --KeyProxy:Network:PeerNatTPort=$PEER_NATT_PORT \
    --KeyProxy:DemoSubscribers=false --Logging:LogLevel:Default=Warning ${SILO_ARGS[@]+"${SILO_ARGS[@]}"} >"$2" 2>&1 &
  SILO_PID=$!
  API="${SCHEME:-https}://127.0.0.1:$HTTP_PORT/api/edge"
  for _ in $(seq 1 120); do curl -sf "${SILO_READY:-$API}" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "$1: the silo did not come up; see $2" >&2
  exit 1
}

# The profilers' proxied phase (profile-cpu.sh, profile-alloc.sh): keyproxy-load proxied-sa against the silo with
# HANDSETS, RATE, DURATION and DH (empty: the tool's default), first a warm-up run (JIT tiers, pools, grain types) so
# the profiled run shows the steady state, then the profiled run in the background (LOAD_PID), returning once its
# fleet is attached or its first SAs are transferred. Reports and logs under OUT; SCRIPT names the caller in errors.
# Sets WINDOW, the seconds of load left to profile.
start_profiled_phase() {
  local script=$1 s
  local dh_args=(); [ -n "$DH" ] && dh_args=(--dh "$DH")
  proxied() { # prefix report-dir
    dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll proxied-sa --edge 127.0.0.1:$ACCESS_PORT \
      --api https://127.0.0.1:$HTTP_PORT --handsets "$HANDSETS" --rate "$RATE" --duration "${DURATION}s" \
      --peer-port $PEER_PORT --peer-natt-port $PEER_NATT_PORT --peers 16 --report-dir "$2" --no-live \
      --nai-prefix "$1" "${dh_args[@]}"
  }
  proxied "warm$$" "$OUT/warm-up" >"$OUT/warm-up.log" 2>&1 || { echo "$script: the warm-up run failed; see $OUT/warm-up.log" >&2; exit 1; }
  proxied "prof$$" "$OUT/report" >"$OUT/load.log" 2>&1 &
  LOAD_PID=$!
  for _ in $(seq 1 600); do
    s=$(curl -sf "$API") || true
    if [ -n "$s" ] && [ "$(echo "$s" | python3 -c "import json,sys; d=json.load(sys.stdin); print(1 if d['attached'] >= $HANDSETS or d['packets']['keyTransferToHandset'] > $HANDSETS else 0)")" = 1 ]; then break; fi
    kill -0 "$LOAD_PID" 2>/dev/null || { echo "$script: the load tool ended early; see $OUT/load.log" >&2; exit 1; }
    sleep 0.2
  done
  WINDOW=$(( DURATION > 4 ? DURATION - 2 : DURATION ))
}

# start_engine_peers SCRIPT: `keyproxy-load peers` (responders of our own engine) with DH, PEERS, PEER_NETWORK,
# PEER_PORT and PEER_NATT_PORT, in the background until file descriptor 3 closes (the caller's cleanup closes it and
# waits for PEERS_PID); returns once they are ready. Log in $OUT/peers.log; SCRIPT names the caller in errors.
start_engine_peers() {
  rm -f "$OUT/peers.in" && mkfifo "$OUT/peers.in"
  dotnet load/KeyProxy.Load/bin/Release/net10.0/keyproxy-load.dll peers --dh "$DH" --peers "$PEERS" --peer-network "$PEER_NETWORK" \
    --peer-port "$PEER_PORT" --peer-natt-port "$PEER_NATT_PORT" <"$OUT/peers.in" >"$OUT/peers.log" 2>&1 &
  PEERS_PID=$!
  exec 3>"$OUT/peers.in"
  for _ in $(seq 1 120); do grep -q "peers ready" "$OUT/peers.log" 2>/dev/null && break; sleep 0.5; done
  grep -q "peers ready" "$OUT/peers.log" || { echo "$1: the peers did not start; see $OUT/peers.log" >&2; exit 1; }
}
