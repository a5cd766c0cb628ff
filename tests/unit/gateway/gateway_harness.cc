#include "tests/unit/gateway/gateway_harness.h"

#include <gtest/gtest.h>
#include <rte_malloc.h>

#include <atomic>
#include <string>

namespace hnv::gateway::test {
namespace {
std::atomic<int> g_instance{0};
using hnv::test::Ip;
using hnv::test::Mac;
using hnv::test::Prefix;
}  // namespace

Policy GatewayHostPolicy() {
  Policy p = hnv::test::ChapterGatewayHost();
  for (VmPort& v : p.vm_ports) {
    if (v.vm_name != "MT-GW") continue;
    v.port = kContosoVmPort;
    v.Trust();  // a compartment's port, as config/gateway_config.cc makes it
  }
  return p;
}

CompartmentLayout ContosoLayout(uint16_t vlan) {
  CompartmentLayout l;
  l.vm_port = kContosoVmPort;
  l.vm_mac = Mac("600160010301");
  l.vm_mtu = 1458;
  l.external.push_back(InterfaceLayout{kExtPort, vlan, kContosoExtMac, 1500});
  l.max_routes = 1024;
  return l;
}

void SetUpContoso(GatewayTables& t, uint16_t vlan) {
  std::string error;
  ASSERT_TRUE(t.SetCompartment(kContoso, ContosoLayout(vlan), &error)) << error;
  ASSERT_TRUE(t.SetRoute(kContoso, Prefix("10.1.3.0/24"), {NextHopKind::kForward, 1, IpAddr{}},
                         &error))
      << error;
  ASSERT_TRUE(t.SetRoute(kContoso, Prefix("10.0.1.0/24"),
                         {NextHopKind::kForward, 0, Ip("10.0.2.1")}, &error))
      << error;
  ASSERT_TRUE(t.SetRoute(kContoso, Prefix("10.0.2.2/32"), {NextHopKind::kLocal, 0, {}}, &error))
      << error;
  ASSERT_TRUE(t.SetRoute(kContoso, Prefix("10.1.3.2/32"), {NextHopKind::kLocal, 0, {}}, &error))
      << error;
  ASSERT_TRUE(t.SetNeighbor(kContoso, 1, Ip("10.1.3.100"), kPhysicalMac, &error)) << error;
  ASSERT_TRUE(t.SetNeighbor(kContoso, 0, Ip("10.0.2.1"), Mac("600160010300"), &error)) << error;
  t.Synchronize();
}

uint16_t GatewaySink::Send(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept {
  if (fast_path != nullptr && port >= kFirstVirtualPort &&
      port < kFirstVirtualPort + kMaxCompartments) {
    fast_path->DeliverVirtual(*ctx, port, pkts, n);
    return n;
  }
  for (uint16_t i = 0; i < n; ++i) {
    if (capture) {
      const uint8_t* d = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
      frames.push_back({port, Frame(d, d + rte_pktmbuf_data_len(pkts[i]))});
    }
    rte_pktmbuf_free(pkts[i]);
  }
  sent += n;
  return n;
}

GatewayHarness::GatewayHarness(const Policy& policy, unsigned ring_size) {
  const std::string id = std::to_string(g_instance.fetch_add(1));
  TableLimits limits = hnv::test::SmallLimitsForTest();
  limits.name = "g" + id;
  const size_t sz = rte_rcu_qsbr_get_memsize(limits.max_workers);
  qsv_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("gqsv", sz, RTE_CACHE_LINE_SIZE));
  rte_rcu_qsbr_init(qsv_, limits.max_workers);
  rte_rcu_qsbr_thread_register(qsv_, 0);
  pool_ = CreatePacketPool(("gp" + id).c_str(), 8191, SOCKET_ID_ANY);
  events_ = rte_ring_create_elem(("ge" + id).c_str(), sizeof(Event), 4096, SOCKET_ID_ANY,
                                 RING_F_SC_DEQ);
  rings_.to_kernel = rte_ring_create(("gk" + id).c_str(), ring_size, SOCKET_ID_ANY, RING_F_SC_DEQ);
  rings_.from_kernel = rte_ring_create(("gf" + id).c_str(), ring_size, SOCKET_ID_ANY,
                                       RING_F_SP_ENQ | RING_F_SC_DEQ);
  handoff_ = rte_ring_create(("gh" + id).c_str(), 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
  EXPECT_NE(handoff_, nullptr);
  EXPECT_NE(pool_, nullptr);
  EXPECT_NE(events_, nullptr);
  EXPECT_NE(rings_.to_kernel, nullptr);
  EXPECT_NE(rings_.from_kernel, nullptr);
  std::string error;
  tables_ = PolicyTables::Create(limits, qsv_, &error);
  EXPECT_TRUE(tables_ != nullptr) << error;
  EXPECT_TRUE(tables_->Apply(policy, &error)) << error;
  // The chapter's PAs share one /24: each is its own provider next hop.
  tables_->LearnNeighbor(kUplink, Ip("192.168.0.22"), hnv::test::pipe::kPa1Mac);
  tables_->LearnNeighbor(kUplink, Ip("192.168.0.33"), hnv::test::pipe::kPa2Mac);
  tables_->Synchronize();
  GatewayLimits gl;
  gl.name = "gt" + id;
  gl.max_neighbors = 1024;
  gw_ = GatewayTables::Create(gl, qsv_, &error);
  EXPECT_TRUE(gw_ != nullptr) << error;
  fp_ = std::make_unique<GatewayFastPath>(gw_.get(), rings_, 1);
  ctx_.worker_id = 0;
  ctx_.handoff = &handoff_;
  ctx_.tables = tables_.get();
  ctx_.pool = pool_;
  ctx_.events = events_;
  ctx_.tx = &sink_;
  ctx_.counters = &counters_;
  sink_.fast_path = fp_.get();
  sink_.ctx = &ctx_;
}

GatewayHarness::~GatewayHarness() {
  DrainPunts();
  rte_mbuf* m;
  while (rte_ring_dequeue(rings_.from_kernel, reinterpret_cast<void**>(&m)) == 0)
    rte_pktmbuf_free(m);
  while (rte_ring_dequeue(handoff_, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
  rte_ring_free(handoff_);
  fp_.reset();
  gw_.reset();
  tables_.reset();
  rte_ring_free(rings_.to_kernel);
  rte_ring_free(rings_.from_kernel);
  rte_ring_free(events_);
  rte_mempool_free(pool_);
  rte_free(qsv_);
}

void GatewayHarness::BeginIteration() {
  rte_rcu_qsbr_thread_online(qsv_, 0);
  ctx_.snap = tables_->snapshot();
}

void GatewayHarness::EndIteration() {
  ctx_.FlushTx();
  rte_rcu_qsbr_quiescent(qsv_, 0);
  rte_rcu_qsbr_thread_offline(qsv_, 0);
}

void GatewayHarness::AsWorker(const std::function<void()>& f) {
  BeginIteration();
  f();
  EndIteration();
  gw_->Reclaim();
}

rte_mbuf* GatewayHarness::MakeMbuf(const Frame& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) return nullptr;
  char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (d == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  if (!frame.empty()) std::memcpy(d, frame.data(), frame.size());
  return m;
}

void GatewayHarness::RunExternalMbufs(uint16_t port, rte_mbuf** pkts, uint16_t n) {
  AsWorker([&] { fp_->Receive(ctx_, pipeline_, port, pkts, n); });
}

namespace {
template <typename F>
std::vector<TxFrame> RunChunks(GatewayHarness& h, const std::vector<Frame>& frames, F run) {
  h.sink().frames.clear();
  std::vector<rte_mbuf*> mbufs;
  for (const Frame& f : frames) {
    rte_mbuf* m = h.MakeMbuf(f);
    EXPECT_NE(m, nullptr);
    if (m != nullptr) mbufs.push_back(m);
  }
  for (size_t off = 0; off < mbufs.size(); off += kBurstSize) {
    const auto n = static_cast<uint16_t>(std::min<size_t>(kBurstSize, mbufs.size() - off));
    h.AsWorker([&] { run(mbufs.data() + off, n); });
  }
  h.RunHandoffs();
  return std::move(h.sink().frames);
}
}  // namespace

std::vector<TxFrame> GatewayHarness::RunExternal(uint16_t port, const std::vector<Frame>& frames) {
  return RunChunks(*this, frames, [&](rte_mbuf** p, uint16_t n) {
    fp_->Receive(ctx_, pipeline_, port, p, n);
  });
}

std::vector<TxFrame> GatewayHarness::RunUplink(const std::vector<Frame>& frames) {
  return RunChunks(*this, frames,
                   [&](rte_mbuf** p, uint16_t n) { pipeline_.ProcessRx(ctx_, kUplink, p, n); });
}

std::vector<TxFrame> GatewayHarness::RunDeliver(uint16_t vm_port, const std::vector<Frame>& frames) {
  return RunChunks(*this, frames,
                   [&](rte_mbuf** p, uint16_t n) { fp_->DeliverVirtual(ctx_, vm_port, p, n); });
}

void GatewayHarness::RunHandoffs() {
  for (int round = 0; round < 64 && rte_ring_count(handoff_) != 0; ++round) {
    AsWorker([&] {
      rte_mbuf* pkts[kBurstSize];
      const unsigned n = rte_ring_sc_dequeue_burst(handoff_, reinterpret_cast<void**>(pkts),
                                                   kBurstSize, nullptr);
      counters_.handoff_in += n;
      if (n != 0) fp_->ReceiveHandoff(ctx_, pipeline_, pkts, static_cast<uint16_t>(n));
    });
  }
}

std::vector<TxFrame> GatewayHarness::RunPoll() {
  sink_.frames.clear();
  AsWorker([&] { fp_->Poll(ctx_, pipeline_); });
  return std::move(sink_.frames);
}

bool GatewayHarness::InjectFromKernel(TapId tap, const Frame& frame) {
  rte_mbuf* m = MakeMbuf(frame);
  if (m == nullptr) return false;
  m->port = tap;
  if (rte_ring_sp_enqueue(rings_.from_kernel, m) != 0) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

std::vector<Punted> GatewayHarness::DrainPunts() {
  std::vector<Punted> out;
  rte_mbuf* m;
  while (rte_ring_sc_dequeue(rings_.to_kernel, reinterpret_cast<void**>(&m)) == 0) {
    const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
    out.push_back({m->port, Frame(d, d + rte_pktmbuf_data_len(m))});
    rte_pktmbuf_free(m);
  }
  return out;
}

uint64_t GatewayHarness::hnv_drops() const {
  uint64_t t = 0;
  for (uint64_t d : counters_.drops) t += d;
  return t;
}

std::string GatewayHarness::HnvDropSummary() const {
  std::string s;
  for (uint16_t d = 0; d < kDropCount; ++d)
    if (counters_.drops[d] != 0)
      s += std::string(DropName(static_cast<Drop>(d))) + "=" + std::to_string(counters_.drops[d]) +
           " ";
  return s.empty() ? "(none)" : s;
}

std::string Describe(const CompartmentCounters& c) {
  std::string s = "rx_vm=" + std::to_string(c.rx_vm.packets) +
                  " rx_ext=" + std::to_string(c.rx_external.packets) +
                  " fwd_ext=" + std::to_string(c.fwd_external.packets) +
                  " fwd_vm=" + std::to_string(c.fwd_vm.packets) +
                  " inj_vm=" + std::to_string(c.inject_vm.packets) +
                  " inj_ext=" + std::to_string(c.inject_external.packets) +
                  " punted=" + std::to_string(c.punted.packets);
  for (size_t i = 0; i < kPuntCount; ++i)
    if (c.punt[i] != 0)
      s += std::string(" punt:") + PuntName(static_cast<Punt>(i)) + "=" + std::to_string(c.punt[i]);
  for (size_t i = 0; i < kGwDropCount; ++i)
    if (c.drop[i] != 0)
      s += std::string(" drop:") + GwDropName(static_cast<GwDrop>(i)) + "=" +
           std::to_string(c.drop[i]);
  return s;
}

}  // namespace hnv::gateway::test
