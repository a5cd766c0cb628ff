// What the benchmark files share: the burst size, the record counts, the
// counters every benchmark reports, and failure reporting that also fails
// the process (so the CTest smoke run notices).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "tests/bench/bench_env.h"

namespace hnv::bench {

inline constexpr uint16_t kBurst = 32;
inline constexpr uint32_t kRecordCounts[] = {1'000, 1'000'000};

// Marks the benchmark as failed (its numbers are not reported) and makes
// main() return non-zero.
void Fail(benchmark::State& state, const std::string& why);
bool AnyFailed();

// items/s, "Mpps" and "ns_per_pkt" for `packets` processed, plus the table
// memory counters of `env`.
void ReportPackets(benchmark::State& state, uint64_t packets);
void ReportTables(benchmark::State& state, const BenchEnv& env);

void RegisterPipelineBenchmarks();
void RegisterHashBenchmarks();
void DestroyHashBenchmarks();  // frees their tables before EAL cleanup
void RegisterUpdateBenchmarks();

}  // namespace hnv::bench
