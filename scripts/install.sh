#!/usr/bin/env bash
# Create or refresh the project-local .venv and config.yaml. Idempotent and cheap when
# nothing changed: the dependency install is skipped while the stamp under .venv/ matches
# the hash of pyproject.toml and the installed extras.
#
# Usage: scripts/install.sh [--with webai|aistudio]... [--force]
#   --with NAME  also install an optional program's extra from pyproject.toml (webai: g4f,
#                aistudio: playwright), whether or not the config enables it
#   --force      reinstall the project even if the stamp matches
# Env: CLIPROXY_PYTHON  interpreter used to create .venv (default: python3 on PATH)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly MIN_PYTHON="3.11"
readonly PROJECT_EXTRAS="test"
readonly STAMP_FILE="${VENV_DIR}/.cliproxy-install.stamp"

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

force=false
requested_optional=()
while (($#)); do
    case "$1" in
        --with)
            (($# >= 2)) || die "--with needs a program name (webai or aistudio)" 2
            IFS=',' read -r -a names <<<"$2"
            requested_optional+=("${names[@]}")
            shift 2
            ;;
        --with=*)
            IFS=',' read -r -a names <<<"${1#--with=}"
            requested_optional+=("${names[@]}")
            shift
            ;;
        --force) force=true; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" 2 ;;
    esac
done
for name in "${requested_optional[@]}"; do
    [[ "${name}" == webai || "${name}" == aistudio ]] ||
        die "unknown optional program: ${name} (expected webai or aistudio)" 2
done

# Succeeds when the given interpreter is at least MIN_PYTHON.
python_is_recent_enough() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null
}

ensure_venv() {
    if [[ -x "${VENV_PYTHON}" ]]; then
        python_is_recent_enough "${VENV_PYTHON}" ||
            die "${VENV_DIR} uses $("${VENV_PYTHON}" -V 2>&1); cliproxy needs Python >= ${MIN_PYTHON}. Remove ${VENV_DIR} and re-run with a newer python3 on PATH (or set CLIPROXY_PYTHON)."
        return
    fi
    local base_python="${CLIPROXY_PYTHON:-python3}"
    command -v "${base_python}" >/dev/null 2>&1 ||
        die "${base_python} not found on PATH; install Python >= ${MIN_PYTHON} (or set CLIPROXY_PYTHON to its path)."
    python_is_recent_enough "${base_python}" ||
        die "$(command -v "${base_python}") is $("${base_python}" -V 2>&1); cliproxy needs Python >= ${MIN_PYTHON}. Put a newer python3 on PATH or set CLIPROXY_PYTHON."
    info "creating virtualenv ${VENV_DIR} with $("${base_python}" -V 2>&1)"
    "${base_python}" -m venv "${VENV_DIR}" ||
        die "could not create ${VENV_DIR}; on Debian/Ubuntu install the python3-venv package."
}

expected_stamp() {
    "${VENV_PYTHON}" - "${CLIPROXY_ROOT}/pyproject.toml" "${PROJECT_EXTRAS}" <<'EOF'
import hashlib
import sys

pyproject, extras = sys.argv[1], sys.argv[2]
with open(pyproject, "rb") as handle:
    digest = hashlib.sha256(handle.read()).hexdigest()
print(f"pyproject-sha256={digest} extras={extras}")
EOF
}

# A .venv that is a symlink belongs to another checkout (the e2e test borrows the repo's):
# installing into it would repoint that checkout's editable install here, so refuse.
refuse_if_borrowed() {
    [[ -L "${VENV_DIR}" ]] || return 0
    die "${VENV_DIR} is a symlink to $(readlink -f "${VENV_DIR}") and is out of date ($1); run scripts/install.sh in the project that owns it."
}

pip_install() {
    "${VENV_PYTHON}" -m pip install --quiet --disable-pip-version-check --no-input "$@"
}

ensure_project_installed() {
    local wanted
    wanted="$(expected_stamp)"
    if ! ${force} && [[ -f "${STAMP_FILE}" && "$(<"${STAMP_FILE}")" == "${wanted}" ]]; then
        info "dependencies up to date (${VENV_DIR})"
        return
    fi
    refuse_if_borrowed "pyproject.toml changed or project not installed"
    info "installing cliproxy and its [${PROJECT_EXTRAS}] extras into ${VENV_DIR}"
    # Editable: `import router` from any directory (tests, supervisord) resolves to this
    # checkout, so edits take effect without a reinstall and no stale copy can shadow it.
    pip_install -e "${CLIPROXY_ROOT}[${PROJECT_EXTRAS}]"
    printf '%s\n' "${wanted}" >"${STAMP_FILE}.tmp"
    mv "${STAMP_FILE}.tmp" "${STAMP_FILE}"
}

ensure_config() {
    local config="${CLIPROXY_ROOT}/config.yaml"
    if [[ -e "${config}" ]]; then
        return
    fi
    if [[ -f "${CLIPROXY_ROOT}/config.example.yaml" ]]; then
        cp "${CLIPROXY_ROOT}/config.example.yaml" "${config}"
        info "created ${config} from config.example.yaml; edit it to add your providers"
    else
        warn "config.example.yaml is missing; create ${config} yourself"
    fi
}

# The key relay peers present on /v1/ws, generated into auth-dir unless the config sets one.
ensure_relay_key() {
    if "${VENV_PYTHON}" -m router relay-key >/dev/null; then
        info "relay key ready (print it for the AI Studio Build applet: .venv/bin/python -m router relay-key)"
    else
        warn "could not create the relay key; the router creates it when it starts"
    fi
}

# Optional programs to provision: those requested with --with plus those the config enables.
optional_programs() {
    local -A seen=()
    local name
    for name in "${requested_optional[@]}"; do
        seen["${name}"]=1
    done
    if load_describe 2>/dev/null; then
        for name in "${CLIPROXY_PROGRAMS[@]}"; do
            [[ "${name}" == router ]] || seen["${name}"]=1
        done
    else
        warn "could not read the config (run: .venv/bin/python -m router check-config); optional programs not provisioned"
    fi
    for name in "${!seen[@]}"; do
        printf '%s\n' "${name}"
    done
}

# Install an optional program's extra from pyproject.toml unless its package is importable.
ensure_optional_package() {
    local program="$1" module
    case "${program}" in
        webai) module=g4f ;;
        aistudio) module=playwright ;;
    esac
    if "${VENV_PYTHON}" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('${module}') is None)"; then
        return
    fi
    refuse_if_borrowed "${module} for ${program} is missing"
    info "installing the [${program}] extra (${module})"
    pip_install -e "${CLIPROXY_ROOT}[${program}]"
}

mkdir -p "${RUN_DIR}" "${LOG_DIR}"
ensure_venv
ensure_project_installed
ensure_config
ensure_relay_key
mapfile -t optional < <(optional_programs)
for program in "${optional[@]}"; do
    ensure_optional_package "${program}"
done
