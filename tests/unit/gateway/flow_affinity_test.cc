// Flow affinity with two workers: the real Dataplane (two worker lcores,
// ring-backed ports: the uplink received by worker 0, the external port by
// worker 1) runs compartment "contoso" through GatewayFastPath. Many UDP
// flows cross the gateway in both directions at once: from the physical
// host to Contoso1 (arriving on the external port) and back (NVGRE on the
// uplink). A pre-route feature records, per worker, the flows it saw: each
// flow's two directions must meet on one worker, and both workers must own
// flows (the ports alone would split every flow across the two).
// With two receive queues per port (a device with a queue per worker: each
// worker receives every port on its own queue) the frames are spread so
// that a flow's two directions arrive on different queues, as a NIC whose
// hash is not symmetric (or sees only NVGRE's outer header) would spread
// them: every frame must be received and the flows must still meet.
#include <gtest/gtest.h>
#include <rte_eth_ring.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "dataplane/pipeline/flow_hash.h"
#include "dataplane/pipeline/nvgre_encap.h"
#include "dataplane/policy/tsan.h"
#include "dataplane/runtime/dataplane.h"
#include "tests/unit/gateway/gateway_harness.h"

namespace hnv::gateway::test {
namespace {

using namespace hnv::test::pipe;
using hnv::test::PacketBuilder;

constexpr uint32_t kWorkers = 2;
constexpr uint16_t kFlows = 256;

// Pre-route: which flows (symmetric hash) each worker saw, in order.
class AffinityRecorder final : public Feature {
 public:
  AffinityRecorder() {
    for (auto& v : seen_) v.reserve(4 * kFlows);
  }
  std::string_view name() const noexcept override { return "affinity-recorder"; }
  FeatureSlot slot() const noexcept override { return FeatureSlot::kPreRoute; }
  void Process(FeatureContext& fc, Burst& in, const Outputs<Edge>& out) noexcept override {
    auto& v = seen_[fc.ctx.worker_id];
    for (uint16_t i = 0; i < in.n; ++i) {
      rte_mbuf* m = in.pkts[i];
      if (v.size() < v.capacity()) v.push_back(SymmetricFlowHash(Data(m), Meta(m)->pf));
      out.Push(fc.ctx, Edge::kNext, m);
    }
  }
  // Read after the workers stopped.
  const std::vector<uint32_t>& seen(uint32_t w) const { return seen_[w]; }

 private:
  std::vector<uint32_t> seen_[kWorkers];
};

Frame Udp(const MacAddr& dst_mac, const MacAddr& src_mac, const IpAddr& s, const IpAddr& d,
          uint16_t sport, uint16_t dport, uint8_t ttl) {
  return PacketBuilder().Eth(dst_mac, src_mac).Ipv4(s, d).Ttl(ttl).Udp(sport, dport).Payload(18).Build();
}

rte_mbuf* Mbuf(rte_mempool* pool, const Frame& f) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
  TsanReleaseMbufs(&m, 1);  // handed to a worker through the net_ring PMD
  return m;
}

unsigned Drain(rte_ring* r) {
  unsigned n = 0;
  rte_mbuf* m = nullptr;
  while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) {
    TsanAcquireMbufs(&m, 1);
    rte_pktmbuf_free(m);
    ++n;
  }
  return n;
}

class GatewayFlowAffinity : public ::testing::TestWithParam<uint16_t> {};

