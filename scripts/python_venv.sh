#!/usr/bin/env bash
# The project-local virtual environment of the Python tests: created if missing, then numpy,
# pytest, the build tools and torch installed (already-installed packages are kept). A torch
# that cannot be installed is reported, not fatal: the torch tests then skip with the reason.
# Usage: scripts/python_venv.sh [VENV]   (.ci/run starts it early, in the background, so the
# download overlaps the C++ build.)
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv"; then
    echo "python_venv: 'python3 -m venv' failed: install python3-venv (apt-get install python3-venv)" >&2
    exit 1
  fi
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install numpy pytest scikit-build-core nanobind
if ! "${pip[@]}" install "torch>=2.3"; then
  echo "python_venv: torch could not be installed; the torch tests will be skipped" >&2
fi
