#!/usr/bin/env bash
# The peers' environment: torch pinned to the release FBGEMM's CPU package is built against
# (fbgemm-gpu-cpu loads only into the torch it was compiled with), numpy, matplotlib, and the
# jagtile package built from this checkout. Usage: bench/peers/setup_venv.sh [VENV] (.venv-peers)
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${1:-.venv-peers}
# fbgemm-gpu-cpu 1.9.0 is built against torch 2.14; change both together.
torch_pin="torch==2.14.*"
fbgemm_pin="fbgemm-gpu-cpu==1.9.0"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install numpy matplotlib scikit-build-core nanobind "$torch_pin"
if ! "${pip[@]}" install "$fbgemm_pin"; then
  echo "setup_venv: $fbgemm_pin could not be installed; the fbgemm peers will be reported as unavailable" >&2
fi
"${pip[@]}" install --no-build-isolation --no-deps .
"$venv/bin/python" -c 'import jagtile, torch; print("peers venv: torch", torch.__version__)'
