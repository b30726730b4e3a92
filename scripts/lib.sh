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
