#include "gateway/fastpath/gateway_fastpath.h"

#include <rte_lpm.h>

#include <cstring>

#include "dataplane/packet/checksum.h"
#include "dataplane/pipeline/kebab_names.h"
#include "dataplane/pipeline/stage_util.h"

namespace hnv::gateway {
namespace {

#define HNV_GW_NAME(name, text) #name,
#define HNV_GW_TEXT(name, text) text,
constexpr const char* kPuntIds[] = {HNV_GW_PUNT_REASONS(HNV_GW_NAME)};
constexpr const char* kPuntTexts[] = {HNV_GW_PUNT_REASONS(HNV_GW_TEXT)};
constexpr const char* kDropIds[] = {HNV_GW_DROP_REASONS(HNV_GW_NAME)};
constexpr const char* kDropTexts[] = {HNV_GW_DROP_REASONS(HNV_GW_TEXT)};
constexpr const char* kGlobalIds[] = {HNV_GW_GLOBAL_DROPS(HNV_GW_NAME)};
constexpr const char* kGlobalTexts[] = {HNV_GW_GLOBAL_DROPS(HNV_GW_TEXT)};
#undef HNV_GW_NAME
#undef HNV_GW_TEXT
constexpr KebabNames<kPuntCount> kPuntNames(kPuntIds);
constexpr KebabNames<kGwDropCount> kDropNames(kDropIds);
constexpr KebabNames<kGlobalDropCount> kGlobalNames(kGlobalIds);

constexpr uint16_t kEthLen = sizeof(EthHdr);
constexpr uint16_t kVlanLen = sizeof(VlanTag);

inline void Add(PacketsBytes& pb, const rte_mbuf* m) noexcept {
  ++pb.packets;
  pb.bytes += rte_pktmbuf_pkt_len(m);
}

}  // namespace

const char* PuntName(Punt p) {
  const auto i = static_cast<size_t>(p);
  return i < kPuntCount ? kPuntNames[i] : "unknown";
}
const char* PuntText(Punt p) {
  const auto i = static_cast<size_t>(p);
  return i < kPuntCount ? kPuntTexts[i] : "unknown";
}
const char* GwDropName(GwDrop d) {
  const auto i = static_cast<size_t>(d);
  return i < kGwDropCount ? kDropNames[i] : "unknown";
}
const char* GwDropText(GwDrop d) {
  const auto i = static_cast<size_t>(d);
  return i < kGwDropCount ? kDropTexts[i] : "unknown";
}
const char* GlobalDropName(GlobalDrop d) {
  const auto i = static_cast<size_t>(d);
  return i < kGlobalDropCount ? kGlobalNames[i] : "unknown";
}
const char* GlobalDropText(GlobalDrop d) {
  const auto i = static_cast<size_t>(d);
  return i < kGlobalDropCount ? kGlobalTexts[i] : "unknown";
}

GatewayFastPath::GatewayFastPath(const GatewayTables* tables, PuntRings rings, uint32_t workers)
    : tables_(tables),
      rings_(rings),
      worker_count_(workers == 0 ? 1 : workers),
      workers_(std::make_unique<PerWorker[]>(worker_count_)),
      base_(std::make_unique<CompartmentCounters[]>(kMaxCompartments)) {}

GatewayFastPath::~GatewayFastPath() = default;

void GatewayFastPath::FlushPunts(GwBatch& b, GwWorkerState& w) noexcept {
  if (b.n_punt == 0) return;
  const unsigned sent =
      rings_.to_kernel == nullptr
          ? 0
          : rte_ring_mp_enqueue_burst(rings_.to_kernel, reinterpret_cast<void**>(b.punt),
                                      b.n_punt, nullptr);
  for (unsigned i = 0; i < b.n_punt; ++i) {
    CompartmentCounters& c = w.c[b.punt_compartment[i]];
    if (i < sent) {
      ++c.punt[static_cast<size_t>(b.punt_why[i])];
      ++c.punted.packets;
      c.punted.bytes += b.punt_bytes[i];
    } else {
      ++c.drop[static_cast<size_t>(GwDrop::kPuntRingFull)];
      rte_pktmbuf_free(b.punt[i]);
    }
  }
  b.n_punt = 0;
}

void GatewayFastPath::RunCompartment(WorkerContext& ctx, Pipeline* pipeline, PerWorker& pw,
                                     GwBatch& b, const CompartmentView& cv,
                                     bool from_input) noexcept {
  GwContext g{ctx, pw.state, b, *tables_, cv, pw.state.c[cv.id], pipeline == nullptr};
  if (from_input) pw.path.FromInput(g, pw.run);
  else pw.path.FromPreRoute(g, pw.run);
  pw.run.n = 0;
  if (pipeline != nullptr && b.n_vm != 0) {  // inside a flush GwRewrite defers them
    ToVmNetwork(ctx, *pipeline, cv.vm_port, b.to_vm, b.n_vm);
    b.n_vm = 0;
  }
}

void GatewayFastPath::Receive(WorkerContext& ctx, Pipeline& pipeline, uint16_t port,
                              rte_mbuf** pkts, uint16_t n) noexcept {
  PerWorker& pw = Of(ctx);
  GwWorkerState& w = pw.state;
  const GatewaySnapshot& s = *tables_->snapshot();
  if (port < kMaxPorts) {  // the port's own counters (hnvctl counters), as the HNV stages keep
    ctx.counters->rx_packets[port] += n;
    for (uint16_t i = 0; i < n; ++i) ctx.counters->rx_bytes[port] += rte_pktmbuf_pkt_len(pkts[i]);
  }
  for (uint16_t off = 0; off < n; off += kBurstSize) {
    const uint16_t k = n - off < kBurstSize ? n - off : kBurstSize;
    GwBatch b;
    const CompartmentView* run_cv = nullptr;
    for (uint16_t i = 0; i < k; ++i) {
      rte_mbuf* m = pkts[off + i];
      if (!MakeContiguous(m) || rte_pktmbuf_data_len(m) < kEthLen) {
        ++w.g.drop[static_cast<size_t>(GlobalDrop::kUnclassifiable)];
        rte_pktmbuf_free(m);
        continue;
      }
      const uint8_t* d = Data(m);
      uint16_t type;
      std::memcpy(&type, d + 12, 2);
      uint16_t vlan = 0;
      if (type == Be16::FromHost(kEtherTypeVlan).raw()) {
        uint16_t tci;
        if (rte_pktmbuf_data_len(m) < kEthLen + kVlanLen) {
          ++w.g.drop[static_cast<size_t>(GlobalDrop::kUnclassifiable)];
          rte_pktmbuf_free(m);
          continue;
        }
        std::memcpy(&tci, d + 14, 2);
        vlan = Be16::FromRaw(tci).ToHost() & 0x0fff;
      } else if (type == Be16::FromHost(kEtherTypeQinQ).raw()) {
        ++w.g.drop[static_cast<size_t>(GlobalDrop::kUnclassifiable)];
        rte_pktmbuf_free(m);
        continue;
      } else if ((m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) != 0) {
        vlan = m->vlan_tci & 0x0fff;  // the NIC took the tag off
      }
      const uint32_t hit = s.classify.Find(GatewaySnapshot::ClassifyKey(port, vlan));
      const CompartmentView* cv = hit == FlatU32Map::kMissing ? nullptr : s.Compartment(hit >> 8);
      if (cv == nullptr) {
        ++w.g.drop[static_cast<size_t>(GlobalDrop::kNoCompartment)];
        if (port < kMaxPorts) ++w.g.no_compartment[port];
        rte_pktmbuf_free(m);
        continue;
      }
      Add(w.c[cv->id].rx_external, m);
      if (cv != run_cv && run_cv != nullptr) RunCompartment(ctx, &pipeline, pw, b, *run_cv, true);
      run_cv = cv;
      GwMeta* gm = Gw(m);
      gm->compartment = static_cast<uint16_t>(cv->id);
      gm->in_iface = static_cast<uint8_t>(hit & 0xff);
      gm->flags = 0;
      pw.run.pkts[pw.run.n++] = m;
    }
    if (run_cv != nullptr) RunCompartment(ctx, &pipeline, pw, b, *run_cv, true);
    FlushPunts(b, w);
  }
}

void GatewayFastPath::DeliverVirtual(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts,
                                     uint16_t n) noexcept {
  PerWorker& pw = Of(ctx);
  GwWorkerState& w = pw.state;
  const GatewaySnapshot& s = *tables_->snapshot();
  const uint16_t owner = port < kMaxPorts ? s.vm_port_owner[port] : GatewaySnapshot::kNone;
  const CompartmentView* cv = owner == GatewaySnapshot::kNone ? nullptr : s.Compartment(owner);
  if (cv == nullptr) {
    w.g.drop[static_cast<size_t>(GlobalDrop::kNoCompartment)] += n;
    if (port < kMaxPorts) w.g.no_compartment[port] += n;
    rte_pktmbuf_free_bulk(pkts, n);
    return;
  }
  Capture(port, pkts, n);
  CompartmentCounters& c = w.c[cv->id];
  for (uint16_t off = 0; off < n; off += kBurstSize) {
    const uint16_t k = n - off < kBurstSize ? n - off : kBurstSize;
    GwBatch b;
    for (uint16_t i = 0; i < k; ++i) {
      rte_mbuf* m = pkts[off + i];
      Add(c.rx_vm, m);
      if (!MakeContiguous(m) || rte_pktmbuf_data_len(m) < kEthLen) {
        ++c.drop[static_cast<size_t>(GwDrop::kMalformed)];
        rte_pktmbuf_free(m);
        continue;
      }
      GwMeta* gm = Gw(m);
      gm->compartment = static_cast<uint16_t>(cv->id);
      gm->in_iface = 0;
      gm->flags = 0;
      pw.run.pkts[pw.run.n++] = m;
    }
    RunCompartment(ctx, nullptr, pw, b, *cv, true);
    FlushPunts(b, w);
  }
}

void GatewayFastPath::ReceiveHandoff(WorkerContext& ctx, Pipeline& pipeline, rte_mbuf** pkts,
                                     uint16_t n) noexcept {
  PerWorker& pw = Of(ctx);
  GwWorkerState& w = pw.state;
  const GatewaySnapshot& s = *tables_->snapshot();
  GwBatch b;
  const CompartmentView* run_cv = nullptr;
  uint16_t vm_port = kNoPort;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const GwMeta* gm = Gw(m);
    const CompartmentView* cv = s.Compartment(gm->compartment);
    if (cv == nullptr) {
      ++w.g.drop[static_cast<size_t>(GlobalDrop::kHandoffGone)];
      rte_pktmbuf_free(m);
      continue;
    }
    const bool to_vm = gm->resume == GwMeta::Resume::kToVm;
    // A run is frames of one compartment resuming at one place.
    if (run_cv != nullptr && (cv != run_cv || (vm_port != kNoPort) != to_vm)) {
      if (vm_port != kNoPort) {
        ToVmNetwork(ctx, pipeline, vm_port, pw.run.pkts, pw.run.n);
        pw.run.n = 0;
      } else {
        RunCompartment(ctx, &pipeline, pw, b, *run_cv, false);
      }
    }
    run_cv = cv;
    vm_port = to_vm ? cv->vm_port : kNoPort;
    pw.run.pkts[pw.run.n++] = m;
  }
  if (run_cv != nullptr) {
    if (vm_port != kNoPort) {
      ToVmNetwork(ctx, pipeline, vm_port, pw.run.pkts, pw.run.n);
      pw.run.n = 0;
    } else {
      RunCompartment(ctx, &pipeline, pw, b, *run_cv, false);
    }
  }
  FlushPunts(b, w);
}

