#!/usr/bin/env bash
# Run the test suite: install the project with its test extras if needed, then pytest.
# Every argument is passed to pytest, e.g. scripts/test.sh tests/e2e -k supervisord -x
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"${SCRIPTS_DIR}/install.sh" --with test
exec "${VENV_PYTHON}" -m pytest "$@"
