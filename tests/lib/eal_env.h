// One gtest Environment that starts DPDK's EAL once per test binary, without
// hugepages, PCI or shared config, under a file prefix unique to the process.
// Register it from a test's main or with HNV_EAL_TEST_MAIN().
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace hnv::test {

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;
  static bool started();
};

// Starts EAL (idempotent). Returns false and prints why when it cannot.
bool StartEalForTest();

// The benchmarks' EAL: as StartEalForTest (4 KiB pages), or on 2 MiB
// hugepages, as in production, when HNV_BENCH_HUGE_DIR names a hugetlbfs
// mount (tests/bench/run_benchmarks.sh makes one). *pages says which, for
// the benchmark's context.
bool StartEalForBench(std::string* pages);

}  // namespace hnv::test
