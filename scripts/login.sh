#!/usr/bin/env bash
# Log in to a subscription account from a terminal.
#
# Usage: scripts/login.sh claude|chatgpt|aistudio [--file STORAGE_STATE.json]
# Prints a URL to open. A browser on this machine finishes the login by itself; on a
# headless machine open the URL elsewhere and paste the code shown after sign-in.
# The credential is saved in auth-dir, where the running router picks it up.
# aistudio: paste a browser session (storage state) on a headless machine, or sign in in
# the browser window the AI Studio service opens when a display is available.
# Env: CLIPROXY_CONFIG (config file, default ./config.yaml)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
    claude | chatgpt) ;;
    aistudio) exec "${VENV_DIR}/bin/cliproxy" login aistudio "${@:2}" ;;
    -h | --help) sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "expected claude, chatgpt or aistudio (see --help)" 2 ;;
esac

"${SCRIPTS_DIR}/install.sh"
exec "${VENV_PYTHON}" -m router login "$1"
