# Sourced by the load/ scripts: the admin API is HTTPS with a bearer token (issue 16). The token and CA as an operator
# has them: KEYPROXY_TOKEN / KEYPROXY_CA, else the files a Development-mode silo writes; curl sends and trusts them,
# and keyproxy-load finds them the same way.
# shellcheck shell=bash
KEYPROXY_CA="${KEYPROXY_CA:-$HOME/.keyproxy/development/cluster-ca.pem}"
admin_token() { if [ -n "${KEYPROXY_TOKEN:-}" ]; then printf '%s' "$KEYPROXY_TOKEN"; else cat "$HOME/.keyproxy/development/admin.token" 2>/dev/null; fi; }
curl() { command curl --cacert "$KEYPROXY_CA" -H "Authorization: Bearer $(admin_token)" "$@"; }
