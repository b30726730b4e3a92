#!/usr/bin/env bash
# Show each program's state, pid, uptime and memory, the router's health per provider and
# its services (webai, AI Studio), then every problem found with its fix.
#
# Usage: scripts/status.sh [--json]
# Exit: 0 everything that should run is up: the router answers (RUNNING, or STARTING and
#         already answering), enabled services are reachable, AI Studio is connected and
#         logged in
#       1 something is wrong: a program that should run is STOPPED, FATAL or BACKOFF, the
#         router does not answer, webai/AI Studio is down, disconnected or needs a login
#       2 bad usage, 3 supervisord is not running.
# Env: CLIPROXY_CLIENT_KEY  key sent for the detailed health (default: first of api-keys)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

json=()
case "${1:-}" in
    "") ;;
    --json) json=(--json) ;;
    -h | --help) sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
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
    [[ ${#json[@]} -gt 0 ]] || warn "could not read the config; assuming ${health_url} and no optional programs"
fi

exec "${VENV_PYTHON}" "${SCRIPTS_DIR}/status_report.py" --socket "${SUPERVISOR_SOCKET}" \
    --health-url "${health_url}" --expect "${expected[@]}" "${json[@]}"
