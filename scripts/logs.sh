#!/usr/bin/env bash
# Follow a program's log (default: router). "all" follows every log, supervisord's included.
#
# Usage: scripts/logs.sh [-n LINES] [--no-follow] [router|webai|aistudio|supervisord|all]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

lines=50
follow=true
target=router
while (($#)); do
    case "$1" in
        -n)
            if (($# < 2)) || [[ ! "$2" =~ ^[0-9]+$ ]]; then
                die "-n needs a number of lines" 2
            fi
            lines="$2"
            shift 2
            ;;
        --no-follow) follow=false; shift ;;
        -h | --help) sed -n '2,4s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) die "unknown option: $1 (see --help)" 2 ;;
        *) target="$1"; shift ;;
    esac
done

files=()
case "${target}" in
    all)
        for name in "${ALL_PROGRAMS[@]}" supervisord; do
            [[ -f "${LOG_DIR}/${name}.log" ]] && files+=("${LOG_DIR}/${name}.log")
        done
        ;;
    router | webai | aistudio | supervisord)
        [[ -f "${LOG_DIR}/${target}.log" ]] && files+=("${LOG_DIR}/${target}.log")
        ;;
    *) die "unknown program: ${target} (expected router, webai, aistudio, supervisord or all)" 2 ;;
esac
((${#files[@]})) || die "no log yet for ${target} in ${LOG_DIR}; has cliproxy been started?"

if ${follow}; then
    exec tail -n "${lines}" -F "${files[@]}"
fi
exec tail -n "${lines}" "${files[@]}"
