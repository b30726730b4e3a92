#!/usr/bin/env bash
# Stop every cliproxy program and supervisord itself. Succeeds when nothing was running.
#
# Usage: scripts/stop.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
    "") ;;
    -h | --help) sed -n '2,4s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" 2 ;;
esac

# Covers supervisord's longest stopwaitsecs plus the time to kill and reap.
readonly EXIT_TIMEOUT_S=40

if [[ ! -x "${VENV_PYTHON}" ]]; then
    info "cliproxy is not installed here, so nothing is running"
    exit 0
fi

if systemctl_cmd="$(service_systemctl)"; then
    # Stopped through the unit, so systemd does not count it as a failure to restart.
    info "stopping the ${SERVICE_UNIT} unit (${systemctl_cmd} stop cliproxy)"
    ${systemctl_cmd} stop cliproxy
    rm -f "${RUNNING_DESCRIBE_FILE}"
    info "cliproxy stopped"
    exit 0
fi

if pid="$(supervisord_pid)"; then
    info "stopping programs"
    ctl stop all || warn "supervisorctl stop all reported a problem; shutting down anyway"
    info "stopping supervisord (pid ${pid})"
    ctl shutdown >/dev/null
elif [[ -f "${SUPERVISORD_PID_FILE}" ]] &&
    pid="$(<"${SUPERVISORD_PID_FILE}")" && is_our_supervisord "${pid}"; then
    # Alive but not answering on its socket: ask it to stop with a signal instead.
    warn "supervisord (pid ${pid}) does not answer on ${SUPERVISOR_SOCKET}; sending TERM"
    kill -TERM "${pid}"
else
    rm -f "${SUPERVISORD_PID_FILE}" "${RUNNING_DESCRIBE_FILE}"
    info "cliproxy is not running"
    exit 0
fi

wait_for_exit "${pid}" "${EXIT_TIMEOUT_S}" ||
    die "supervisord (pid ${pid}) still running after ${EXIT_TIMEOUT_S}s; see ${LOG_DIR}/supervisord.log"
rm -f "${RUNNING_DESCRIBE_FILE}"
info "cliproxy stopped"
