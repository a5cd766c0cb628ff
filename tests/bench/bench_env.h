// The benchmark's dataplane: policy tables loaded with the bench policy
// (bench_policy.h), and one worker's pipeline over them, set up the way
// tests/lib/pipeline_harness.h does it but with a sink that only counts and
// frees, and with the worker free to run on any thread.
//
// A BenchEnv is built once per record count and kept for the whole run:
// loading 1,000,000 records takes seconds. The update benchmark moves its
// records between PAs, always in the same order (MovedPaIndex), and counts
// the moves in moves(); the traffic and the checks of every benchmark derive
// each record's current PA from that count, so benchmarks may run in any
// order.
//
// Thread contract: BenchEnv's control side (Get, tables() writes) from the
// benchmark thread; a BenchWorker from the one thread that runs it.
#pragma once

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/pipeline/context.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/port_acl.h"
#include "dataplane/policy/tables.h"

namespace hnv::bench {

// The sink of a benchmark: counts per port and frees, as a NIC's transmit
// completion would (in bulk).
class CountingSink final : public TxSink {
 public:
  uint16_t Send(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override;
  uint64_t sent[kMaxPorts] = {};
  // Called for every frame before it is freed, when set (checks only).
  void (*inspect)(void* arg, uint16_t port, const rte_mbuf* m) = nullptr;
  void* inspect_arg = nullptr;
};

class BenchEnv {
 public:
  // Aborts with a message when the tables cannot be built: a benchmark on a
  // wrong policy must not report numbers.
  static BenchEnv& Get(uint32_t records);
  static void DestroyAll();
  ~BenchEnv();

  PolicyTables& tables() { return *tables_; }
  rte_rcu_qsbr* qsv() { return qsv_; }
  uint32_t records() const { return records_; }
  uint32_t remote_records() const { return remote_; }
  uint32_t rd_index() const { return rd_index_; }
  const TableMemory& memory() const { return memory_; }
  // malloc'd bytes the control-plane indexes grew by while the policy was
  // applied (records index, L2 reference counts, peers), per record.
  double control_bytes_per_record() const { return control_bytes_per_record_; }
  double setup_seconds() const { return setup_seconds_; }
  // Record moves completed so far: records 0, 1, 2, ... in turn, wrapping.
  std::atomic<uint64_t>& moves() { return moves_; }

 private:
  BenchEnv(uint32_t records, const std::string& name);

  uint32_t records_;
  uint32_t remote_ = 0;
  uint32_t rd_index_ = 0;
  rte_rcu_qsbr* qsv_ = nullptr;
  std::unique_ptr<PolicyTables> tables_;
  TableMemory memory_;
  double control_bytes_per_record_ = 0;
  double setup_seconds_ = 0;
  std::atomic<uint64_t> moves_{0};
};

// One worker: its own packet pool, context, pipeline and sink, reading the
// env's tables as RCU reader `worker_id`.
class BenchWorker {
 public:
  BenchWorker(BenchEnv& env, uint32_t worker_id);
  ~BenchWorker();
  BenchWorker(const BenchWorker&) = delete;
  BenchWorker& operator=(const BenchWorker&) = delete;

  // Registers with the env's RCU variable and goes online (call on the thread
  // that runs bursts); Leave() undoes it.
  void Join();
  void Leave();

  // One loop iteration of a worker: reload the snapshot, run the burst,
  // flush, report quiescence.
  void RunBurst(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept {
    ctx_.snap = tables_->snapshot();
    pipeline_.ProcessRx(ctx_, port, pkts, n);
    ctx_.FlushTx();
    rte_rcu_qsbr_quiescent(qsv_, ctx_.worker_id);
  }

  rte_mempool* pool() { return pool_; }
  CountingSink& sink() { return sink_; }
  const CountingSink& sink() const { return sink_; }
  const WorkerCounters& counters() const { return counters_; }
  uint64_t total_drops() const;
  // "name=count, ..." of the non-zero drop counters.
  std::string DropSummary() const;

 private:
  PolicyTables* tables_;
  rte_rcu_qsbr* qsv_;
  rte_mempool* pool_ = nullptr;
  CountingSink sink_;
  WorkerCounters counters_;
  AclSessions acl_sessions_;  // stateful port ACLs (BM_Acl)
  WorkerContext ctx_;
  Pipeline pipeline_;
  bool joined_ = false;
};

}  // namespace hnv::bench
