#!/usr/bin/env bash
# Show each program's state, pid, uptime and memory, then the router's health per provider.
#
# Usage: scripts/status.sh
# Exit: 0 all that should run is up and healthy, 1 something that should run is down,
#       3 supervisord is not running.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
    "") ;;
    -h | --help) sed -n '2,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" 2 ;;
esac

[[ -x "${VENV_PYTHON}" ]] || die "cliproxy is not installed; run scripts/install.sh" 3

# A running instance is described by what start.sh recorded, since its programs kept the
# environment they were started with; otherwise ask the router about the current config.
expected=(router)
if { supervisord_pid >/dev/null && load_recorded_describe; } || load_describe; then
    health_url="${CLIPROXY_HEALTH_URL}"
    for program in "${CLIPROXY_PROGRAMS[@]}"; do
        [[ "${program}" == router ]] || expected+=("${program}")
    done
else
    health_url="http://${CLIPROXY_HOST:-127.0.0.1}:${CLIPROXY_PORT:-8317}/v1/health"
    warn "could not read the config; assuming ${health_url} and no optional programs"
fi

# Health details need a key: the relay key from auth-dir, which this user can read.
CLIPROXY_HEALTH_KEY="$("${VENV_PYTHON}" -m router relay-key 2>/dev/null)" || CLIPROXY_HEALTH_KEY=""
export CLIPROXY_HEALTH_KEY
exec "${VENV_PYTHON}" "${SCRIPTS_DIR}/status_report.py" --socket "${SUPERVISOR_SOCKET}" \
    --health-url "${health_url}" --expect "${expected[@]}"
