#include "dataplane/runtime/dataplane.h"
#include "dataplane/runtime/rss.h"

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <algorithm>

#include "dataplane/packet/build.h"
#include "dataplane/pipeline/gro.h"
#include "dataplane/pipeline/gso.h"
#include "dataplane/pipeline/port_acl.h"
#include "dataplane/policy/tsan.h"

namespace hnv {
namespace {
std::atomic<int> g_instances{0};
constexpr unsigned kCommandRingSize = 1024;
constexpr unsigned kHandoffRingSize = 4096;
// Retirements waiting for a grace period before a writer has to wait for the
// workers (32 B each: 8 MiB). A million-record policy diff retires a slot per
// changed record; grace periods end within a worker loop iteration.
constexpr uint32_t kReclaimerSize = 1u << 18;
}  // namespace

// One control -> worker command: a frame to transmit, or a call to make on
// the worker (RunOnWorkers).
struct Dataplane::Command {
  enum Kind : uint32_t { kTransmit, kCall } kind;
  uint16_t port;
  rte_mbuf* m;
  const std::function<void(WorkerContext&)>* fn;
};

// Transmits on the worker's own queue of each port; a port with no ethdev and
// no VnetPort is a virtual one, handed to the extension (if any). Guest
// offloads (see dataplane.h): a burst for a port that takes large segments
// is coalesced first; one for any other port is split where it holds large
// segments.
class Dataplane::EthTx final : public TxSink {
 public:
  EthTx(const Dataplane* dp, WorkerContext* ctx, uint16_t queue) : dp_(dp), ctx_(ctx), queue_(queue) {}
  uint16_t Send(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override {
    if (dp_->takes_large_[port]) return SendCoalesced(port, pkts, n);
    if (dp_->any_rx_offloads_) [[unlikely]] {
      for (uint16_t i = 0; i < n; ++i)
        if (IsLarge(pkts[i])) return SendSegmented(port, pkts, n, i);
    }
    return SendRaw(port, pkts, n);
  }

 private:
  uint16_t SendRaw(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept {
    const uint16_t eth = dp_->eth_of_[port];
    if (eth != kNoPort) {
      TsanReleaseMbufs(pkts, n);
      return rte_eth_tx_burst(eth, queue_, pkts, n);
    }
    if (VnetPort* v = dp_->vnet_[port].get()) return v->Send(queue_, pkts, n);
    if (dp_->ext_ == nullptr) return 0;
    dp_->ext_->DeliverVirtual(*ctx_, port, pkts, n);
    return n;
  }
  // Sends frames this class made or merged itself: what the port does not
  // take is dropped here (kTxFull) and taken off the port's transmit
  // counters, which the caller (WorkerContext::FlushPort) counted for the
  // frames it handed over.
  void SendOwn(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept {
    const uint16_t sent = SendRaw(port, pkts, n);
    for (uint16_t i = sent; i < n; ++i) {
      --ctx_->counters->tx_packets[port];
      ctx_->counters->tx_bytes[port] -= rte_pktmbuf_pkt_len(pkts[i]);
      ctx_->Discard(pkts[i], Drop::kTxFull);
    }
  }
  uint16_t SendCoalesced(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept {
    SendOwn(port, pkts, CoalesceTcp(pkts, n, &ctx_->counters->coalesced));
    return n;
  }
  // From pkts[first] on, large segments leave as frames of their MSS.
  uint16_t SendSegmented(uint16_t port, rte_mbuf** pkts, uint16_t n, uint16_t first) noexcept {
    rte_mbuf* out[kBurstSize];
    uint16_t k = 0;
    if (first != 0) SendOwn(port, pkts, first);
    auto put = [&](rte_mbuf* m) {
      out[k++] = m;
      if (k == kBurstSize) {
        SendOwn(port, out, k);
        k = 0;
      }
    };
    for (uint16_t i = first; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      if (!IsLarge(m)) {
        put(m);
        continue;
      }
      ParsedFrame pf;
      Segmenter seg;
      if (ParseFrame(Data(m), rte_pktmbuf_pkt_len(m), &pf) != ParseError::kOk ||
          !seg.Start(m, pf, m->tso_segsz)) {
        ctx_->Discard(m, Drop::kGsoUnsupported);
        continue;
      }
      while (rte_mbuf* piece = seg.Next(ctx_->pool)) put(piece);
      if (seg.failed()) ++ctx_->counters->drops[static_cast<uint16_t>(Drop::kNoMbuf)];
      ++ctx_->counters->segmented;
      rte_pktmbuf_free(m);
    }
    if (k != 0) SendOwn(port, out, k);
    return n;
  }

  const Dataplane* dp_;
  WorkerContext* ctx_;
  uint16_t queue_;
};

struct Dataplane::Worker {
  Dataplane* dp = nullptr;
  unsigned lcore = 0;
  uint32_t id = 0;
  struct RxQueue {
    uint16_t port;   // policy port index
    uint16_t queue;  // its receive queue this worker polls
  };
  std::vector<RxQueue> ports;  // what this worker receives
  rte_ring* commands = nullptr;  // control -> worker (Command)
  std::atomic<uint64_t> calls_done{0};  // kCall commands run (release: what they wrote is visible)
  uint64_t calls_posted = 0;            // control thread's count
  std::unique_ptr<EthTx> tx;
  WorkerCounters counters;
  WorkerCounters published;  // its copy for the control thread (Counters)
  AclSessions acl_sessions;  // the stateful port ACLs' sessions of its ports
  WorkerContext ctx;
  Pipeline pipeline;
};

Dataplane::Dataplane(const DataplaneConfig& cfg) : cfg_(cfg) { eth_of_.fill(kNoPort); }

std::unique_ptr<Dataplane> Dataplane::Create(const DataplaneConfig& cfg, std::string* error) {
  std::unique_ptr<Dataplane> dp(new Dataplane(cfg));
  if (!dp->Init(error)) return nullptr;
  return dp;
}

bool Dataplane::Init(std::string* error) {
  if (cfg_.worker_lcores.empty()) {
    *error = "no worker lcore configured";
    return false;
  }
  name_ = "dp" + std::to_string(g_instances.fetch_add(1));
  const uint32_t n = static_cast<uint32_t>(cfg_.worker_lcores.size());
  cfg_.limits.max_workers = n;
  if (cfg_.limits.name == "hnv") cfg_.limits.name = name_;
  qsv_ = static_cast<rte_rcu_qsbr*>(
      rte_zmalloc("hnv_qsv", rte_rcu_qsbr_get_memsize(n), RTE_CACHE_LINE_SIZE));
  if (qsv_ == nullptr || rte_rcu_qsbr_init(qsv_, n) != 0) {
    *error = "RCU QSBR variable: out of DPDK memory";
    return false;
  }
  pool_ = CreatePacketPool((name_ + "_pool").c_str(), cfg_.mbufs, static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr) {
    *error = std::string("mbuf pool: ") + rte_strerror(rte_errno);
    return false;
  }
  events_ = rte_ring_create_elem((name_ + "_ev").c_str(), sizeof(Event), 8192,
                                 static_cast<int>(rte_socket_id()), RING_F_SC_DEQ);
  if (events_ == nullptr) {
    *error = std::string("event ring: ") + rte_strerror(rte_errno);
    return false;
  }
  reclaimer_ = Reclaimer::Create(qsv_, name_ + "_rcl", kReclaimerSize, error);
  if (!reclaimer_) return false;
  tables_ = PolicyTables::Create(cfg_.limits, *reclaimer_, error);
  if (!tables_) return false;
  // A meter slot given to a new rule: no worker still counts for the rule
  // that had it once the workers passed a quiescent state (the snapshot that
  // dropped that rule is published already); then each zeroes its counts.
  tables_->SetMeterReset([this](const std::vector<uint16_t>& slots) {
    if (running()) SynchronizeWorkers();
    RunOnWorkers([&slots](WorkerContext& ctx) {
      for (uint16_t s : slots) ctx.counters->acl_meter_packets[s] = ctx.counters->acl_meter_bytes[s] = 0;
    });
  });
  for (uint32_t i = 0; i < n; ++i) {
    rte_ring* r = rte_ring_create((name_ + "_ho" + std::to_string(i)).c_str(), kHandoffRingSize,
                                  static_cast<int>(rte_socket_id()), RING_F_SC_DEQ);
    if (r == nullptr) {
      *error = std::string("handoff ring: ") + rte_strerror(rte_errno);
      return false;
    }
    handoff_.push_back(r);
  }
  for (uint32_t i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->dp = this;
    w->id = i;
    w->lcore = cfg_.worker_lcores[i];
    w->commands = rte_ring_create_elem((name_ + "_cmd" + std::to_string(i)).c_str(), sizeof(Command),
                                       kCommandRingSize, static_cast<int>(rte_socket_id()),
                                       RING_F_SC_DEQ);
    if (w->commands == nullptr) {
      *error = std::string("command ring: ") + rte_strerror(rte_errno);
      return false;
    }
    w->tx = std::make_unique<EthTx>(this, &w->ctx, static_cast<uint16_t>(i));
    w->ctx.worker_id = i;
    w->ctx.workers = n;
    w->ctx.handoff = handoff_.data();
    w->ctx.tables = tables_.get();
    w->ctx.pool = pool_;
    w->ctx.events = events_;
    w->ctx.tx = w->tx.get();
    w->ctx.counters = &w->counters;
    if (!w->acl_sessions.Init(AclSessions::kDefaultCapacity, 0x5eed0000u + i)) {
      *error = "port ACL session table: out of memory";
      return false;
    }
    w->ctx.acl_sessions = &w->acl_sessions;
    rte_rcu_qsbr_thread_register(qsv_, i);
    workers_.push_back(std::move(w));
  }
  return true;
}

Dataplane::~Dataplane() {
  Stop();
  for (uint16_t i = 0; i < kMaxPorts; ++i) {
    if (eth_of_[i] == kNoPort) continue;
    rte_eth_dev_stop(eth_of_[i]);
    rte_eth_dev_close(eth_of_[i]);
  }
  tables_.reset();
  reclaimer_.reset();
  for (auto& w : workers_) {
    Command c;
    while (rte_ring_dequeue_elem(w->commands, &c, sizeof(c)) == 0)
      if (c.kind == Command::kTransmit) rte_pktmbuf_free(c.m);
    rte_ring_free(w->commands);
  }
  for (rte_ring* r : handoff_) {
    rte_mbuf* m;
    while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    rte_ring_free(r);
  }
  rte_ring_free(events_);
  rte_mempool_free(pool_);
  rte_free(qsv_);
}

bool Dataplane::AttachPort(uint16_t index, const std::string& device, std::string* error,
                           bool spread) {
  if (VnetPort::Names(device)) {
    if (index >= kMaxPorts || eth_of_[index] != kNoPort || vnet_[index] != nullptr || running()) {
      *error = "port " + std::to_string(index) + ": index out of range, already attached or running";
      return false;
    }
    vnet_[index] = VnetPort::Open(device, static_cast<uint16_t>(workers_.size()), pool_, error);
    if (vnet_[index] == nullptr) {
      *error = "port " + std::to_string(index) + ": " + *error;
      return false;
    }
    rx_offloads_[index] = true;
    takes_large_[index] = vnet_[index]->takes_large();
    any_rx_offloads_ = true;
    workers_[index % workers_.size()]->ports.push_back({index, 0});
    return true;
  }
  const std::string name = device.substr(0, device.find(','));
  uint16_t eth = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &eth) != 0) {
    if (rte_dev_probe(device.c_str()) != 0 ||
        rte_eth_dev_get_port_by_name(name.c_str(), &eth) != 0) {
      *error = "port " + std::to_string(index) + ": cannot probe '" + device + "'";
      return false;
    }
  }
  return AttachEthPort(index, eth, error, spread);
}

bool Dataplane::AttachEthPort(uint16_t index, uint16_t eth, std::string* error, bool spread) {
  const std::string where = "port " + std::to_string(index) + " (ethdev " + std::to_string(eth) + ")";
  if (index >= kMaxPorts || eth_of_[index] != kNoPort || vnet_[index] != nullptr) {
    *error = where + ": index out of range or already attached";
    return false;
  }
  if (running()) {
    *error = where + ": attach before Start";
    return false;
  }
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(eth, &info) != 0) {
    *error = where + ": no device info";
    return false;
  }
  const uint16_t txq = static_cast<uint16_t>(workers_.size());
  if (info.max_tx_queues < txq) {
    *error = where + ": needs " + std::to_string(txq) + " TX queues (one per worker), has " +
             std::to_string(info.max_tx_queues) + " (net_af_packet: add qpairs=N)";
    return false;
  }
  const uint16_t rxq = spread ? RxQueuesFor(info, txq) : 1;
  rte_eth_conf conf{};
  ConfigureRss(info, rxq, &conf);
  int rc = rte_eth_dev_configure(eth, rxq, txq, &conf);
  for (uint16_t q = 0; rc == 0 && q < rxq; ++q)
    rc = rte_eth_rx_queue_setup(eth, q, cfg_.rx_descriptors, rte_eth_dev_socket_id(eth), nullptr,
                                pool_);
  for (uint16_t q = 0; rc == 0 && q < txq; ++q)
    rc = rte_eth_tx_queue_setup(eth, q, cfg_.tx_descriptors, rte_eth_dev_socket_id(eth), nullptr);
  if (rc == 0) rc = rte_eth_dev_start(eth);
  if (rc == 0) rte_eth_promiscuous_enable(eth);  // PAs and VM MACs are not the NIC's
  if (rc != 0) {
    *error = where + ": setup failed: " + rte_strerror(-rc);
    return false;
  }
  eth_of_[index] = eth;
  // A driver with checksum or LRO receive offloads (net_vhost) may hand over
  // partial checksums and large segments.
  constexpr uint64_t kGuestRx = RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
                                RTE_ETH_RX_OFFLOAD_TCP_LRO;
  if ((info.rx_offload_capa & kGuestRx) != 0) rx_offloads_[index] = any_rx_offloads_ = true;
  if (rxq == 1) {
    workers_[index % workers_.size()]->ports.push_back({index, 0});
  } else {
    for (uint16_t q = 0; q < rxq; ++q) workers_[q]->ports.push_back({index, q});
  }
  return true;
}

void Dataplane::RunCommands(Worker& w) {
  Command c[kBurstSize];
  const unsigned k = rte_ring_sc_dequeue_burst_elem(w.commands, c, sizeof(Command), kBurstSize, nullptr);
  for (unsigned i = 0; i < k; ++i) {
    if (c[i].kind == Command::kTransmit) {
      w.ctx.Transmit(c[i].port, c[i].m);
    } else {
      (*c[i].fn)(w.ctx);
      w.calls_done.fetch_add(1, std::memory_order_release);
    }
  }
}

int Dataplane::WorkerMain(void* arg) {
  auto* w = static_cast<Worker*>(arg);
  TsanAcquire(w);  // what the control thread did before launching us
  Dataplane* dp = w->dp;
  rte_rcu_qsbr_thread_online(dp->qsv_, w->id);
  rte_mbuf* pkts[kBurstSize];
  while (dp->running_.load(std::memory_order_relaxed)) {
    w->ctx.snap = dp->tables_->snapshot();
    RunCommands(*w);
    WorkerExtension* ext = dp->ext_;
    // Up to two bursts: peers may each hand over up to one per iteration.
    // Without an extension, what is handed over is a delivery to a port
    // whose stateful ACL sessions this worker owns (WorkerContext::
    // FilterDelivery): transmitted from here, checked when flushed.
    for (int round = 0; round < 2; ++round) {
      const unsigned h = rte_ring_sc_dequeue_burst(dp->handoff_[w->id],
                                                   reinterpret_cast<void**>(pkts), kBurstSize, nullptr);
      if (h == 0) break;
      w->counters.handoff_in += h;
      if (ext != nullptr) {
        ext->ReceiveHandoff(w->ctx, w->pipeline, pkts, static_cast<uint16_t>(h));
      } else {
        TsanAcquireMbufs(pkts, static_cast<uint16_t>(h));
        for (unsigned i = 0; i < h; ++i) w->ctx.Transmit(Meta(pkts[i])->out_port, pkts[i]);
      }
    }
    const uint32_t large_floor = LargeSegmentFloor(w->ctx.snap->settings.underlay_mtu);
    for (const Worker::RxQueue& rx : w->ports) {
      const uint16_t index = rx.port;
      uint16_t n;
      if (VnetPort* v = dp->vnet_[index].get()) {
        n = v->Receive(pkts, kBurstSize, large_floor);
      } else {
        n = rte_eth_rx_burst(dp->eth_of_[index], rx.queue, pkts, kBurstSize);
        if (n != 0 && dp->rx_offloads_[index]) FinishReceived(pkts, n, large_floor);
      }
      if (n == 0) continue;
      TsanAcquireMbufs(pkts, n);
      if (ext != nullptr && w->ctx.snap->ports[index].kind == PortKind::kUnused)
        ext->Receive(w->ctx, w->pipeline, index, pkts, n);
      else
        w->pipeline.ProcessRx(w->ctx, index, pkts, n);
    }
    if (ext != nullptr) ext->Poll(w->ctx, w->pipeline);
    w->ctx.FlushTx();
    rte_rcu_qsbr_quiescent(dp->qsv_, w->id);  // no reference survives past here
  }
  rte_rcu_qsbr_thread_offline(dp->qsv_, w->id);
  TsanRelease(w);  // to the control thread's rte_eal_wait_lcore
  return 0;
}

bool Dataplane::Start(std::string* error) {
  if (running()) return true;
  running_.store(true);
  for (auto& w : workers_) {
    TsanRelease(w.get());
    if (rte_eal_remote_launch(&Dataplane::WorkerMain, w.get(), w->lcore) != 0) {
      *error = "cannot launch a worker on lcore " + std::to_string(w->lcore) +
               " (is it an EAL worker lcore, and idle?)";
      Stop();
      return false;
    }
  }
  return true;
}

void Dataplane::Stop() {
  if (!running_.exchange(false)) return;
  for (auto& w : workers_) {
    rte_eal_wait_lcore(w->lcore);
    TsanAcquire(w.get());
  }
}

bool Dataplane::Inject(uint16_t port, rte_mbuf* m) {
  const Command c{Command::kTransmit, port, m, nullptr};
  if (rte_ring_mp_enqueue_elem(workers_[0]->commands, const_cast<Command*>(&c), sizeof(c)) != 0) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

void Dataplane::RunOnWorkers(const std::function<void(WorkerContext&)>& fn) const {
  if (!running()) {
    for (const auto& w : workers_) fn(w->ctx);
    return;
  }
  for (const auto& w : workers_) {
    const Command c{Command::kCall, 0, nullptr, &fn};
    while (rte_ring_mp_enqueue_elem(w->commands, const_cast<Command*>(&c), sizeof(c)) != 0)
      rte_pause();  // the worker is draining it
    ++w->calls_posted;
  }
  // Workers never block: each takes its commands within a loop iteration.
  for (const auto& w : workers_)
    while (w->calls_done.load(std::memory_order_acquire) < w->calls_posted) rte_pause();
}

void Dataplane::SendResolutionRequests() {
  const uint64_t now = rte_get_tsc_cycles();
  const double hz = static_cast<double>(rte_get_tsc_hz());
  const auto first = static_cast<uint64_t>(cfg_.resolve_interval_s * hz);
  const auto most = std::max(first, static_cast<uint64_t>(cfg_.resolve_max_interval_s * hz));
  std::map<std::pair<uint16_t, IpAddr>, Backoff> still;  // resolved ones are forgotten
  for (const auto& p : tables_->TakeUnresolved()) {
    const auto key = std::make_pair(p.port, p.next_hop);
    auto it = resolving_.find(key);
    const Backoff b = it == resolving_.end() ? Backoff{} : it->second;
    // Traffic waiting for this next hop (a worker dropped a frame for it
    // since the last round) has it asked for every `first` again, not
    // after the backed-off wait; without traffic the wait doubles.
    const uint64_t wait = p.wanted ? std::min(b.wait, first) : b.wait;
    if (now - b.last_tsc < wait) {
      still.emplace(key, b);
      continue;
    }
    still.emplace(key, Backoff{now, p.wanted || b.wait == 0 ? first : std::min(b.wait * 2, most)});
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) continue;  // asked again at its next turn
    uint8_t* out = rte_pktmbuf_mtod(m, uint8_t*);
    const uint32_t cap = rte_pktmbuf_tailroom(m);
    const uint32_t len =
        p.next_hop.is_v4()
            ? BuildArpRequest(out, cap, p.local_mac, p.local_pa, p.next_hop, p.vlan)
            : BuildNeighborSolicit(out, cap, p.local_mac, p.local_pa, p.next_hop, p.vlan);
    if (len == 0) {
      rte_pktmbuf_free(m);
      continue;
    }
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = len;
    Inject(p.port, m);
  }
  resolving_ = std::move(still);
}

void Dataplane::Poll() {
  Event e;
  while (rte_ring_sc_dequeue_elem(events_, &e, sizeof(Event)) == 0) ApplyEvent(*tables_, e);
  const uint64_t now = rte_get_tsc_cycles();
  if (now - last_resolve_tsc_ > static_cast<uint64_t>(cfg_.resolve_interval_s * rte_get_tsc_hz())) {
    last_resolve_tsc_ = now;
    SendResolutionRequests();
  }
  reclaimer_->Reclaim();
}

bool Dataplane::Losses(uint16_t index, PortLosses* out) const {
  if (VnetPort* v = vnet_port(index)) {
    const VnetPort::Stats st = v->ReadStats();
    out->rx_missed = st.rx_dropped;
    out->rx_errors = st.rx_errors;
    out->rx_nombuf = st.rx_nombuf;
    out->tx_errors = st.tx_errors;
    return true;
  }
  const uint16_t eth = eth_port(index);
  rte_eth_stats st{};
  if (eth == kNoPort || rte_eth_stats_get(eth, &st) != 0) return false;
  out->rx_missed = st.imissed;
  out->rx_errors = st.ierrors;
  out->rx_nombuf = st.rx_nombuf;
  out->tx_errors = st.oerrors;
  return true;
}

void Dataplane::SynchronizeWorkers() { rte_rcu_qsbr_synchronize(qsv_, RTE_QSBR_THRID_INVALID); }

WorkerCounters Dataplane::Counters() const {
  RunOnWorkers([this](WorkerContext& ctx) { workers_[ctx.worker_id]->published = *ctx.counters; });
  WorkerCounters sum;
  auto add = [](uint64_t* dst, const uint64_t* src, size_t n) {
    for (size_t i = 0; i < n; ++i) dst[i] += src[i];
  };
  for (const auto& w : workers_) {
    const WorkerCounters& c = w->published;
    add(sum.drops, c.drops, kDropCount);
    add(sum.rx_packets, c.rx_packets, kMaxPorts);
    add(sum.rx_bytes, c.rx_bytes, kMaxPorts);
    add(sum.tx_packets, c.tx_packets, kMaxPorts);
    add(sum.tx_bytes, c.tx_bytes, kMaxPorts);
    add(sum.acl_meter_packets, c.acl_meter_packets, kMaxAclMeters);
    add(sum.acl_meter_bytes, c.acl_meter_bytes, kMaxAclMeters);
    // The scalar counters follow the arrays contiguously.
    const uint64_t* src = &c.switched;
    uint64_t* dst = &sum.switched;
    add(dst, src, static_cast<size_t>(&c.events_lost - &c.switched) + 1);
  }
  return sum;
}

}  // namespace hnv
