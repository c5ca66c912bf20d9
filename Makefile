# Thin wrapper over CMake. `make run` is the main job; `make test` the whole suite.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
TEST_ENV ?=
# The Python package's tests (scripts/python_tests.sh) run after the C++ suites; PY_TESTS=0 skips
# them (the sanitized build does: the extension would need the sanitizer runtime preloaded).
PY_TESTS ?= 1
VENV ?= .venv
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all build run test pytest bench fuzz sanitize sanitize-build clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./scripts/main_job.sh $(BUILD)

test: build
	$(TEST_ENV) ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 600
ifeq ($(PY_TESTS),1)
	./scripts/python_tests.sh $(BUILD) $(VENV) $(JOBS)
endif

# The Python suite alone (venv, package install, pytest).
pytest: build
	./scripts/python_tests.sh $(BUILD) $(VENV) $(JOBS)

bench: build
	./$(BUILD)/bench_reduce

# Every suite under ASan + UBSan (generated kernels included), in build-asan/. A sanitizer report
# exits with status 86, which no test expects (the CLI tests expect 1 for user errors).
ASAN_CMAKE_FLAGS := -DJAGTILE_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:exitcode=86 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86
sanitize:
	$(MAKE) test PY_TESTS=0 BUILD=build-asan CMAKE_FLAGS="$(ASAN_CMAKE_FLAGS)" TEST_ENV="$(ASAN_ENV)"

# Only the named targets of build-asan (CI builds the differential fuzzer alone there).
SANITIZE_TARGETS ?= fuzz_differential
sanitize-build:
	$(MAKE) build-asan/CMakeCache.txt BUILD=build-asan CMAKE_FLAGS="$(ASAN_CMAKE_FLAGS)"
	cmake --build build-asan --target $(SANITIZE_TARGETS) -j $(JOBS)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
