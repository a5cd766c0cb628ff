#include "tests/lib/pipeline_harness.h"

#include <gtest/gtest.h>
#include <rte_malloc.h>

#include <atomic>

namespace hnv::test {
namespace {
std::atomic<int> g_instance{0};
}

uint16_t CaptureSink::Send(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept {
  for (uint16_t i = 0; i < n; ++i) {
    if (capture) {
      const rte_mbuf* m = pkts[i];
      TxFrame t{port, {}, (m->ol_flags & RTE_MBUF_F_RX_LRO) != 0, static_cast<uint16_t>(m->tso_segsz)};
      for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
        const uint8_t* d = rte_pktmbuf_mtod(s, const uint8_t*);
        t.bytes.insert(t.bytes.end(), d, d + rte_pktmbuf_data_len(s));
      }
      if (!t.large) t.mss = 0;
      frames.push_back(std::move(t));
    }
    rte_pktmbuf_free(pkts[i]);
  }
  sent += n;
  return n;
}

TableLimits SmallLimitsForTest() {
  TableLimits l;
  l.max_records = 4096;
  l.max_routes = 1024;
  l.max_rds = 64;
  l.max_peers = 256;
  l.max_workers = 4;
  return l;
}

PipelineHarness::PipelineHarness(const Policy& policy, const TableLimits& limits_in) {
  const int id = g_instance.fetch_add(1);
  TableLimits limits = limits_in;
  limits.name = "h" + std::to_string(id);
  const size_t sz = rte_rcu_qsbr_get_memsize(limits.max_workers);
  qsv_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("qsv", sz, RTE_CACHE_LINE_SIZE));
  rte_rcu_qsbr_init(qsv_, limits.max_workers);
  rte_rcu_qsbr_thread_register(qsv_, 0);
  pool_ = CreatePacketPool(("hp" + std::to_string(id)).c_str(), 8191, SOCKET_ID_ANY);
  events_ = rte_ring_create_elem(("he" + std::to_string(id)).c_str(), sizeof(Event), 4096,
                                 SOCKET_ID_ANY, RING_F_SC_DEQ);
  std::string error;
  tables_ = PolicyTables::Create(limits, qsv_, &error);
  EXPECT_NE(pool_, nullptr);
  EXPECT_NE(events_, nullptr);
  EXPECT_TRUE(tables_ != nullptr) << error;
  ctx_.worker_id = 0;
  ctx_.tables = tables_.get();
  ctx_.pool = pool_;
  ctx_.events = events_;
  ctx_.tx = &sink_;
  ctx_.counters = &counters_;
  EXPECT_TRUE(acl_sessions_.Init(1024, 1));
  ctx_.acl_sessions = &acl_sessions_;
  if (tables_) {
    tables_->SetMeterReset([this](const std::vector<uint16_t>& slots) {
      for (uint16_t s : slots) counters_.acl_meter_packets[s] = counters_.acl_meter_bytes[s] = 0;
    });
  }
  Apply(policy);
}

PipelineHarness::~PipelineHarness() {
  tables_.reset();
  rte_ring_free(events_);
  rte_mempool_free(pool_);
  rte_free(qsv_);
}

void PipelineHarness::Apply(const Policy& policy) {
  std::string error;
  EXPECT_TRUE(tables_->Apply(policy, &error)) << error;
  tables_->Synchronize();
}

void PipelineHarness::ResolveNeighbors(const MacAddr& mac) {
  for (const auto& p : tables_->Unresolved()) tables_->LearnNeighbor(p.port, p.next_hop, mac);
}

void PipelineHarness::RunMbufs(uint16_t port, rte_mbuf** pkts, uint16_t n) {
  rte_rcu_qsbr_thread_online(qsv_, 0);
  ctx_.snap = tables_->snapshot();
  pipeline_.ProcessRx(ctx_, port, pkts, n);
  ctx_.FlushTx();
  rte_rcu_qsbr_quiescent(qsv_, 0);
  rte_rcu_qsbr_thread_offline(qsv_, 0);
}

rte_mbuf* PipelineHarness::MakeMbuf(const std::vector<uint8_t>& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) return nullptr;
  char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (d == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(d, frame.data(), frame.size());
  return m;
}

std::vector<TxFrame> PipelineHarness::RunBurst(uint16_t port,
                                               const std::vector<std::vector<uint8_t>>& frames) {
  sink_.frames.clear();
  std::vector<rte_mbuf*> mbufs;
  for (const auto& f : frames) {
    rte_mbuf* m = MakeMbuf(f);
    EXPECT_NE(m, nullptr);
    if (m != nullptr) mbufs.push_back(m);
  }
  for (size_t off = 0; off < mbufs.size(); off += kBurstSize) {
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>(kBurstSize, mbufs.size() - off));
    RunMbufs(port, mbufs.data() + off, n);
  }
  return std::move(sink_.frames);
}

std::vector<TxFrame> PipelineHarness::Run(uint16_t port, const std::vector<uint8_t>& frame) {
  return RunBurst(port, {frame});
}

uint64_t PipelineHarness::total_drops() const {
  uint64_t t = 0;
  for (uint64_t d : counters_.drops) t += d;
  return t;
}

std::vector<Event> PipelineHarness::DrainEvents() {
  std::vector<Event> out;
  Event e;
  while (rte_ring_sc_dequeue_elem(events_, &e, sizeof(Event)) == 0) out.push_back(e);
  return out;
}

void PipelineHarness::ProcessEvents() {
  for (const Event& e : DrainEvents()) ApplyEvent(*tables_, e);
  tables_->Synchronize();
}

}  // namespace hnv::test
