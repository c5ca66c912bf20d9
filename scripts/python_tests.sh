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

scripts/python_venv.sh "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
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
