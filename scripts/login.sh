#!/usr/bin/env bash
# Log in to a subscription account from a terminal.
#
# Usage: scripts/login.sh claude|chatgpt
# Prints a URL to open. A browser on this machine finishes the login by itself; on a
# headless machine open the URL elsewhere and paste the code shown after sign-in.
# The credential is saved in auth-dir, where the running router picks it up.
# Env: CLIPROXY_CONFIG (config file, default ./config.yaml)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
    claude | chatgpt) ;;
    -h | --help) sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "expected claude or chatgpt (see --help)" 2 ;;
esac

"${SCRIPTS_DIR}/install.sh"
exec "${VENV_PYTHON}" -m router login "$1"
