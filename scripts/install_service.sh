#!/usr/bin/env bash
# Install the systemd unit that starts cliproxy at boot (called by install.sh --service).
#
# Usage: scripts/install_service.sh [user|system]
#   system (default as root): /etc/systemd/system/cliproxy.service, run as the checkout's owner
#   user   (default otherwise): ~/.config/systemd/user/cliproxy.service; for a start at boot
#          without a login session, also run: sudo loginctl enable-linger "$USER"
# Env: CLIPROXY_UNIT_DIR  write the unit there instead (no systemctl calls; for packaging)
# Afterwards scripts/start.sh, stop.sh and restart.sh go through systemctl.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scope="${1:-}"
[[ -n "${scope}" ]] || { ((EUID == 0)) && scope=system || scope=user; }
case "${scope}" in
    user | system) ;;
    -h | --help) sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "expected user or system, got ${scope}" 2 ;;
esac

generate=("${VENV_PYTHON}" -m router.ops.systemd --root "${CLIPROXY_ROOT}")
if [[ "${scope}" == user ]]; then
    generate+=(--user)
    unit_dir="${CLIPROXY_UNIT_DIR:-${XDG_CONFIG_HOME:-${HOME}/.config}/systemd/user}"
    systemctl_cmd=(systemctl --user)
else
    ((EUID == 0)) || [[ -n "${CLIPROXY_UNIT_DIR:-}" ]] ||
        die "a system unit needs root: sudo scripts/install.sh --service (or --service --user)"
    generate+=(--run-as "$(stat -c %U "${CLIPROXY_ROOT}")")
    unit_dir="${CLIPROXY_UNIT_DIR:-/etc/systemd/system}"
    systemctl_cmd=(systemctl)
fi

mkdir -p "${unit_dir}"
"${generate[@]}" >"${unit_dir}/${SERVICE_UNIT}.tmp"
mv "${unit_dir}/${SERVICE_UNIT}.tmp" "${unit_dir}/${SERVICE_UNIT}"
info "wrote ${unit_dir}/${SERVICE_UNIT}"
[[ -z "${CLIPROXY_UNIT_DIR:-}" ]] || exit 0

printf '%s\n' "${scope}" >"${SERVICE_MARKER_FILE}"
if ! systemd_is_running; then
    warn "systemd is not running here; enable it later with: ${systemctl_cmd[*]} enable --now cliproxy"
    exit 0
fi
"${systemctl_cmd[@]}" daemon-reload
"${systemctl_cmd[@]}" enable cliproxy
info "enabled; cliproxy now starts at boot. Start it now with: scripts/restart.sh"
