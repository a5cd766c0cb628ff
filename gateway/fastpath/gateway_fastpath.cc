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

// Removes an in-band 802.1Q tag (l2_len 18) so the frame is plain Ethernet.
inline void StripTag(rte_mbuf* m, uint16_t l2_len) noexcept {
  if (l2_len != kEthLen + kVlanLen) return;
  uint8_t* d = Data(m);
  std::memmove(d + kVlanLen, d, 2 * sizeof(MacAddr));
  rte_pktmbuf_adj(m, kVlanLen);
}

// Writes a fresh Ethernet header (with a tag when vlan != 0) in front of the
// L3 packet that starts at `l2_len`; trims anything after `l3_len` bytes of
// it (Ethernet padding). False when there is no headroom for the tag.
inline bool RewriteL2(rte_mbuf* m, uint16_t l2_len, uint16_t l3_len, const MacAddr& dst,
                      const MacAddr& src, uint16_t vlan, uint16_t ether_type) noexcept {
  const uint32_t want_len = uint32_t{l2_len} + l3_len;
  if (rte_pktmbuf_data_len(m) > want_len) rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - want_len);
  const uint16_t new_l2 = vlan != 0 ? kEthLen + kVlanLen : kEthLen;
  if (new_l2 < l2_len) {
    rte_pktmbuf_adj(m, l2_len - new_l2);
  } else if (new_l2 > l2_len) {
    if (rte_pktmbuf_prepend(m, new_l2 - l2_len) == nullptr) return false;
  }
  uint8_t* d = Data(m);
  std::memcpy(d, dst.b.data(), 6);
  std::memcpy(d + 6, src.b.data(), 6);
  if (vlan != 0) {
    const Be16 tpid = Be16::FromHost(kEtherTypeVlan);
    const Be16 tci = Be16::FromHost(vlan);
    std::memcpy(d + 12, &tpid, 2);
    std::memcpy(d + 14, &tci, 2);
  }
  const Be16 type = Be16::FromHost(ether_type);
  std::memcpy(d + new_l2 - 2, &type, 2);
  m->ol_flags = 0;
  m->vlan_tci = 0;
  return true;
}

