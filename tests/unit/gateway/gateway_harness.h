// GatewayHarness: one gateway worker in memory. The HNV policy tables and
// pipeline (the chapter's gateway host, MT-GW's port made the virtual port of
// compartment 0), GatewayTables, a GatewayFastPath over real rte_rings for
// the punt path, and a WorkerContext whose TxSink captures what goes to
// ethdev ports and hands what goes to virtual ports (compartments' vm_ports)
// to GatewayFastPath::DeliverVirtual, as the Dataplane's own sink does.
// The calling thread is the worker (RCU reader 0, online only while it runs
// frames) and the control thread.
#pragma once

#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <functional>
#include <memory>
#include <vector>

#include "dataplane/pipeline/context.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/policy/tables.h"
#include "gateway/fastpath/gateway_fastpath.h"
#include "gateway/fastpath/gateway_tables.h"
#include "tests/lib/pipeline_harness.h"
#include "tests/unit/pipeline/pipeline_test_util.h"

namespace hnv::gateway::test {

using hnv::test::TxFrame;
using Frame = std::vector<uint8_t>;

inline constexpr uint16_t kUplink = 0;
inline constexpr uint16_t kExtPort = 1;   // the gateway's external port (no HNV role)
inline constexpr uint16_t kExtPort2 = 2;  // a second one
inline constexpr uint32_t kContoso = 0;
inline constexpr uint16_t kContosoVmPort = kFirstVirtualPort + kContoso;

inline const MacAddr kContosoExtMac = hnv::test::Mac("600160010302");
inline const MacAddr kPhysicalMac = hnv::test::Mac("02c0c0c0c064");  // 10.1.3.100
inline const IpAddr kExtAddr = hnv::test::Ip("10.1.3.2");

// The chapter's gateway host with MT-GW's adapter on kContosoVmPort.
Policy GatewayHostPolicy();

// Compartment "contoso" (id 0): interface 0 = 10.0.2.2/24 on the VM
// network, interface 1 = kExtPort untagged (vlan 0 unless given), MAC
// 600160010302, 10.1.3.2/24. Routes 10.1.3.0/24 connected on 1, 10.0.1.0/24
// via 10.0.2.1 on 0, local 10.0.2.2/32 and 10.1.3.2/32; neighbours
// 10.1.3.100 -> kPhysicalMac on 1, 10.0.2.1 -> the DFGW MAC on 0.
CompartmentLayout ContosoLayout(uint16_t vlan = 0);
void SetUpContoso(GatewayTables& t, uint16_t vlan = 0);

class GatewaySink final : public TxSink {
 public:
  uint16_t Send(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override;
  GatewayFastPath* fast_path = nullptr;
  WorkerContext* ctx = nullptr;
  bool capture = true;
  uint64_t sent = 0;
  std::vector<TxFrame> frames;
};

struct Punted {
  TapId tap;
  Frame bytes;
};

class GatewayHarness {
 public:
  explicit GatewayHarness(const Policy& policy = GatewayHostPolicy(), unsigned ring_size = 4096);
  ~GatewayHarness();

  // Frames received on an external port (Receive), on the uplink (the HNV
  // pipeline; what it delivers to vm_ports goes to DeliverVirtual), or
  // delivered straight to a vm_port (DeliverVirtual alone). Each runs one
  // worker loop iteration per burst of 32 and returns what was transmitted.
  std::vector<TxFrame> RunExternal(uint16_t port, const std::vector<Frame>& frames);
  std::vector<TxFrame> RunUplink(const std::vector<Frame>& frames);
  std::vector<TxFrame> RunDeliver(uint16_t vm_port, const std::vector<Frame>& frames);
  // One Poll (worker 0), after InjectFromKernel.
  std::vector<TxFrame> RunPoll();
  // Worker loop iterations that take what was handed to this worker
  // (ReceiveHandoff; e.g. a hairpin a feature allowed, deferred out of a
  // flush) until nothing is left; Run* call it after their frames.
  void RunHandoffs();
  bool InjectFromKernel(TapId tap, const Frame& frame);

  // Prebuilt mbufs, nothing copied (benchmarks, allocation tests).
  void RunExternalMbufs(uint16_t port, rte_mbuf** pkts, uint16_t n);
  // Runs `f` as one worker loop iteration.
  void AsWorker(const std::function<void()>& f);
  // The same, in two halves, for callers that must not allocate (a
  // std::function may): Begin goes online and loads the snapshot; End
  // flushes, reports quiescence, goes offline.
  void BeginIteration();
  void EndIteration();

  std::vector<Punted> DrainPunts();
  rte_mbuf* MakeMbuf(const Frame& frame);
  unsigned MbufsInUse() const { return rte_mempool_in_use_count(pool_); }

  PolicyTables& tables() { return *tables_; }
  GatewayTables& gw() { return *gw_; }
  GatewayFastPath& fp() { return *fp_; }
  GatewaySink& sink() { return sink_; }
  WorkerContext& ctx() { return ctx_; }
  Pipeline& pipeline() { return pipeline_; }
  rte_mempool* pool() { return pool_; }
  rte_rcu_qsbr* qsv() { return qsv_; }
  PuntRings rings() const { return rings_; }
  uint64_t hnv_drops() const;
  std::string HnvDropSummary() const;

 private:
  rte_rcu_qsbr* qsv_ = nullptr;
  rte_mempool* pool_ = nullptr;
  rte_ring* events_ = nullptr;
  PuntRings rings_;
  rte_ring* handoff_ = nullptr;  // worker 0's handoff ring (ctx_.handoff)
  std::unique_ptr<PolicyTables> tables_;
  std::unique_ptr<GatewayTables> gw_;
  std::unique_ptr<GatewayFastPath> fp_;
  GatewaySink sink_;
  WorkerCounters counters_;
  WorkerContext ctx_;
  Pipeline pipeline_;
};

// What a compartment's counters say, for failure messages.
std::string Describe(const CompartmentCounters& c);

}  // namespace hnv::gateway::test