void GatewayFastPath::Poll(WorkerContext& ctx, Pipeline& pipeline) noexcept {
  if (ctx.worker_id != 0 || rings_.from_kernel == nullptr) return;
  GwWorkerState& w = Of(ctx).state;
  const GatewaySnapshot& s = *tables_->snapshot();
  // A bounded drain: the kernel must not starve the ports.
  for (int round = 0; round < 4; ++round) {
    rte_mbuf* pkts[kBurstSize];
    const unsigned n = rte_ring_sc_dequeue_burst(rings_.from_kernel, reinterpret_cast<void**>(pkts),
                                                 kBurstSize, nullptr);
    if (n == 0) return;
    rte_mbuf* group[kBurstSize];
    uint16_t g = 0;
    uint16_t group_port = kNoPort;
    for (unsigned i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      const TapId tap = m->port;
      const CompartmentView* cv = s.Compartment(CompartmentOfTap(tap));
      const uint8_t iface = InterfaceOfTap(tap);
      if (cv == nullptr || iface >= cv->iface_count) {
        ++w.g.drop[static_cast<size_t>(GlobalDrop::kInjectUnknown)];
        rte_pktmbuf_free(m);
        continue;
      }
      CompartmentCounters& c = w.c[cv->id];
      m->ol_flags = 0;
      m->vlan_tci = 0;
      if (iface == 0) {
        if (g != 0 && group_port != cv->vm_port) {
          ToVmNetwork(ctx, pipeline, group_port, group, g);
          g = 0;
        }
        group_port = cv->vm_port;
        Add(c.inject_vm, m);
        group[g++] = m;
        continue;
      }
      const IfaceView& out = cv->ifaces[iface];
      if (out.vlan != 0) {
        if (rte_pktmbuf_data_len(m) < kEthLen) {
          ++c.drop[static_cast<size_t>(GwDrop::kMalformed)];
          rte_pktmbuf_free(m);
          continue;
        }
        uint8_t* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, kVlanLen));
        if (d == nullptr) {
          ++c.drop[static_cast<size_t>(GwDrop::kNoHeadroom)];
          rte_pktmbuf_free(m);
          continue;
        }
        std::memmove(d, d + kVlanLen, 2 * sizeof(MacAddr));
        const Be16 tpid = Be16::FromHost(kEtherTypeVlan);
        const Be16 tci = Be16::FromHost(out.vlan);
        std::memcpy(d + 12, &tpid, 2);
        std::memcpy(d + 14, &tci, 2);
      }
      Add(c.inject_external, m);
      ctx.Transmit(out.port, m);
    }
    if (g != 0) ToVmNetwork(ctx, pipeline, group_port, group, g);
    if (n < kBurstSize) return;
  }
}