inline bool IsGroupV4(uint32_t dst_host) noexcept {
  return (dst_host >> 28) == 0xe || dst_host == 0xffffffffu;
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

struct GatewayFastPath::Batch {
  rte_mbuf* punt[kBurstSize];
  // Recorded before the enqueue: once in the ring an mbuf is the punt thread's.
  uint32_t punt_bytes[kBurstSize];
  uint8_t punt_compartment[kBurstSize];
  Punt punt_why[kBurstSize];
  uint16_t n_punt = 0;
  rte_mbuf* to_vm[kBurstSize];
  uint16_t to_vm_port[kBurstSize];
  uint16_t n_vm = 0;
};

GatewayFastPath::GatewayFastPath(const GatewayTables* tables, PuntRings rings, uint32_t workers)
    : tables_(tables),
      rings_(rings),
      worker_count_(workers == 0 ? 1 : workers),
      workers_(std::make_unique<WorkerState[]>(worker_count_)),
      base_(std::make_unique<CompartmentCounters[]>(kMaxCompartments)) {}

GatewayFastPath::~GatewayFastPath() = default;

void GatewayFastPath::ToKernel(WorkerState& w, uint32_t compartment, uint8_t iface, rte_mbuf* m,
                               Punt why, uint16_t l2_len, Batch& b) noexcept {
  (void)w;
  StripTag(m, l2_len);
  m->ol_flags = 0;
  m->vlan_tci = 0;
  m->port = TapIdOf(compartment, iface);
  b.punt[b.n_punt] = m;
  b.punt_bytes[b.n_punt] = rte_pktmbuf_pkt_len(m);
  b.punt_compartment[b.n_punt] = static_cast<uint8_t>(compartment);
  b.punt_why[b.n_punt++] = why;
}

void GatewayFastPath::FlushPunts(Batch& b, WorkerState& w) noexcept {
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

void GatewayFastPath::RouteV4(WorkerContext& ctx, WorkerState& w, const CompartmentView& cv,
                              uint8_t in_iface, rte_mbuf* m, const ParsedFrame& pf,
                              Batch& b) noexcept {
  const uint32_t id = cv.id;
  CompartmentCounters& c = w.c[id];
  auto* ip = reinterpret_cast<Ipv4Hdr*>(Data(m) + pf.l3_offset);
  if (!Ipv4HeaderChecksumOk(ip)) {
    ++c.drop[static_cast<size_t>(GwDrop::kBadChecksum)];
    rte_pktmbuf_free(m);
    return;
  }
  uint32_t dst_be;
  std::memcpy(&dst_be, ip->dst, 4);
  const uint32_t dst = HostToNet(dst_be);
  if (IsGroupV4(dst)) return ToKernel(w, id, in_iface, m, Punt::kGroup, pf.l3_offset, b);
  if (ip->ttl <= 1) return ToKernel(w, id, in_iface, m, Punt::kTtl, pf.l3_offset, b);
  uint32_t nh = 0;
  if (rte_lpm_lookup(cv.lpm, dst, &nh) != 0) {
    if (cv.default_adj == CompartmentView::kNoDefault)
      return ToKernel(w, id, in_iface, m, Punt::kNoRoute, pf.l3_offset, b);
    nh = cv.default_adj;
  }
  const Adjacency a = cv.adj[nh];
  switch (a.kind) {
    case NextHopKind::kForward:
      break;
    case NextHopKind::kLocal:
      return ToKernel(w, id, in_iface, m, Punt::kLocal, pf.l3_offset, b);
    case NextHopKind::kPunt:
      return ToKernel(w, id, in_iface, m, Punt::kRoute, pf.l3_offset, b);
    case NextHopKind::kBlackhole:
    default:
      ++c.drop[static_cast<size_t>(GwDrop::kBlackhole)];
      rte_pktmbuf_free(m);
      return;
  }
  if (a.iface >= cv.iface_count) {
    ++c.drop[static_cast<size_t>(GwDrop::kNoInterface)];
    rte_pktmbuf_free(m);
    return;
  }
  // DeliverVirtual must not re-enter the pipeline: the kernel routes hairpins.
  if (a.iface == 0 && in_iface == 0)
    return ToKernel(w, id, in_iface, m, Punt::kHairpin, pf.l3_offset, b);
  const NeighborEntry* nb =
      tables_->FindNeighborV4(id, a.iface, a.gateway != 0 ? a.gateway : dst);
  if (nb == nullptr) return ToKernel(w, id, in_iface, m, Punt::kNoNeighbor, pf.l3_offset, b);
  const IfaceView& out = cv.ifaces[a.iface];
  if (pf.l3_len > out.mtu) return ToKernel(w, id, in_iface, m, Punt::kTooBig, pf.l3_offset, b);
  if (!RewriteL2(m, pf.l3_offset, pf.l3_len, nb->mac, out.mac, out.vlan, kEtherTypeIpv4)) {
    ++c.drop[static_cast<size_t>(GwDrop::kNoHeadroom)];
    rte_pktmbuf_free(m);
    return;
  }
  Ipv4DecrementTtl(reinterpret_cast<Ipv4Hdr*>(Data(m) + (out.vlan != 0 ? kEthLen + kVlanLen : kEthLen)));
  if (a.iface == 0) {
    Add(c.fwd_vm, m);
    b.to_vm[b.n_vm] = m;
    b.to_vm_port[b.n_vm++] = cv.vm_port;
  } else {
    Add(c.fwd_external, m);
    ctx.Transmit(out.port, m);
  }
}

// One frame of compartment `cv` received on `iface` (0: from the VM network).
void GatewayFastPath::HandleOne(WorkerContext& ctx, WorkerState& w, const CompartmentView& cv,
                                uint8_t iface, rte_mbuf* m, Batch& b) noexcept {
  CompartmentCounters& c = w.c[cv.id];
  ParsedFrame pf;
  const ParseError err = ParseFrame(Data(m), rte_pktmbuf_data_len(m), &pf);
  const auto* eth = reinterpret_cast<const EthHdr*>(Data(m));
  const IfaceView& in = cv.ifaces[iface];
  const bool group = eth->dst.IsMulticast();
  if (!group && eth->dst != in.mac) {
    ++c.drop[static_cast<size_t>(GwDrop::kNotForUs)];
    rte_pktmbuf_free(m);
    return;
  }
  // From the VM network frames are untagged (the pipeline delivers them so).
  if (err != ParseError::kOk && !(err == ParseError::kTruncatedL4 && pf.l3 == L3Kind::kIpv4)) {
    ++c.drop[static_cast<size_t>(GwDrop::kMalformed)];
    rte_pktmbuf_free(m);
    return;
  }
  if (iface == 0 && pf.has_vlan) {
    ++c.drop[static_cast<size_t>(GwDrop::kMalformed)];
    rte_pktmbuf_free(m);
    return;
  }
  switch (pf.l3) {
    case L3Kind::kIpv4:
      if (group) return ToKernel(w, cv.id, iface, m, Punt::kGroup, pf.l3_offset, b);
      return RouteV4(ctx, w, cv, iface, m, pf, b);
    case L3Kind::kArp:
      return ToKernel(w, cv.id, iface, m, Punt::kArp, pf.l3_offset, b);
    case L3Kind::kIpv6:
      return ToKernel(w, cv.id, iface, m, Punt::kIpv6, pf.l3_offset, b);
    default:
      return ToKernel(w, cv.id, iface, m, group ? Punt::kGroup : Punt::kNotIp, pf.l3_offset, b);
  }
}

void GatewayFastPath::Receive(WorkerContext& ctx, Pipeline& pipeline, uint16_t port,
                              rte_mbuf** pkts, uint16_t n) noexcept {
  WorkerState& w = StateOf(ctx);
  const GatewaySnapshot& s = *tables_->snapshot();
  if (port < kMaxPorts) {  // the port's own counters (hnvctl counters), as the HNV stages keep
    ctx.counters->rx_packets[port] += n;
    for (uint16_t i = 0; i < n; ++i) ctx.counters->rx_bytes[port] += rte_pktmbuf_pkt_len(pkts[i]);
  }
  for (uint16_t off = 0; off < n; off += kBurstSize) {
    const uint16_t k = n - off < kBurstSize ? n - off : kBurstSize;
    Batch b;
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
      HandleOne(ctx, w, *cv, static_cast<uint8_t>(hit & 0xff), m, b);
    }
    FlushPunts(b, w);
    // Into the VM network: one ProcessRx per vm_port, frames in arrival order.
    for (uint16_t i = 0; i < b.n_vm; ++i) {
      if (b.to_vm[i] == nullptr) continue;
      const uint16_t vm_port = b.to_vm_port[i];
      rte_mbuf* group[kBurstSize];
      uint16_t g = 0;
      for (uint16_t j = i; j < b.n_vm; ++j) {
        if (b.to_vm[j] != nullptr && b.to_vm_port[j] == vm_port) {
          group[g++] = b.to_vm[j];
          b.to_vm[j] = nullptr;
        }
      }
      pipeline.ProcessRx(ctx, vm_port, group, g);
    }
  }
}

void GatewayFastPath::DeliverVirtual(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts,
                                     uint16_t n) noexcept {
  WorkerState& w = StateOf(ctx);
  const GatewaySnapshot& s = *tables_->snapshot();
  const uint16_t owner = port < kMaxPorts ? s.vm_port_owner[port] : GatewaySnapshot::kNone;
  const CompartmentView* cv = owner == GatewaySnapshot::kNone ? nullptr : s.Compartment(owner);
  if (cv == nullptr) {
    w.g.drop[static_cast<size_t>(GlobalDrop::kNoCompartment)] += n;
    if (port < kMaxPorts) w.g.no_compartment[port] += n;
    rte_pktmbuf_free_bulk(pkts, n);
    return;
  }
  for (uint16_t off = 0; off < n; off += kBurstSize) {
    const uint16_t k = n - off < kBurstSize ? n - off : kBurstSize;
    Batch b;
    for (uint16_t i = 0; i < k; ++i) {
      rte_mbuf* m = pkts[off + i];
      Add(w.c[cv->id].rx_vm, m);
      if (!MakeContiguous(m) || rte_pktmbuf_data_len(m) < kEthLen) {
        ++w.c[cv->id].drop[static_cast<size_t>(GwDrop::kMalformed)];
        rte_pktmbuf_free(m);
        continue;
      }
      HandleOne(ctx, w, *cv, 0, m, b);
    }
    FlushPunts(b, w);
    // RouteV4 never sends a frame from interface 0 back to it (kHairpin).
  }
}

void GatewayFastPath::Poll(WorkerContext& ctx, Pipeline& pipeline) noexcept {
  if (ctx.worker_id != 0 || rings_.from_kernel == nullptr) return;
  WorkerState& w = StateOf(ctx);
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
          pipeline.ProcessRx(ctx, group_port, group, g);
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
    if (g != 0) pipeline.ProcessRx(ctx, group_port, group, g);
    if (n < kBurstSize) return;
  }
}

CompartmentCounters GatewayFastPath::Counters(uint32_t id) const {
  CompartmentCounters sum;
  if (id >= kMaxCompartments) return sum;
  auto add = [](PacketsBytes& to, const PacketsBytes& a, const PacketsBytes& base) {
    to.packets += a.packets - base.packets;
    to.bytes += a.bytes - base.bytes;
  };
  const CompartmentCounters zero;
  for (uint32_t wi = 0; wi < worker_count_; ++wi) {
    const CompartmentCounters& c = workers_[wi].c[id];
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
  for (uint32_t wi = 0; wi < worker_count_; ++wi) {
    const GlobalCounters& g = workers_[wi].g;
    for (size_t i = 0; i < kGlobalDropCount; ++i) sum.drop[i] += g.drop[i];
    for (size_t p = 0; p < kMaxPorts; ++p) sum.no_compartment[p] += g.no_compartment[p];
  }
  return sum;
}

}  // namespace hnv::gateway
