# shellcheck shell=bash disable=SC2034  # variables here are used by the sourcing scripts
# Shared helpers for the cliproxy scripts. Sourced, never executed.
#
# Sourcing it resolves the project root from the script's own path, makes a relative
# CLIPROXY_CONFIG absolute (relative to the caller's directory) and then cd's to the root,
# so every script works from any working directory.

if [[ -n "${CLIPROXY_CONFIG:-}" && "${CLIPROXY_CONFIG}" != /* ]]; then
    CLIPROXY_CONFIG="${PWD}/${CLIPROXY_CONFIG}"
    export CLIPROXY_CONFIG
fi

CLIPROXY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${CLIPROXY_ROOT}" || exit 1

VENV_DIR="${CLIPROXY_ROOT}/.venv"
VENV_PYTHON="${VENV_DIR}/bin/python"
SUPERVISOR_CONF="${CLIPROXY_ROOT}/supervisord.conf"
RUN_DIR="${CLIPROXY_ROOT}/run"
LOG_DIR="${CLIPROXY_ROOT}/logs"
SUPERVISORD_PID_FILE="${RUN_DIR}/supervisord.pid"
SUPERVISOR_SOCKET="${RUN_DIR}/supervisor.sock"
SCRIPTS_DIR="${CLIPROXY_ROOT}/scripts"
# What `router describe` said when start.sh last started programs: the running instance's
# URLs and programs, whatever the caller's environment says now.
RUNNING_DESCRIBE_FILE="${RUN_DIR}/describe.json"

# Programs defined in supervisord.conf; "router" always runs, the others when enabled.
ALL_PROGRAMS=(router webai aistudio)

info() {
    printf '%s\n' "$*"
}

warn() {
    printf 'warning: %s\n' "$*" >&2
}

die() {
    printf 'error: %s\n' "$1" >&2
    exit "${2:-1}"
}

# Run the project's own supervisorctl (never the system one) against our socket.
ctl() {
    "${VENV_DIR}/bin/supervisorctl" -c "${SUPERVISOR_CONF}" "$@"
}

# Print the pid of this project's supervisord and succeed only if it runs and answers.
supervisord_pid() {
    local pid
    [[ -x "${VENV_DIR}/bin/supervisorctl" && -S "${SUPERVISOR_SOCKET}" ]] || return 1
    pid="$(ctl pid 2>/dev/null)" || return 1
    [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
    printf '%s\n' "${pid}"
}

# Print the supervisor state name of one program (RUNNING, STOPPED, FATAL, ...).
program_state() {
    local line state
    line="$(ctl status "$1" 2>/dev/null || true)"
    read -r _ state _ <<<"${line}"
    printf '%s\n' "${state:-UNKNOWN}"
}

# Set CLIPROXY_URL, CLIPROXY_HEALTH_URL, the array CLIPROXY_PROGRAMS and the raw
# CLIPROXY_DESCRIBE_JSON from the JSON that `router describe` prints.
parse_describe() {
    local fields
    fields="$(printf '%s' "$1" | "${VENV_PYTHON}" -c '
import json, sys
described = json.load(sys.stdin)
print(described["url"])
print(described["health_url"])
print(" ".join(described["programs"]))
')" || return 1
    CLIPROXY_DESCRIBE_JSON="$1"
    {
        read -r CLIPROXY_URL
        read -r CLIPROXY_HEALTH_URL
        read -r -a CLIPROXY_PROGRAMS
    } <<<"${fields}"
    export CLIPROXY_URL CLIPROXY_HEALTH_URL
}

# The router's view of the current config and environment. Fails (with the router's
# message on stderr) on a bad config.
load_describe() {
    local json
    json="$("${VENV_PYTHON}" -m router describe)" || return 1
    parse_describe "${json}"
}

# What start.sh recorded for the running instance; fails when nothing was recorded.
load_recorded_describe() {
    [[ -f "${RUNNING_DESCRIBE_FILE}" ]] || return 1
    parse_describe "$(<"${RUNNING_DESCRIBE_FILE}")"
}

# Print the last lines of a log file, framed, to stderr.
show_log_tail() {
    local file="$1" lines="${2:-40}"
    if [[ -s "${file}" ]]; then
        printf -- '--- last %s lines of %s ---\n' "${lines}" "${file}" >&2
        tail -n "${lines}" "${file}" >&2
        printf -- '--- end of %s ---\n' "${file}" >&2
    else
        printf '(%s is empty or missing)\n' "${file}" >&2
    fi
}

# Wait until a process has exited (a zombie counts as exited); fail after the timeout.
wait_for_exit() {
    "${VENV_PYTHON}" - "$1" "$2" <<'PYTHON'
import sys
import time

import psutil

pid, timeout_s = int(sys.argv[1]), float(sys.argv[2])
deadline = time.monotonic() + timeout_s
while time.monotonic() < deadline:
    try:
        if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            sys.exit(0)
    except psutil.NoSuchProcess:
        sys.exit(0)
    time.sleep(0.2)
sys.exit(1)
PYTHON
}

# Succeed when the pid is alive and its command line mentions this project's supervisord.conf.
is_our_supervisord() {
    "${VENV_PYTHON}" - "$1" "${SUPERVISOR_CONF}" <<'PYTHON'
import sys

import psutil

try:
    process = psutil.Process(int(sys.argv[1]))
    alive = process.status() != psutil.STATUS_ZOMBIE
    sys.exit(0 if alive and sys.argv[2] in process.cmdline() else 1)
except (psutil.Error, ValueError):
    sys.exit(1)
PYTHON
}

# systemd: install.sh --service records the unit's scope (user or system) here.
SERVICE_UNIT="cliproxy.service"
SERVICE_MARKER_FILE="${RUN_DIR}/service"

# systemd marks itself running with this directory (a test points it elsewhere).
SYSTEMD_RUNTIME_DIR="${CLIPROXY_SYSTEMD_RUNTIME_DIR:-/run/systemd/system}"

systemd_is_running() {
    [[ -d "${SYSTEMD_RUNTIME_DIR}" ]] && command -v systemctl >/dev/null 2>&1
}

# Print the systemctl command that manages cliproxy, and succeed, when a unit was installed
# and systemd runs; fail when the scripts should drive supervisord themselves (also inside
# the unit, whose ExecStartPost runs start.sh).
service_systemctl() {
    [[ -z "${CLIPROXY_SERVICE_MANAGED:-}" && -f "${SERVICE_MARKER_FILE}" ]] || return 1
    systemd_is_running || return 1
    if [[ "$(<"${SERVICE_MARKER_FILE}")" == user ]]; then
        printf '%s\n' "systemctl --user"
    else
        printf '%s\n' "systemctl"
    fi
}

# Make the .env beside the config private before anything reads it: it holds secrets.
secure_env_file() {
    local config="${CLIPROXY_CONFIG:-${CLIPROXY_ROOT}/config.yaml}" env_file mode
    env_file="$(dirname "${config}")/.env"
    [[ -f "${env_file}" ]] || return 0
    mode="$(stat -c %a "${env_file}")"
    if ((8#${mode} & 8#077)); then
        chmod 600 "${env_file}" ||
            die "${env_file} is readable by other users (mode ${mode}) and chmod 600 failed"
        warn "${env_file} was readable by other users (mode ${mode}); changed it to 600"
    fi
}
secure_env_file

# Check the config, the .env and the environment as they are now, before anything running
# is touched; on a problem print it and exit 2 with nothing changed.
validate_config() {
    local problems
    if ! problems="$("${VENV_PYTHON}" -m router check-config 2>&1)"; then
        printf '%s\n' "${problems}" >&2
        die "the config or environment is invalid; nothing was changed (fix the problems above and run $1 again)" 2
    fi
    printf '%s\n' "${problems}" | grep '^warning: ' >&2 || true
}
