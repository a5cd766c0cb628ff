#!/usr/bin/env bash
# Instructions per frame of each pipeline stage, counted by callgrind: a
# figure that does not move with the machine's load, for comparing two
# versions of the per-packet code where timed runs on this shared VM vary
# by a few ns (tests/bench/RESULTS.md, "Fourth round").
#
#   tests/bench/count_instructions.sh                         # BM_Decap/1000/64
#   tests/bench/count_instructions.sh 'BM_Encap/1000/64$'
#   tests/bench/count_instructions.sh 'BM_VmToExt$'          # hnv-gateway transit (gateway_bench)
#
# Environment: BUILD (build-bench; configured as run_benchmarks.sh does).
# Needs valgrind (apt-get install valgrind); runs the EAL on 4 KiB pages.
# "pipeline" is everything Pipeline::ProcessRx runs for a burst, divided by
# its frames, without the benchmark's sink (standing in for the NIC: it
# frees the mbufs and checks the warm-up bursts' frames), which is shown
# apart. Stages the compiler inlined or tail-called do not appear alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-bench}
FILTER=${1:-'BM_Decap/1000/64$'}
command -v valgrind >/dev/null || { echo "count_instructions: needs valgrind" >&2; exit 1; }
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHNV_BENCH=ON \
  -DCMAKE_CXX_FLAGS="-Wno-error=restrict" >/dev/null
out=$(mktemp /tmp/hnv-callgrind.XXXXXX)
trap 'rm -f "$out"' EXIT
case "$FILTER" in
  BM_ExtToVm*|BM_VmToExt*|BM_ExtToExt*)
    # The gateway: everything one worker does for a burst of 32 frames
    # (RunBurst: classification, the compartment path, the HNV pipeline,
    # the flush and the benchmark's sink), per frame.
    ninja -C "$BUILD" gateway_bench >/dev/null
    valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='*RunBurst*' \
      "$BUILD/tests/bench/gateway_bench" --benchmark_filter="$FILTER" --benchmark_min_time=0.01 \
      >/dev/null 2>&1
    callgrind_annotate --inclusive=yes --tree=caller "$out" 2>/dev/null | python3 -c '
import re, sys
for line in sys.stdin:
    m = re.match(r" *([0-9,]+) \([ 0-9.%]+\)  < .*BM_Flow\(.*\(([0-9,]+)x\)", line)
    if m:
        cost, bursts = (int(g.replace(",", "")) for g in m.groups())
        print(f"{bursts * 32} frames; {cost / bursts / 32:.1f} instructions per frame "
              "(RunBurst: classification, compartment path, HNV pipeline, flush, sink)")
        sys.exit(0)
sys.exit("count_instructions: no RunBurst calls in the profile")
'
    exit 0;;
esac
ninja -C "$BUILD" dataplane_bench >/dev/null
valgrind --tool=callgrind --callgrind-out-file="$out" "$BUILD/tests/bench/dataplane_bench" \
  --benchmark_filter="$FILTER" --benchmark_min_time=0.01 >/dev/null 2>&1
callgrind_annotate --inclusive=yes --tree=caller --threshold=100 "$out" 2>/dev/null | python3 -c '
import re, sys
cost, frames, prev = {}, 0, ""
for line in sys.stdin:
    m = re.match(r" *([0-9,]+) \([ 0-9.%]+\)  \*  [^:]+:hnv::(\w+::Process|Pipeline::ProcessRx|bench::CountingSink::Send)\(", line)
    if m and m.group(2) not in cost:
        cost[m.group(2)] = int(m.group(1).replace(",", ""))
        if m.group(2) == "Pipeline::ProcessRx":
            calls = re.search(r"\(([0-9,]+)x\)", prev)  # the caller line: bursts run
            frames = int(calls.group(1).replace(",", "")) * 32 if calls else 0
    prev = line
if not frames or "bench::CountingSink::Send" not in cost:
    sys.exit("count_instructions: no pipeline bursts found in the profile")
sink = cost.pop("bench::CountingSink::Send")
total = cost.pop("Pipeline::ProcessRx")
print(f"{frames} frames; instructions per frame:")
print(f"  {(total - sink) / frames:7.1f}  pipeline (ProcessRx without the sink)")
for name, n in sorted(cost.items(), key=lambda kv: -kv[1]):
    print(f"  {n / frames:7.1f}  {name} (with what it calls)")
print(f"  {sink / frames:7.1f}  the sink (transmit: frees the mbufs; checks the warm-up frames)")
'
