#!/usr/bin/env bash
# The Python part of `make test`: a project-local virtual environment (.venv, reused), the
# package built into it from the C++ build folder (only the extension is new there), then the
# pytest suite. torch is installed for the torch tests; if it cannot be, they are skipped with
# the reason counted in pytest's summary. Exits non-zero when any test fails.
set -euo pipefail
build=${1:-build}
venv=${2:-.venv}
jobs=${3:-2}
cd "$(dirname "$0")/.."
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
start=$(date +%s)

if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv"; then
    echo "python_tests: 'python3 -m venv' failed: install python3-venv (apt-get install python3-venv)" >&2
    exit 1
  fi
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install numpy pytest scikit-build-core nanobind
if ! "${pip[@]}" install "torch>=2.3"; then
  echo "python_tests: torch could not be installed; the torch tests will be skipped" >&2
fi
t_deps=$(date +%s)

# Build with the C++ build's own folder and generator, so the libraries are not compiled twice.
generator=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
CMAKE_GENERATOR="${generator:-Ninja}" CMAKE_BUILD_PARALLEL_LEVEL="$jobs" \
  "${pip[@]}" install --no-build-isolation --no-deps \
  -C build-dir="$build" -C cmake.define.JAGTILE_BUILD_TOOLS=ON .
t_build=$(date +%s)

JAGTILE_CLI="$build/jagtile" "$venv/bin/python" -m pytest -q -rs python/tests
end=$(date +%s)
echo "python_tests: dependencies $((t_deps - start)) s, package build $((t_build - t_deps)) s, pytest $((end - t_build)) s"
