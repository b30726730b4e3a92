#!/usr/bin/env bash
# Installs the pinned agent CLIs (tests/clients/package.json, exact versions, and its
# package-lock.json) into tests/clients/node_modules, and aider (PyPI, pinned in
# tests/clients/requirements-aider.txt) into a venv of its own, tests/clients/aider-venv,
# as it pins its many dependencies exactly. Cheap when already installed: a stamp holds the
# hash of the three files. `npm ci` is not used because the public registry does not
# serve every platform package those CLIs list as optional (e.g. opencode-windows-x64,
# @ampcode/cli-darwin-arm64), so their lock entries cannot be complete; `npm install`
# with the committed lock installs exactly the locked versions.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../tests/clients"

stamp=node_modules/.cliproxy-pins
pins=(package.json package-lock.json requirements-aider.txt)
want="$(cat "${pins[@]}" | sha256sum | cut -d' ' -f1)"
if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
    echo "clients: pinned CLIs already installed"
    exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "clients: error: npm is required (Node >= 20)" >&2; exit 1; }
echo "clients: installing the pinned CLIs with npm"
npm install --no-audit --no-fund --loglevel=error
for bin in claude codex gemini opencode amp; do
    node_modules/.bin/"${bin}" --version >/dev/null 2>&1 ||
        { echo "clients: error: ${bin} --version failed after install" >&2; exit 1; }
done
git diff --quiet -- package-lock.json 2>/dev/null ||
    echo "clients: warning: npm rewrote package-lock.json; commit it if the pins changed" >&2

echo "clients: installing aider with pip"
python="${CLIPROXY_PYTHON:-python3}"
rm -rf aider-venv
"${python}" -m venv aider-venv
aider-venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-aider.txt
aider-venv/bin/aider --version >/dev/null 2>&1 ||
    { echo "clients: error: aider --version failed after install" >&2; exit 1; }
cat "${pins[@]}" | sha256sum | cut -d' ' -f1 >"${stamp}"
echo "clients: installed"
