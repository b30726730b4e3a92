#!/usr/bin/env bash
# Start cliproxy: install if needed, start supervisord (once), start the optional programs
# the config enables, wait until the router answers its health URL, print its URL.
# Running it again while everything runs changes nothing. The config, .env and environment
# are checked first: when they are wrong nothing is started or changed (exit 2).
# With a systemd unit installed (install.sh --service) supervisord is started through it.
#
# Usage: scripts/start.sh
# Env: CLIPROXY_CONFIG, CLIPROXY_HOST, CLIPROXY_PORT, CLIPROXY_LOG_LEVEL (read by the router;
#      they and any ${VAR} of config.yaml may also be set in the .env beside config.yaml)
#      CLIPROXY_START_TIMEOUT  seconds to wait for the router's health (default 60)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
    "") ;;
    -h | --help) sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" 2 ;;
esac

readonly START_TIMEOUT_S="${CLIPROXY_START_TIMEOUT:-60}"
readonly SUPERVISORD_READY_TIMEOUT_S=15

"${SCRIPTS_DIR}/install.sh"

mkdir -p "${RUN_DIR}" "${LOG_DIR}"
# Serialise concurrent start.sh runs so they cannot launch two supervisords.
exec 9>"${RUN_DIR}/start.lock"
flock -w 120 9 || die "another scripts/start.sh has held ${RUN_DIR}/start.lock for 120s"

validate_config scripts/start.sh
load_describe || die "could not read the config with: .venv/bin/python -m router describe"

start_supervisord() {
    info "starting supervisord (${SUPERVISOR_CONF})"
    # 9>&-: the daemon must not inherit the start lock, or later start.sh runs would block.
    if ! "${VENV_DIR}/bin/supervisord" -c "${SUPERVISOR_CONF}" 9>&-; then
        show_log_tail "${LOG_DIR}/supervisord.log"
        die "supervisord failed to start"
    fi
    wait_for_supervisord
}

wait_for_supervisord() {
    local waited=0
    until supervisord_pid >/dev/null; do
        if ((waited >= SUPERVISORD_READY_TIMEOUT_S * 5)); then
            show_log_tail "${LOG_DIR}/supervisord.log"
            die "supervisord did not answer on ${SUPERVISOR_SOCKET} within ${SUPERVISORD_READY_TIMEOUT_S}s"
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
}

# Start a program unless it is already up or supervisord is already bringing it up.
ensure_program_started() {
    local program="$1" state
    state="$(program_state "${program}")"
    case "${state}" in
        RUNNING | STARTING | BACKOFF) return ;;
    esac
    info "starting ${program} (was ${state})"
    if ! ctl start "${program}" >/dev/null; then
        show_log_tail "${LOG_DIR}/${program}.log"
        die "${program} failed to start; see ${LOG_DIR}/${program}.log"
    fi
}

# Programs inherit supervisord's environment, so a running instance keeps the URL it was
# started with; refuse to pretend a new CLIPROXY_PORT/HOST or port edit took effect.
refuse_url_change() {
    local running_url
    # In a subshell, so the recorded description does not replace the current one.
    running_url="$(load_recorded_describe && printf '%s\n' "${CLIPROXY_URL}")" || return 0
    [[ "${running_url}" == "${CLIPROXY_URL}" ]] ||
        die "cliproxy is already running at ${running_url} but the config and environment now say ${CLIPROXY_URL}; run scripts/restart.sh to apply that"
}

# Variables set now that the running programs started without: only a restart gives them
# to the programs (supervisord passes its own environment on).
refuse_newly_set_variables() {
    local newly_set
    [[ -f "${RUNNING_DESCRIBE_FILE}" ]] || return 0
    newly_set="$("${VENV_PYTHON}" -c '
import json, sys
running = set(json.load(open(sys.argv[1])).get("unset_variables", []))
now = set(json.loads(sys.argv[2]).get("unset_variables", []))
print(" ".join(sorted(running - now)))
' "${RUNNING_DESCRIBE_FILE}" "${CLIPROXY_DESCRIBE_JSON}")"
    [[ -z "${newly_set}" ]] ||
        die "${newly_set} set now but not when cliproxy started; run scripts/restart.sh to give the programs the new environment"
}

if [[ -n "${CLIPROXY_SERVICE_MANAGED:-}" ]]; then
    # ExecStartPost of the systemd unit: systemd has just started supervisord with this
    # very environment; wait for its socket, never start a second one.
    wait_for_supervisord
elif pid="$(supervisord_pid)"; then
    info "supervisord already running (pid ${pid})"
    refuse_url_change
    refuse_newly_set_variables
elif systemctl_cmd="$(service_systemctl)"; then
    # The unit's ExecStartPost runs this script again inside the unit, which starts the
    # optional programs and waits for health; its failure fails systemctl start.
    info "starting the ${SERVICE_UNIT} unit (${systemctl_cmd} start cliproxy)"
    flock -u 9
    ${systemctl_cmd} start cliproxy || die "systemd could not start cliproxy; see: ${systemctl_cmd} status cliproxy"
    exit 0
else
    start_supervisord
fi

programs=(router)
for program in "${CLIPROXY_PROGRAMS[@]}"; do
    [[ "${program}" == router ]] || programs+=("${program}")
done
for program in "${programs[@]}"; do
    ensure_program_started "${program}"
done

printf '%s\n' "${CLIPROXY_DESCRIBE_JSON}" >"${RUNNING_DESCRIBE_FILE}.tmp"
mv "${RUNNING_DESCRIBE_FILE}.tmp" "${RUNNING_DESCRIBE_FILE}"

info "waiting for ${CLIPROXY_HEALTH_URL} (up to ${START_TIMEOUT_S}s)"
if ! "${VENV_PYTHON}" "${SCRIPTS_DIR}/wait_ready.py" --health-url "${CLIPROXY_HEALTH_URL}" \
    --socket "${SUPERVISOR_SOCKET}" --program router --timeout "${START_TIMEOUT_S}"; then
    show_log_tail "${LOG_DIR}/router.log"
    die "the router did not become healthy; see ${LOG_DIR}/router.log and scripts/status.sh"
fi
info "cliproxy is running at ${CLIPROXY_URL} (programs: ${programs[*]})"
