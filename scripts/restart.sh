#!/usr/bin/env bash
# Stop everything, then start again. A full restart (supervisord included) so changes to
# supervisord.conf and to CLIPROXY_* variables take effect. To reload only the router's
# config, send it SIGHUP instead: .venv/bin/supervisorctl -c supervisord.conf signal HUP router
#
# Usage: scripts/restart.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
    "") ;;
    -h | --help) sed -n '2,6s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" 2 ;;
esac

"${SCRIPTS_DIR}/stop.sh"
exec "${SCRIPTS_DIR}/start.sh"