void GatewayFastPath::OnWorkers(const std::function<void(uint32_t worker)>& fn) const {
  if (run_) {
    run_(fn);
    return;
  }
  for (uint32_t w = 0; w < worker_count_; ++w) fn(w);
}

bool GatewayFastPath::SetVmCapture(uint16_t vm_port, CaptureBuffer* buf) {
  if (vm_capture_.load(std::memory_order_relaxed) != nullptr) return false;
  vm_capture_state_ = VmCapture{vm_port, buf};
  vm_capture_.store(&vm_capture_state_, std::memory_order_release);
  return true;
}

CompartmentCounters GatewayFastPath::Counters(uint32_t id) const {
  CompartmentCounters sum;
  if (id >= kMaxCompartments) return sum;
  Refresh();
  auto add = [](PacketsBytes& to, const PacketsBytes& a, const PacketsBytes& base) {
    to.packets += a.packets - base.packets;
    to.bytes += a.bytes - base.bytes;
  };
  const CompartmentCounters zero;
  for (uint32_t wi = 0; wi < worker_count_; ++wi) {
    const CompartmentCounters& c = View(wi).c[id];
    const CompartmentCounters& base = wi == 0 ? base_[id] : zero;
    add(sum.rx_vm, c.rx_vm, base.rx_vm);
    add(sum.rx_external, c.rx_external, base.rx_external);
    add(sum.fwd_external, c.fwd_external, base.fwd_external);
    add(sum.fwd_vm, c.fwd_vm, base.fwd_vm);
    add(sum.inject_vm, c.inject_vm, base.inject_vm);
    add(sum.inject_external, c.inject_external, base.inject_external);
    add(sum.punted, c.punted, base.punted);
    for (size_t i = 0; i < kPuntCount; ++i) sum.punt[i] += c.punt[i] - base.punt[i];
    for (size_t i = 0; i < kGwDropCount; ++i) sum.drop[i] += c.drop[i] - base.drop[i];
  }
  return sum;
}

void GatewayFastPath::ResetCounters(uint32_t id) {
  if (id >= kMaxCompartments) return;
  // Counters() subtracts the base once (with worker 0): with a zero base it
  // returns the current sum, which becomes the base.
  base_[id] = CompartmentCounters{};
  base_[id] = Counters(id);
}

GlobalCounters GatewayFastPath::Global() const {
  GlobalCounters sum;
  Refresh();
  for (uint32_t wi = 0; wi < worker_count_; ++wi) {
    const GlobalCounters& g = View(wi).g;
    for (size_t i = 0; i < kGlobalDropCount; ++i) sum.drop[i] += g.drop[i];
    for (size_t p = 0; p < kMaxPorts; ++p) sum.no_compartment[p] += g.no_compartment[p];
  }
  return sum;
}

}  // namespace hnv::gateway