TEST_P(GatewayFlowAffinity, BothDirectionsOfEachFlowMeetOnOneWorker) {
  // Two ring-backed ports with GetParam() receive queues each; each worker
  // transmits on its own queue, both queues into one (multi-producer) ring.
  const uint16_t queues = GetParam();
  rte_ring* rx[2][kWorkers] = {};
  rte_ring* tx[2];
  for (int i = 0; i < 2; ++i) {
    for (uint16_t q = 0; q < queues; ++q) {
      rx[i][q] = rte_ring_create(("fa_rx" + std::to_string(i) + "_" + std::to_string(q)).c_str(), 4096,
                                 SOCKET_ID_ANY, RING_F_SC_DEQ);
      ASSERT_NE(rx[i][q], nullptr);
    }
    tx[i] = rte_ring_create(("fa_tx" + std::to_string(i)).c_str(), 4096, SOCKET_ID_ANY, RING_F_SC_DEQ);
    ASSERT_NE(tx[i], nullptr);
  }
  DataplaneConfig cfg;
  cfg.worker_lcores = {1, 2};
  cfg.limits = hnv::test::SmallLimitsForTest();
  cfg.limits.name = "fa" + std::to_string(queues);
  std::string error;
  auto dp = Dataplane::Create(cfg, &error);
  ASSERT_TRUE(dp != nullptr) << error;
  for (int i = 0; i < 2; ++i) {
    rte_ring* txq[kWorkers] = {tx[i], tx[i]};
    const int eth = rte_eth_from_rings(("fa_eth" + std::to_string(i) + "_" + std::to_string(queues)).c_str(),
                                       rx[i], queues, txq, kWorkers, SOCKET_ID_ANY);
    ASSERT_GE(eth, 0);
    ASSERT_TRUE(dp->AttachEthPort(static_cast<uint16_t>(i), static_cast<uint16_t>(eth), &error,
                                  /*spread=*/true))
        << error;
  }
  ASSERT_TRUE(dp->tables().Apply(GatewayHostPolicy(), &error)) << error;
  dp->tables().LearnNeighbor(kUplink, kPa1, kPa1Mac);
  GatewayLimits gl;
  gl.name = "fa_gw" + std::to_string(queues);
  gl.max_neighbors = 1024;
  auto gw = GatewayTables::Create(gl, dp->reclaimer(), &error);
  ASSERT_TRUE(gw != nullptr) << error;
  SetUpContoso(*gw);
  auto recorder = std::make_shared<AffinityRecorder>();
  ASSERT_TRUE(gw->SetFeatures(kContoso, {recorder}, &error)) << error;
  PuntRings punt{rte_ring_create(("fa_punt" + std::to_string(queues)).c_str(), 1024, SOCKET_ID_ANY, RING_F_SC_DEQ), nullptr};
  auto fp = std::make_unique<GatewayFastPath>(gw.get(), punt, kWorkers);
  dp->SetExtension(fp.get());
  ASSERT_TRUE(dp->Start(&error)) << error;

  // Flow i: the physical host's UDP port 5000 <-> Contoso1's port 10000 + i.
  for (uint16_t i = 0; i < kFlows; ++i) {
    const uint16_t vm_port = static_cast<uint16_t>(10000 + i);
    const Frame in = Udp(kContosoExtMac, kPhysicalMac, kPhysical, kC1, 5000, vm_port, 64);
    const Frame back = Udp(kMtGwMac, kDfgw6001Mac, kC1, kPhysical, vm_port, 5000, 63);
    const ParsedFrame pf = Parse(back);
    const Frame nvgre = Encap(kPaGwMac, kPa1Mac, kPa1, kPaGw, 6001, NvgreEncap::FlowId(back.data(), pf), back);
    ASSERT_EQ(rte_ring_enqueue(rx[1][i % queues], Mbuf(dp->pool(), in)), 0);
    ASSERT_EQ(rte_ring_enqueue(rx[0][(i + 1) % queues], Mbuf(dp->pool(), nvgre)), 0);
  }
  // Both directions out: NVGRE to Host 1 on the uplink, UDP on the external port.
  unsigned to_vm = 0, to_ext = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((to_vm < kFlows || to_ext < kFlows) && std::chrono::steady_clock::now() < end) {
    to_vm += Drain(tx[0]);
    to_ext += Drain(tx[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const WorkerCounters c = dp->Counters();
  const CompartmentCounters cc = fp->Counters(kContoso);
  dp->Stop();
  EXPECT_EQ(to_vm, kFlows) << Describe(cc);
  EXPECT_EQ(to_ext, kFlows) << Describe(cc);
  EXPECT_GT(c.handoff_out, 0u);
  EXPECT_EQ(c.handoff_in, c.handoff_out);

  std::map<uint32_t, std::set<uint32_t>> workers_of;  // flow -> workers that saw it
  std::map<uint32_t, int> frames_of;
  for (uint32_t w = 0; w < kWorkers; ++w) {
    for (uint32_t h : recorder->seen(w)) {
      workers_of[h].insert(w);
      ++frames_of[h];
    }
  }
  ASSERT_EQ(workers_of.size(), kFlows);
  uint32_t owned[kWorkers] = {};
  for (const auto& [h, ws] : workers_of) {
    EXPECT_EQ(ws.size(), 1u) << "flow " << h << " was seen by both workers";
    EXPECT_EQ(frames_of[h], 2) << "flow " << h << ": both directions";
    ++owned[*ws.begin()];
  }
  EXPECT_GT(owned[0], 0u);
  EXPECT_GT(owned[1], 0u);

  // The fast path and the gateway tables go first (they retire through the
  // dataplane's reclaimer), then the dataplane.
  fp.reset();
  gw.reset();
  dp.reset();
  Drain(punt.to_kernel);
  rte_ring_free(punt.to_kernel);
  for (int i = 0; i < 2; ++i) {
    for (uint16_t q = 0; q < queues; ++q) {
      Drain(rx[i][q]);
      rte_ring_free(rx[i][q]);
    }
    Drain(tx[i]);
    rte_ring_free(tx[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(RxQueuesPerPort, GatewayFlowAffinity, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<uint16_t>& p) {
                           return std::to_string(p.param) + (p.param == 1 ? "Queue" : "Queues");
                         });

}  // namespace
}  // namespace hnv::gateway::test
