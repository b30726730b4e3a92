#!/usr/bin/env bash
# Restart everything, supervisord included, so changes to config.yaml, the .env beside it,
# exported CLIPROXY_* / ${VAR} variables and supervisord.conf all take effect.
# The new config and environment are checked FIRST: when they are wrong nothing is stopped
# and the running instance keeps serving (exit 2). To reload only config.yaml in place:
# scripts/reload.sh (or: cliproxy reload).
#
# Usage: scripts/restart.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
    "") ;;
    -h | --help) sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" 2 ;;
esac

# Installing a newly enabled program's package touches nothing that runs.
"${SCRIPTS_DIR}/install.sh"
validate_config scripts/restart.sh

if systemctl_cmd="$(service_systemctl)"; then
    info "restarting the ${SERVICE_UNIT} unit (${systemctl_cmd} restart cliproxy)"
    exec ${systemctl_cmd} restart cliproxy
fi
"${SCRIPTS_DIR}/stop.sh"
exec "${SCRIPTS_DIR}/start.sh"
