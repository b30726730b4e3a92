#!/usr/bin/env bash
# Reload config.yaml (and the .env beside it) in the running router without a restart:
# checks the config first, then sends the router SIGHUP through supervisord. Changes to
# host, port, exported variables or the optional programs need scripts/restart.sh.
#
# Usage: scripts/reload.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
    "") ;;
    -h | --help) sed -n '2,6s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" 2 ;;
esac

[[ -x "${VENV_PYTHON}" ]] || die "cliproxy is not installed; run scripts/install.sh" 3
supervisord_pid >/dev/null || die "cliproxy is not running; start it with scripts/start.sh" 3
validate_config scripts/reload.sh
ctl signal HUP router >/dev/null || die "could not signal the router; see scripts/status.sh"
info "router reloading its config (watch: scripts/logs.sh router)"
