#!/usr/bin/env bash
# The project-local virtual environment of the Python tests: created if missing, then numpy,
# pytest, the build tools, matplotlib (bench/peers' charts), torch and FBGEMM's CPU ops installed
# (already-installed packages are kept). A torch or FBGEMM that cannot be installed is reported,
# not fatal: the tests that need it then skip with the reason.
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
"${pip[@]}" install numpy pytest scikit-build-core nanobind matplotlib
# torch is pinned to the release FBGEMM's CPU package is built against (fbgemm-gpu-cpu loads only
# into that torch), so the jagtile.ops tests compare with FBGEMM's own ops. Change both together.
torch_pin="torch==2.14.*"
fbgemm_pin="fbgemm-gpu-cpu==1.9.0"
if ! "${pip[@]}" install "$torch_pin"; then
  echo "python_venv: torch could not be installed; the torch tests will be skipped" >&2
elif ! "${pip[@]}" install "$fbgemm_pin"; then
  echo "python_venv: $fbgemm_pin could not be installed; the FBGEMM comparisons will be skipped" >&2
fi
