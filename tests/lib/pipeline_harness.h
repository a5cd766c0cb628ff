// PipelineHarness: one worker's pipeline over a hand-made policy, fed frames
// as byte vectors and returning what it transmitted, per port. The calling
// thread is the worker (registered with RCU, online only while it runs
// frames) and the control thread.
#pragma once

#include <rte_rcu_qsbr.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/pipeline/context.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/port_acl.h"
#include "dataplane/policy/tables.h"

namespace hnv::test {

struct TxFrame {
  uint16_t port;
  std::vector<uint8_t> bytes;
  bool large = false;  // a large segment (gso.h): RTE_MBUF_F_RX_LRO
  uint16_t mss = 0;    // its tso_segsz
};

// Copies every transmitted frame (or only counts, when `capture` is false,
// so that the sink allocates nothing) and frees the mbufs.
class CaptureSink final : public TxSink {
 public:
  uint16_t Send(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override;
  bool capture = true;
  uint64_t sent = 0;
  std::vector<TxFrame> frames;
};

TableLimits SmallLimitsForTest();

class PipelineHarness {
 public:
  explicit PipelineHarness(const Policy& policy, const TableLimits& limits = SmallLimitsForTest());
  ~PipelineHarness();

  // Applies a (new) policy; fails the current test on error.
  void Apply(const Policy& policy);
  // Every unresolved provider next hop is resolved to `mac` (as if an ARP
  // reply had come), so encapsulation can run.
  void ResolveNeighbors(const MacAddr& mac);

  // Runs frames received on `port` through the pipeline, flushes, and returns
  // what was transmitted (in order).
  std::vector<TxFrame> Run(uint16_t port, const std::vector<uint8_t>& frame);
  std::vector<TxFrame> RunBurst(uint16_t port, const std::vector<std::vector<uint8_t>>& frames);
  // Runs prebuilt mbufs (for benchmarks and allocation tests); nothing copied.
  void RunMbufs(uint16_t port, rte_mbuf** pkts, uint16_t n);

  uint64_t drops(Drop d) const { return counters_.drops[static_cast<uint16_t>(d)]; }
  uint64_t total_drops() const;
  const WorkerCounters& counters() const { return counters_; }
  void ResetCounters() { counters_ = WorkerCounters{}; }
  // Events the workers posted since the last call.
  std::vector<Event> DrainEvents();
  // Drains events into the tables (neighbours, dynamic learning), as the
  // control thread does.
  void ProcessEvents();

  PolicyTables& tables() { return *tables_; }
  rte_mempool* pool() { return pool_; }
  rte_rcu_qsbr* qsv() { return qsv_; }
  CaptureSink& sink() { return sink_; }
  WorkerContext& ctx() { return ctx_; }
  AclSessions& acl_sessions() { return acl_sessions_; }
  // An mbuf from the pool holding `frame`.
  rte_mbuf* MakeMbuf(const std::vector<uint8_t>& frame);

 private:
  rte_rcu_qsbr* qsv_ = nullptr;
  rte_mempool* pool_ = nullptr;
  rte_ring* events_ = nullptr;
  std::unique_ptr<PolicyTables> tables_;
  CaptureSink sink_;
  WorkerCounters counters_;
  AclSessions acl_sessions_;
  WorkerContext ctx_;
  Pipeline pipeline_;
};

}  // namespace hnv::test
