#!/usr/bin/env bash
# Builds the dataplane benchmarks (Release, -DHNV_BENCH=ON) into build-bench/,
# runs every benchmark with repetitions, keeps the JSON and prints a compact
# summary against the issue's targets (tests/bench/summarize.py).
#
#   tests/bench/run_benchmarks.sh                       # everything, 3 repetitions
#   REPS=5 tests/bench/run_benchmarks.sh --benchmark_filter='/1000000'
#
# Environment: BUILD (build-bench), REPS (3), MIN_TIME (0.5 s per repetition),
# OUT (<BUILD>/bench.json), JOBS (2), PAGES (huge | 4k; default huge when
# run as root). Extra arguments go to the benchmark.
# PAGES=huge runs the EAL on 2 MiB hugepages as the daemons do in production
# (their default EAL arguments): it reserves HUGEPAGES (800) pages and mounts
# a private hugetlbfs for the run, and gives both back when it ends (also on
# failure). PAGES=4k runs as the tests do (--no-huge, 4 KiB pages).
# The machine should be otherwise idle: numbers on a shared 2-core VM are noisy.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-bench}
REPS=${REPS:-3}
MIN_TIME=${MIN_TIME:-0.5}
OUT=${OUT:-$BUILD/bench.json}

# -Wno-error=restrict: g++ 12 at -O3 reports a false -Wrestrict inside
# std::string's operator+ (GCC bug 105329); the Release build would fail on it.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHNV_BENCH=ON \
  -DCMAKE_CXX_FLAGS="-Wno-error=restrict" >/dev/null
ninja -C "$BUILD" -j "${JOBS:-2}" dataplane_bench

PAGES=${PAGES:-$([ "$(id -u)" = 0 ] && echo huge || echo 4k)}
if [ "$PAGES" = huge ]; then
  want=${HUGEPAGES:-800}
  before=$(cat /proc/sys/vm/nr_hugepages)
  huge_dir=$(mktemp -d /tmp/hnv-bench-huge.XXXXXX)
  release() {
    umount "$huge_dir" 2>/dev/null || true
    rmdir "$huge_dir" 2>/dev/null || true
    echo "$before" >/proc/sys/vm/nr_hugepages
  }
  trap release EXIT
  echo $((before + want)) >/proc/sys/vm/nr_hugepages
  got=$(($(cat /proc/sys/vm/nr_hugepages) - before))
  if [ "$got" -lt "$want" ]; then
    echo "run_benchmarks: only $got of $want 2 MiB hugepages could be reserved; use PAGES=4k" >&2
    exit 1
  fi
  mount -t hugetlbfs -o pagesize=2M nodev "$huge_dir"
  export HNV_BENCH_HUGE_DIR=$huge_dir
fi

"$BUILD/tests/bench/dataplane_bench" \
  --benchmark_repetitions="$REPS" --benchmark_report_aggregates_only=true \
  --benchmark_min_time="$MIN_TIME" \
  --benchmark_out="$OUT" --benchmark_out_format=json "$@"
echo
python3 tests/bench/summarize.py "$OUT"
