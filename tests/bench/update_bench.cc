// Policy updates with traffic running (DESIGN §3: "Policy changes apply while
// traffic flows"): BM_UpdateWithTraffic/<flow>/N.
//
// A worker std::thread (an RCU reader of the tables, reporting quiescence
// after every burst, pinned to the second CPU) runs encapsulation or
// decapsulation bursts through the full pipeline without pause, while the
// benchmark thread, the tables' single writer, moves records to another PA
// (UpsertRecord with a new PA: a VM migration) one after the other, and
// calls Reclaim() after every kBatch updates. Reported: updates/s (the
// benchmark's items/s, real time), and the worker's Mpps and drops meanwhile.
//
// For decapsulation the worker sends each packet from its record's current
// PA, derived from the count of completed moves that the writer publishes
// after each move (one shared cache line, read once per burst): a packet is
// dropped by the source check only when its record moves between the
// packet's creation and its decapsulation, as in-flight packets of a
// migrating VM would be. Encapsulation follows the moves by itself.
//
// The moves carry on from run to run; the other benchmarks follow them
// (bench_env.h).
#include <pthread.h>
#include <rte_lcore.h>
#include <sched.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/bench/bench_common.h"
#include "tests/bench/bench_policy.h"
#include "tests/bench/bench_traffic.h"

namespace hnv::bench {
namespace {

constexpr uint32_t kBatch = 64;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The worker thread: runs bursts until told to stop; always joined.
class TrafficThread {
 public:
  TrafficThread(BenchEnv& env, Flow flow, const std::atomic<uint64_t>* moves)
      : traffic_(flow, 64, env.remote_records()), worker_(env, 0), moves_(moves) {
    thread_ = std::thread([this] { Run(); });
  }
  ~TrafficThread() { Stop(); }

  void Stop() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }
  bool WaitRunning() const {
    while (packets_.load(std::memory_order_relaxed) < 64 * kBurst)
      if (failed_.load(std::memory_order_relaxed)) return false;
    return true;
  }
  uint64_t packets() const { return packets_.load(std::memory_order_relaxed); }
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  // After Stop().
  const BenchWorker& worker() const { return worker_; }

 private:
  void Run() {
    // The benchmark thread is EAL lcore 0 on CPU 0; the worker takes CPU 1.
    if (std::thread::hardware_concurrency() > 1) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(1, &set);
      pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    }
    const bool eal_thread = rte_thread_register() == 0;  // gives the mempool a per-lcore cache
    worker_.Join();
    const uint16_t port = traffic_.rx_port();
    const std::atomic<uint64_t>* moves = traffic_.flow() == Flow::kDecap ? moves_ : nullptr;
    rte_mbuf* pkts[kBurst];
    uint64_t n = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
      if (!traffic_.Refill(worker_.pool(), pkts, kBurst, moves)) {
        failed_.store(true);
        break;
      }
      worker_.RunBurst(port, pkts, kBurst);
      n += kBurst;
      packets_.store(n, std::memory_order_relaxed);
    }
    worker_.Leave();
    if (eal_thread) rte_thread_unregister();
  }

  Traffic traffic_;
  BenchWorker worker_;
  const std::atomic<uint64_t>* moves_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> packets_{0};
  std::thread thread_;
};

void BM_UpdateWithTraffic(benchmark::State& state, Flow flow, uint32_t records) {
  using Clock = std::chrono::steady_clock;
  BenchEnv& env = BenchEnv::Get(records);
  PolicyTables& tables = env.tables();
  std::atomic<uint64_t>& moves = env.moves();
  const uint32_t remote = env.remote_records();

  TrafficThread traffic(env, flow, &moves);
  if (!traffic.WaitRunning()) {
    traffic.Stop();
    return Fail(state, "worker could not run: " + traffic.worker().DropSummary());
  }
  std::string error;
  bool ok = true;
  uint64_t done = moves.load(std::memory_order_relaxed);
  const uint64_t done0 = done;
  const auto t0 = Clock::now();
  const double cpu0 = ThreadCpuSeconds();
  const uint64_t p0 = traffic.packets();
  for (auto _ : state) {
    for (uint32_t k = 0; k < kBatch; ++k) {
      const auto i = static_cast<uint32_t>(done % remote);
      ok = tables.UpsertRecord(RemoteRecord(i, MovedPaIndex(i, done / remote + 1)), &error);
      if (!ok) break;
      moves.store(++done, std::memory_order_release);
    }
    if (!ok) break;
    tables.Reclaim();
  }
  const uint64_t updates = done - done0;
  const uint64_t p1 = traffic.packets();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu_seconds = ThreadCpuSeconds() - cpu0;
  traffic.Stop();
  if (!ok) return Fail(state, "UpsertRecord: " + error);
  if (traffic.failed()) return Fail(state, "worker: mbuf pool empty");
  if (tables.record_count() != records) return Fail(state, "record count changed");

  using benchmark::Counter;
  state.SetItemsProcessed(static_cast<int64_t>(updates));
  state.counters["updates_per_s"] = Counter(static_cast<double>(updates), Counter::kIsRate);
  // The writer's own cost: what the rate would be if its core were not shared
  // (on a busy 2-core machine real time also counts other processes' turns).
  state.counters["updates_per_cpu_s"] =
      cpu_seconds > 0 ? static_cast<double>(updates) / cpu_seconds : 0;
  state.counters["worker_Mpps"] = seconds > 0 ? static_cast<double>(p1 - p0) / seconds / 1e6 : 0;
  const uint64_t drops = traffic.worker().total_drops();
  state.counters["worker_drops"] = static_cast<double>(drops);
  state.counters["worker_drop_pct"] =
      traffic.packets() > 0 ? 100.0 * static_cast<double>(drops) / traffic.packets() : 0;
  state.counters["records"] = static_cast<double>(records);
  // Drops are a finding, not a failure of the benchmark: named in the label.
  if (drops != 0) state.SetLabel("drops: " + traffic.worker().DropSummary());
}

}  // namespace

void RegisterUpdateBenchmarks() {
  for (Flow flow : {Flow::kEncap, Flow::kDecap}) {
    for (uint32_t records : kRecordCounts) {
      const std::string name =
          std::string("BM_UpdateWithTraffic/") + FlowName(flow) + "/" + std::to_string(records);
      benchmark::RegisterBenchmark(name.c_str(), BM_UpdateWithTraffic, flow, records)
          ->UseRealTime();
    }
  }
}

}  // namespace hnv::bench
