#include "tests/lib/eal_env.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace hnv::test {
namespace {
bool g_started = false;

// `memory`: where EAL's memory comes from (no hugepages, or a hugetlbfs mount).
bool StartEal(std::vector<std::string> memory) {
  if (g_started) return true;
  // The test thread on CPU 0, workers on CPU 1: lcore 1 (every runtime
  // test's worker) and lcore 2 (the gateway's flow-affinity test runs two).
  std::vector<std::string> args = {"hnv-test", "--no-pci", "--lcores", "0@0,1@1,2@1",
                                   "--file-prefix=hnvtest" + std::to_string(getpid()),
                                   "--log-level=error", "--no-telemetry"};
  args.insert(args.begin() + 1, memory.begin(), memory.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    std::fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    return false;
  }
  g_started = true;
  // EAL makes its runtime directory even with --no-shconf; whoever started it
  // (a test binary, a benchmark), nothing is left behind at exit.
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all("/var/run/dpdk/hnvtest" + std::to_string(getpid()), ec);
  });
  return true;
}

}  // namespace

bool StartEalForTest() { return StartEal({"--no-huge", "--no-shconf", "-m", "2048"}); }

bool StartEalForBench(std::string* pages) {
  if (const char* dir = std::getenv("HNV_BENCH_HUGE_DIR"); dir != nullptr && *dir != 0) {
    *pages = std::string("--huge-dir ") + dir + " --in-memory, 2 MiB pages";
    return StartEal({"--huge-dir", dir, "--in-memory"});
  }
  *pages = "--no-huge -m 2048 (tests/lib/eal_env.cc), 4 KiB pages";
  return StartEalForTest();
}

void EalEnvironment::SetUp() { ASSERT_TRUE(StartEalForTest()); }
void EalEnvironment::TearDown() {
  if (g_started) {
    rte_eal_cleanup();
    // EAL makes its runtime directory even with --no-shconf; leave nothing behind.
    std::error_code ec;
    std::filesystem::remove_all("/var/run/dpdk/hnvtest" + std::to_string(getpid()), ec);
  }
  g_started = false;
}
bool EalEnvironment::started() { return g_started; }

}  // namespace hnv::test
