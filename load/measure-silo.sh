# Sourced by the load/ measurement scripts: builds Release, starts one embedded silo on the ports they set
# (HTTP_PORT, ACCESS_PORT, SILO_PORT, GATEWAY_PORT, PEER_PORT, PEER_NATT_PORT, POOL) with the 128 MiB gen0
# budget of docs/PERFORMANCE.md, and stops it (and LOAD_PID, when set) on exit. Sets SILO_PID and API
# (GET /api/edge). Extra environment for the silo: SILO_ENV=(NAME=value ...); SCHEME=http with the admin listener's HTTPS off.
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
  env DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x8000000}" "${SILO_ENV[@]}" dotnet src/KeyProxy.Silo/bin/Release/net10.0/KeyProxy.Silo.dll \
    --KeyProxy:HttpUrl=${SCHEME:-https}://127.0.0.1:$HTTP_PORT --KeyProxy:Edge:AccessEndpoint=127.0.0.1:$ACCESS_PORT \
    --KeyProxy:SiloPort=$SILO_PORT --KeyProxy:GatewayPort=$GATEWAY_PORT --KeyProxy:Edge:AddressPool=$POOL \
    --KeyProxy:Network:PeerIkePort=$PEER_PORT --KeyProxy:Network:PeerNatTPort=$PEER_NATT_PORT \
    --KeyProxy:DemoSubscribers=false --Logging:LogLevel:Default=Warning >"$2" 2>&1 &
  SILO_PID=$!
  API="${SCHEME:-https}://127.0.0.1:$HTTP_PORT/api/edge"
  for _ in $(seq 1 120); do curl -sf "$API" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "$1: the silo did not come up; see $2" >&2
  exit 1
}
